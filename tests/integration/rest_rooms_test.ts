import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { addFakeLeg } from "../helpers/fake_leg.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

Deno.test("POST /v1/rooms creates a room with a generated id, default rate and instance_id first", async () => {
  const srv = await startTestServer({ INSTANCE_ID: "inst-1" });
  try {
    const r = await call(srv.url, "POST", "/v1/rooms", {});
    assert.equal(r.status, 201);
    assert.equal(r.headers.get("content-type"), "application/json");
    assert.equal(Object.keys(r.json)[0], "instance_id");
    assert.equal(r.json.instance_id, "inst-1");
    assert.match(r.json.id, UUID);
    assert.equal(r.json.sample_rate, 16000);
    assert.deepEqual(r.json.participants, []);
    assert.equal("app_id" in r.json, false);
  } finally {
    await srv.shutdown();
  }
});

Deno.test("POST /v1/rooms accepts caller ids, each allowed rate, an empty body and DEFAULT_SAMPLE_RATE", async () => {
  const srv = await startTestServer({ DEFAULT_SAMPLE_RATE: "8000" });
  try {
    const empty = await call(srv.url, "POST", "/v1/rooms");
    assert.equal(empty.status, 201);
    assert.equal(empty.json.sample_rate, 8000);
    for (const rate of [8000, 16000, 48000]) {
      const r = await call(srv.url, "POST", "/v1/rooms", {
        id: `room-${rate}`,
        sample_rate: rate,
        app_id: "acme",
      });
      assert.equal(r.status, 201);
      assert.equal(r.json.id, `room-${rate}`);
      assert.equal(r.json.sample_rate, rate);
      assert.equal(r.json.app_id, "acme");
    }
  } finally {
    await srv.shutdown();
  }
});

