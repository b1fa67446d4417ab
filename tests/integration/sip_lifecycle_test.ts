/**
 * SIP call lifecycles between two in-process servers: the caller cancels while ringing, the ring
 * timeout cancels, the callee hangs up with a BYE, max_duration ends a connected call, and DTMF
 * flows from callee to caller. Each checks both sides' CDR reasons.
 */
import assert from "node:assert/strict";
import { call } from "../helpers/server.ts";
import { waitFor } from "../helpers/pcm_client.ts";
import { connect, find, serverFactory, waitEvent, withPair } from "../helpers/sip_pair.ts";
import type { RunningServer } from "../../src/server.ts";

const server = serverFactory(38000);

async function dial(a: RunningServer, b: RunningServer, extra: Record<string, unknown> = {}) {
  const created = await call(a.url, "POST", "/v1/legs", {
    type: "sip",
    to: `sip:bob@127.0.0.1:${b.sipPort}`,
    codecs: ["PCMU"],
    ...extra,
  });
  assert.equal(created.status, 201, created.text);
  return created.json.id as string;
}

Deno.test("the caller hanging up while ringing CANCELs: api_hangup on A, caller_cancel on B", async () => {
  await withPair(server, {}, async ({ a, b, recA, recB }) => {
    const out = await dial(a, b);
    const ringing = await waitEvent(recB, "leg.ringing");
    assert.equal((await call(b.url, "POST", `/v1/legs/${ringing.leg_id}/ring`)).status, 202);
    assert.equal((await call(a.url, "DELETE", `/v1/legs/${out}`)).status, 202);
    assert.equal((await waitEvent(recA, "leg.disconnected", out)).cdr.reason, "api_hangup");
    const endB = await waitEvent(recB, "leg.disconnected", ringing.leg_id);
    assert.equal(endB.cdr.reason, "caller_cancel");
    assert.equal(find(recB, "leg.connected"), undefined);
  });
});

Deno.test("ring_timeout cancels an unanswered call: ring_timeout on A, caller_cancel on B", async () => {
  await withPair(server, {}, async ({ a, b, recA, recB }) => {
    const started = performance.now();
    const out = await dial(a, b, { ring_timeout: 1 });
    const ringing = await waitEvent(recB, "leg.ringing");
    const endA = await waitEvent(recA, "leg.disconnected", out, 10_000);
    assert.equal(endA.cdr.reason, "ring_timeout");
    assert.ok(performance.now() - started >= 900, "not before the timeout");
    const endB = await waitEvent(recB, "leg.disconnected", ringing.leg_id);
    assert.equal(endB.cdr.reason, "caller_cancel");
  });
});

Deno.test("the callee's BYE ends both legs: api_hangup on B, remote_bye on A", async () => {
  await withPair(server, {}, async ({ a, b, recA, recB }) => {
    const { out, inb } = await connect(a, b, recA, recB, { codecs: ["PCMU"] });
    assert.equal((await call(b.url, "DELETE", `/v1/legs/${inb}`)).status, 202);
    assert.equal((await waitEvent(recB, "leg.disconnected", inb)).cdr.reason, "api_hangup");
    assert.equal((await waitEvent(recA, "leg.disconnected", out)).cdr.reason, "remote_bye");
    assert.equal(a.ctx.legs.size, 0);
    assert.equal(b.ctx.legs.size, 0);
  });
});

Deno.test("max_duration ends a connected call after its seconds with a BYE", async () => {
  await withPair(server, {}, async ({ a, b, recA, recB }) => {
    const { out, inb } = await connect(a, b, recA, recB, { codecs: ["PCMU"], max_duration: 1 });
    const connectedAt = performance.now();
    const endA = await waitEvent(recA, "leg.disconnected", out, 10_000);
    assert.equal(endA.cdr.reason, "max_duration");
    assert.ok(performance.now() - connectedAt >= 800, "about a second after connect");
    assert.equal((await waitEvent(recB, "leg.disconnected", inb)).cdr.reason, "remote_bye");
  });
});

Deno.test("DTMF sent on the callee's leg arrives on the caller's leg", async () => {
  await withPair(server, {}, async ({ a, b, recA, recB }) => {
    const { out, inb } = await connect(a, b, recA, recB, { codecs: ["PCMU"] });
    const r = await call(b.url, "POST", `/v1/legs/${inb}/dtmf`, { digits: "9*" });
    assert.equal(r.status, 200, r.text);
    await waitFor(
      () => recA.events.filter((e) => e.type === "dtmf.received").length >= 2,
      10_000,
      "two digits at A",
    );
    const got = recA.events.filter((e) => e.type === "dtmf.received").map((e) => e.envelope);
    assert.deepEqual(got.map((e) => e.digit), ["9", "*"]);
    assert.ok(got.every((e) => e.leg_id === out));
  });
});

Deno.test("an answer that cannot get RTP ports reports leg.command_failed and rejects the call with 500", async () => {
  // One RTP port pair on B: the first call takes it, the second cannot be given media.
  const oneRtpPair = { RTP_PORT_MIN: "39990", RTP_PORT_MAX: "39991" };
  await withPair(server, { b: oneRtpPair }, async ({ a, b, recA, recB }) => {
    const { out } = await connect(a, b, recA, recB, { codecs: ["PCMU"] });
    const second = await dial(a, b);
    await waitFor(
      () => recB.events.filter((e) => e.type === "leg.ringing").length >= 2,
      10_000,
      "second call rings",
    );
    const inb2 = recB.events.filter((e) => e.type === "leg.ringing")[1].envelope.leg_id as string;
    const r = await call(b.url, "POST", `/v1/legs/${inb2}/answer`);
    assert.equal(r.status, 202, "the answer is accepted; its failure comes as an event");
    const failed = await waitEvent(recB, "leg.command_failed", inb2);
    assert.equal(failed.command, "answer");
    assert.match(failed.error, /RTP port/);
    assert.equal((await waitEvent(recB, "leg.disconnected", inb2)).cdr.reason, "server_error");
    assert.equal((await waitEvent(recA, "leg.disconnected", second)).cdr.reason, "sip_500");
    assert.equal(find(recA, "leg.disconnected", out), undefined, "the first call is untouched");
  });
});

Deno.test("a call left on hold past the hold limit ends with rtp_timeout", async () => {
  await withPair(
    server,
    { aOptions: { sip: { heldLimitMs: 1500 } } },
    async ({ a, b, recA, recB }) => {
      const { out, inb } = await connect(a, b, recA, recB, { codecs: ["PCMU"] });
      assert.equal((await call(a.url, "POST", `/v1/legs/${out}/hold`)).status, 202);
      await waitEvent(recA, "leg.hold", out);
      const heldAt = performance.now();
      const end = await waitEvent(recA, "leg.disconnected", out, 10_000);
      assert.equal(end.cdr.reason, "rtp_timeout");
      assert.ok(performance.now() - heldAt >= 1200, "not before the limit");
      assert.equal((await waitEvent(recB, "leg.disconnected", inb)).cdr.reason, "remote_bye");
    },
  );
});
