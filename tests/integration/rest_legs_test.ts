import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { addFakeLeg } from "../helpers/fake_leg.ts";

Deno.test("GET /v1/legs lists live legs as a bare array of Leg objects", async () => {
  const srv = await startTestServer();
  try {
    assert.deepEqual((await call(srv.url, "GET", "/v1/legs")).json, []);
    const leg = addFakeLeg(srv.ctx, { appId: "acme" });
    const list = await call(srv.url, "GET", "/v1/legs");
    assert.equal(list.status, 200);
    assert.deepEqual(list.json, [{
      id: leg.id,
      type: "websocket_in",
      state: "connected",
      muted: false,
      deaf: false,
      accept_dtmf: true,
      held: false,
      app_id: "acme",
    }]);
    const one = await call(srv.url, "GET", `/v1/legs/${leg.id}`);
    assert.equal(one.status, 200);
    assert.equal(Object.keys(one.json)[0], "instance_id");
    assert.equal(one.json.id, leg.id);
  } finally {
    await srv.shutdown();
  }
});

Deno.test("GET and DELETE of an unknown leg are 404 'leg not found'", async () => {
  const srv = await startTestServer();
  try {
    for (const m of ["GET", "DELETE"]) {
      const r = await call(srv.url, m, "/v1/legs/does-not-exist");
      assert.equal(r.status, 404);
      assert.equal(r.json.error, "leg not found");
    }
  } finally {
    await srv.shutdown();
  }
});

Deno.test("DELETE /v1/legs/{id} answers 202 and publishes one leg.disconnected with the CDR", async () => {
  const srv = await startTestServer();
  const rec = recordEvents(srv);
  try {
    const leg = addFakeLeg(srv.ctx);
    const r = await call(srv.url, "DELETE", `/v1/legs/${leg.id}`);
    assert.equal(r.status, 202);
    assert.equal(r.json.status, "hanging_up");
    await leg.hangup("ignored-second-claim");
    const disc = rec.events.filter((e) => e.type === "leg.disconnected");
    assert.equal(disc.length, 1, "claim-once: exactly one leg.disconnected");
    const body = JSON.parse(disc[0].json);
    assert.equal(body.leg_id, leg.id);
    assert.equal(body.cdr.reason, "api_hangup");
    assert.equal(typeof body.cdr.duration_total, "number");
    assert.equal(typeof body.cdr.duration_answered, "number");
    assert.equal("leg_type" in body, false);
    assert.deepEqual(leg.terminations, ["api_hangup"]);
    assert.equal((await call(srv.url, "DELETE", `/v1/legs/${leg.id}`)).status, 404);
  } finally {
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("DELETE /v1/legs/{id} with an unknown reason is 400 only while the call can be rejected", async () => {
  const srv = await startTestServer();
  const rec = recordEvents(srv);
  try {
    const ringing = addFakeLeg(srv.ctx, { type: "sip_inbound", state: "ringing" });
    const bad = await call(srv.url, "DELETE", `/v1/legs/${ringing.id}`, { reason: "because" });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /^invalid reason: "because" \(allowed: busy, declined/);
    assert.equal(
      srv.ctx.legs.get(ringing.id)?.state,
      "ringing",
      "a rejected request changes nothing",
    );
    const ok = await call(srv.url, "DELETE", `/v1/legs/${ringing.id}`, { reason: "busy" });
    assert.equal(ok.status, 202);
    const connected = addFakeLeg(srv.ctx);
    const ignored = await call(srv.url, "DELETE", `/v1/legs/${connected.id}`, {
      reason: "because",
    });
    assert.equal(ignored.status, 202);
    await new Promise((r) => setTimeout(r, 10));
    const reasons = rec.events.filter((e) => e.type === "leg.disconnected")
      .map((e) => (e.envelope.cdr as { reason: string }).reason);
    assert.deepEqual(reasons, ["busy", "api_hangup"]);
    const malformed = await call(srv.url, "DELETE", `/v1/legs/${connected.id}`, "{");
    assert.equal(malformed.status, 400);
  } finally {
    rec.stop();
    await srv.shutdown();
  }
});
