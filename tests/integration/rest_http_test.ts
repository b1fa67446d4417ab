import assert from "node:assert/strict";
import { call, startTestServer } from "../helpers/server.ts";

Deno.test("a wrong method on a known path is JSON 405 with an Allow header", async () => {
  const srv = await startTestServer();
  try {
    const r = await call(srv.url, "PUT", "/v1/rooms", {});
    assert.equal(r.status, 405);
    assert.equal(r.json.error, "method PUT not allowed on /v1/rooms");
    assert.equal(r.headers.get("allow"), "POST, GET, OPTIONS");
    const r2 = await call(srv.url, "POST", "/v1/legs/abc");
    assert.equal(r2.status, 405);
  } finally {
    await srv.shutdown();
  }
});

Deno.test("an unknown path is a JSON 404", async () => {
  const srv = await startTestServer();
  try {
    const r = await call(srv.url, "GET", "/v1/nothing-here");
    assert.equal(r.status, 404);
    assert.equal(r.json.error, "no route for GET /v1/nothing-here");
    assert.equal(typeof r.json.instance_id, "string");
  } finally {
    await srv.shutdown();
  }
});

Deno.test("a body over 1 MiB is 413 and creates nothing", async () => {
  const srv = await startTestServer();
  try {
    const big = JSON.stringify({ id: "big", app_id: "x".repeat(1 << 20) });
    const r = await call(srv.url, "POST", "/v1/rooms", big);
    assert.equal(r.status, 413);
    assert.match(r.json.error, /^request body too large/);
    assert.deepEqual((await call(srv.url, "GET", "/v1/rooms")).json, []);
  } finally {
    await srv.shutdown();
  }
});

Deno.test("CORS: OPTIONS preflight is 204 and responses allow any origin", async () => {
  const srv = await startTestServer();
  try {
    const pre = await call(srv.url, "OPTIONS", "/v1/rooms", undefined, {
      origin: "http://app.test",
      "access-control-request-method": "DELETE",
      "access-control-request-headers": "content-type",
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get("access-control-allow-origin"), "*");
    assert.match(pre.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.match(pre.headers.get("access-control-allow-methods") ?? "", /DELETE/);
    assert.match(pre.headers.get("access-control-allow-headers") ?? "", /Content-Type/i);
    const get = await call(srv.url, "GET", "/v1/rooms", undefined, { origin: "http://app.test" });
    assert.equal(get.headers.get("access-control-allow-origin"), "*");
  } finally {
    await srv.shutdown();
  }
});

Deno.test("GET /v1/openapi.json serves a 3.1 document generated from the routes", async () => {
  const srv = await startTestServer();
  try {
    const r = await call(srv.url, "GET", "/v1/openapi.json");
    assert.equal(r.status, 200);
    assert.equal(r.json.openapi, "3.1.0");
    for (
      const p of [
        "/v1/rooms",
        "/v1/rooms/{id}",
        "/v1/legs",
        "/v1/legs/{id}",
        "/v1/webhooks",
        "/v1/vsi",
        "/metrics",
      ]
    ) {
      assert.ok(r.json.paths[p], `missing path ${p}`);
    }
    assert.equal(r.json.paths["/v1/rooms"].post.operationId, "createRoom");
    assert.ok(r.json.components.schemas.Room);
    assert.ok(r.json.components.schemas.Leg);
    assert.deepEqual(
      r.json.components.schemas.RoomCreateRequest.properties.sample_rate.enum,
      [8000, 16000, 48000],
    );
  } finally {
    await srv.shutdown();
  }
});

Deno.test("GET /metrics exposes the voiceblender gauges and counters", async () => {
  const srv = await startTestServer();
  try {
    await call(srv.url, "POST", "/v1/rooms", { id: "m1" });
    const r = await call(srv.url, "GET", "/metrics");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/plain/);
    assert.match(r.text, /^voiceblender_active_rooms 1$/m);
    assert.match(r.text, /^voiceblender_active_legs 0$/m);
    assert.match(r.text, /^voiceblender_webhook_deliveries_total\{outcome="success"\} 0$/m);
    assert.match(r.text, /^voiceblender_webhook_enqueued_total 0$/m);
    assert.match(r.text, /^voiceblender_vsi_events_dropped_total 0$/m);
    assert.match(r.text, /^# TYPE voiceblender_call_duration_seconds histogram$/m);
  } finally {
    await srv.shutdown();
  }
});

Deno.test("POST/GET/DELETE /v1/webhooks manage receivers and never return a secret", async () => {
  const srv = await startTestServer();
  try {
    const created = await call(srv.url, "POST", "/v1/webhooks", {
      url: "http://127.0.0.1:9/hook",
      secret: "s3cret",
      events: ["leg.*", "room.created"],
    });
    assert.equal(created.status, 201);
    assert.equal(created.json.url, "http://127.0.0.1:9/hook");
    assert.equal(created.json.has_secret, true);
    assert.deepEqual(created.json.events, ["leg.*", "room.created"]);
    assert.equal(created.text.includes("s3cret"), false);
    const list = await call(srv.url, "GET", "/v1/webhooks");
    assert.equal(list.status, 200);
    assert.equal(list.json.length, 1);
    assert.equal(list.text.includes("s3cret"), false);
    const del = await call(srv.url, "DELETE", `/v1/webhooks/${created.json.id}`);
    assert.equal(del.status, 200);
    assert.equal(del.json.status, "deleted");
    const again = await call(srv.url, "DELETE", `/v1/webhooks/${created.json.id}`);
    assert.equal(again.status, 404);
    assert.equal(again.json.error, "webhook not found");
  } finally {
    await srv.shutdown();
  }
});

Deno.test("POST /v1/webhooks rejects a missing body, a bad URL and a bad event filter", async () => {
  const srv = await startTestServer();
  try {
    const cases: [unknown, string][] = [
      [undefined, "request body is required"],
      [{}, "invalid url: Invalid input: expected string, received undefined"],
      [{ url: "not a url" }, "invalid url: must be an absolute http:// or https:// URL"],
      [
        { url: "http://127.0.0.1/x", events: ["Leg Connected"] },
        "invalid events.0: must be an event type such as leg.connected or a prefix wildcard such as leg.*",
      ],
    ];
    for (const [body, message] of cases) {
      const r = await call(srv.url, "POST", "/v1/webhooks", body);
      assert.equal(r.status, 400);
      assert.equal(r.json.error, message);
    }
    assert.deepEqual((await call(srv.url, "GET", "/v1/webhooks")).json, []);
  } finally {
    await srv.shutdown();
  }
});