Deno.test("POST /v1/rooms rejects bad input with 400 and a message naming the problem", async () => {
  const srv = await startTestServer();
  try {
    const cases: [unknown, string][] = [
      [{ sample_rate: 11025 }, "invalid sample_rate: must be 8000, 16000 or 48000"],
      [{ sample_rate: "16000" }, "invalid sample_rate: must be 8000, 16000 or 48000"],
      [
        { id: "has space" },
        "invalid id: must be 1-128 characters without whitespace, '/', '?', '#', '%' or '\\'",
      ],
      [
        { id: "a/b" },
        "invalid id: must be 1-128 characters without whitespace, '/', '?', '#', '%' or '\\'",
      ],
      [
        { id: "x".repeat(129) },
        "invalid id: must be 1-128 characters without whitespace, '/', '?', '#', '%' or '\\'",
      ],
      [
        { webhook_url: "ftp://example.test/x" },
        "invalid webhook_url: must be an absolute http:// or https:// URL",
      ],
      [{ webhook_secret: "s" }, "invalid webhook_secret: requires webhook_url"],
      [{ app_id: 7 }, "invalid app_id: Invalid input: expected string, received number"],
      [[1, 2], "invalid body: Invalid input: expected object, received array"],
      ["{not json", "invalid JSON"],
    ];
    for (const [body, message] of cases) {
      const r = await call(srv.url, "POST", "/v1/rooms", body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.deepEqual(Object.keys(r.json), ["instance_id", "error"]);
      assert.equal(r.json.error, message, JSON.stringify(body));
    }
    // Nothing was created by the rejected requests.
    assert.deepEqual((await call(srv.url, "GET", "/v1/rooms")).json, []);
  } finally {
    await srv.shutdown();
  }
});

Deno.test("POST /v1/rooms with a taken id is 409 'room <id> already exists'", async () => {
  const srv = await startTestServer();
  try {
    assert.equal((await call(srv.url, "POST", "/v1/rooms", { id: "dup" })).status, 201);
    const r = await call(srv.url, "POST", "/v1/rooms", { id: "dup" });
    assert.equal(r.status, 409);
    assert.equal(r.json.error, "room dup already exists");
  } finally {
    await srv.shutdown();
  }
});

Deno.test("GET /v1/rooms is a bare array and GET/DELETE /v1/rooms/{id} answer 200 then 404", async () => {
  const srv = await startTestServer();
  try {
    await call(srv.url, "POST", "/v1/rooms", { id: "a" });
    await call(srv.url, "POST", "/v1/rooms", { id: "b" });
    const list = await call(srv.url, "GET", "/v1/rooms");
    assert.equal(list.status, 200);
    assert.ok(Array.isArray(list.json));
    assert.deepEqual(list.json.map((r: { id: string }) => r.id), ["a", "b"]);
    const one = await call(srv.url, "GET", "/v1/rooms/a");
    assert.equal(one.status, 200);
    assert.equal(one.json.id, "a");
    const del = await call(srv.url, "DELETE", "/v1/rooms/a");
    assert.equal(del.status, 200);
    assert.deepEqual(del.json, { instance_id: srv.ctx.config.instanceId, status: "deleted" });
    for (
      const [m, p] of [["GET", "/v1/rooms/a"], ["DELETE", "/v1/rooms/a"], ["GET", "/v1/rooms/nope"]]
    ) {
      const r = await call(srv.url, m, p);
      assert.equal(r.status, 404);
      assert.equal(r.json.error, "room not found");
    }
  } finally {
    await srv.shutdown();
  }
});

Deno.test("room.created and room.deleted carry the flat envelope with sorted keys", async () => {
  const srv = await startTestServer({ INSTANCE_ID: "inst-ev" });
  const rec = recordEvents(srv);
  try {
    await call(srv.url, "POST", "/v1/rooms", { id: "ev", app_id: "tenant" });
    await call(srv.url, "POST", "/v1/rooms", { id: "ev2" });
    await call(srv.url, "DELETE", "/v1/rooms/ev");
    assert.deepEqual(rec.events.map((e) => e.type), [
      "room.created",
      "room.created",
      "room.deleted",
    ]);
    const created = JSON.parse(rec.events[0].json);
    assert.deepEqual(Object.keys(created), [
      "app_id",
      "event_id",
      "instance_id",
      "room_id",
      "timestamp",
      "type",
    ]);
    assert.equal(created.room_id, "ev");
    assert.equal(created.instance_id, "inst-ev");
    assert.match(created.event_id, UUID);
    assert.match(created.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    assert.equal("app_id" in JSON.parse(rec.events[1].json), false, "empty app_id is omitted");
    assert.notEqual(rec.events[0].eventId, rec.events[2].eventId);
  } finally {
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("deleting a room hangs up its legs with reason room_deleted before room.deleted", async () => {
  const srv = await startTestServer();
  const rec = recordEvents(srv);
  try {
    await call(srv.url, "POST", "/v1/rooms", { id: "conf" });
    const a = addFakeLeg(srv.ctx, { roomId: "conf" });
    const b = addFakeLeg(srv.ctx, { roomId: "conf", appId: "t1" });
    const room = await call(srv.url, "GET", "/v1/rooms/conf");
    assert.deepEqual(room.json.participants.map((p: { id: string }) => p.id), [a.id, b.id]);
    assert.equal(room.json.participants[0].room_id, "conf");
    const del = await call(srv.url, "DELETE", "/v1/rooms/conf");
    assert.equal(del.status, 200);
    assert.deepEqual(a.terminations, ["room_deleted"]);
    assert.deepEqual(b.terminations, ["room_deleted"]);
    const types = rec.events.map((e) => e.type);
    assert.deepEqual(types.slice(-5), [
      "leg.left_room",
      "leg.disconnected",
      "leg.left_room",
      "leg.disconnected",
      "room.deleted",
    ]);
    const cdr = JSON.parse(rec.events.at(-2)!.json);
    assert.equal(cdr.cdr.reason, "room_deleted");
    assert.equal(cdr.app_id, "t1");
    assert.equal((await call(srv.url, "GET", "/v1/legs")).json.length, 0);
  } finally {
    rec.stop();
    await srv.shutdown();
  }
});
