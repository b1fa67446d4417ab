import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { toneRatio } from "../../src/media/goertzel.ts";
import type { RunningServer } from "../../src/server.ts";
import { runCommand } from "../../src/ops/commands.ts";
import { ApiError } from "../../src/errors.ts";

const RATE = 16000;
/** Tones on 50 Hz multiples: whole cycles per 20 ms frame, so frames analyse cleanly. */
const TONE_A = 600;
const TONE_B = 1000;

function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

/** A WebSocket leg in `room` sending `toneHz` (0 = silence), once connected and joined. */
async function talker(srv: RunningServer, room: string, toneHz: number): Promise<PcmClient> {
  const c = new PcmClient(wsUrl(srv.url, `/v1/legs/websocket?room_id=${room}`), {
    rate: RATE,
    toneHz,
  });
  await c.opened;
  await waitFor(() => c.texts.length > 0, 3000, "connected frame");
  const legId = (c.texts[0] as { leg_id: string }).leg_id;
  await waitFor(() => srv.ctx.legs.get(legId)?.roomId === room, 3000, `join ${room}`);
  c.startSending();
  return c;
}

/** Waits for `settle` fresh frames per client, then returns the next `frames` of each. */
async function listen(clients: PcmClient[], settle = 15, frames = 20): Promise<Int16Array[]> {
  const mark = clients.map((c) => c.received.length);
  await waitFor(
    () => clients.every((c, i) => c.received.length >= mark[i] + settle + frames),
    8000,
    "audio window",
  );
  return clients.map((c, i) => {
    const part = c.received.slice(mark[i] + settle, mark[i] + settle + frames);
    const out = new Int16Array(part.reduce((s, f) => s + f.length, 0));
    let at = 0;
    for (const f of part) {
      out.set(f, at);
      at += f.length;
    }
    return out;
  });
}

/** Asserts which of the two tones each room's talker hears. */
async function expectFlow(
  a: PcmClient,
  b: PcmClient,
  aToB: boolean,
  bToA: boolean,
  what: string,
): Promise<void> {
  const [heardA, heardB] = await listen([a, b]);
  const rAB = toneRatio(heardB, RATE, TONE_A);
  const rBA = toneRatio(heardA, RATE, TONE_B);
  assert.ok(aToB ? rAB > 0.1 : rAB < 0.01, `${what}: B hears A ratio ${rAB.toFixed(4)}`);
  assert.ok(bToA ? rBA > 0.1 : rBA < 0.01, `${what}: A hears B ratio ${rBA.toFixed(4)}`);
  // Echo-free: what crossed to the far room never comes back to where it came from.
  const echoA = toneRatio(heardA, RATE, TONE_A);
  const echoB = toneRatio(heardB, RATE, TONE_B);
  assert.ok(echoA < 0.01, `${what}: A hears its own tone back, ratio ${echoA.toFixed(4)}`);
  assert.ok(echoB < 0.01, `${what}: B hears its own tone back, ratio ${echoB.toFixed(4)}`);
}

async function twoRooms(workers: string) {
  const srv = await startTestServer({ MEDIA_WORKERS: workers });
  const rec = recordEvents(srv);
  for (const id of ["A", "B"]) {
    assert.equal((await call(srv.url, "POST", "/v1/rooms", { id, sample_rate: RATE })).status, 201);
  }
  const a = await talker(srv, "A", TONE_A);
  const b = await talker(srv, "B", TONE_B);
  // Workers start lazily (and their module is type-checked first): wait for audio to flow.
  await waitFor(() => a.received.length >= 10 && b.received.length >= 10, 15_000, "audio");
  const close = async () => {
    await a.close();
    await b.close();
    rec.stop();
    await srv.shutdown();
  };
  return { srv, rec, a, b, close };
}

Deno.test("a bridge between rooms on different workers follows PATCH live in every direction", async () => {
  const { srv, rec, a, b, close } = await twoRooms("2");
  try {
    const media = srv.ctx.media;
    assert.notEqual(media.roomWorkerIndex("A"), undefined);
    assert.notEqual(media.roomWorkerIndex("A"), media.roomWorkerIndex("B"), "rooms on 2 workers");
    await expectFlow(a, b, false, false, "before bridging");
    const created = await call(srv.url, "POST", "/v1/rooms/A/bridges", { room_id: "B" });
    assert.equal(created.status, 201);
    const id = created.json.id as string;
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(created.json, {
      instance_id: srv.ctx.config.instanceId,
      id,
      room_id: "B",
      direction: "bidirectional",
      sample_rate: RATE,
    });
    await expectFlow(a, b, true, true, "bidirectional");
    const steps: [string, string, boolean, boolean, string][] = [
      ["A", "send", true, false, "a_to_b"],
      ["A", "receive", false, true, "b_to_a"],
      ["A", "none", false, false, "none"],
      ["B", "send", false, true, "b_to_a"],
      ["B", "bidirectional", true, true, "bidirectional"],
    ];
    for (const [room, direction, aToB, bToA, canonical] of steps) {
      const r = await call(srv.url, "PATCH", `/v1/rooms/${room}/bridges/${id}`, { direction });
      assert.equal(r.status, 200);
      assert.equal(r.json.direction, direction);
      assert.equal(r.json.room_id, room === "A" ? "B" : "A");
      await expectFlow(a, b, aToB, bToA, `PATCH ${room} ${direction}`);
      const ev = rec.events.findLast((e) => e.type === "room.bridge_updated")!;
      assert.equal(ev.envelope.direction, canonical);
    }
    const bridged = rec.events.find((e) => e.type === "room.bridged")!.envelope;
    assert.deepEqual(
      [bridged.bridge_id, bridged.room_a_id, bridged.room_b_id, bridged.direction],
      [id, "A", "B", "bidirectional"],
    );
    const del = await call(srv.url, "DELETE", `/v1/rooms/B/bridges/${id}`);
    assert.equal(del.status, 200);
    assert.deepEqual(del.json, { instance_id: srv.ctx.config.instanceId, status: "deleted" });
    await expectFlow(a, b, false, false, "after delete");
    const un = rec.events.find((e) => e.type === "room.unbridged")!.envelope;
    assert.deepEqual([un.bridge_id, un.room_a_id, un.room_b_id, un.reason], [id, "A", "B", ""]);
  } finally {
    await close();
  }
});

Deno.test("bridges created with each direction on one worker carry exactly that flow", async () => {
  const { srv, a, b, close } = await twoRooms("1");
  try {
    assert.equal(srv.ctx.media.roomWorkerIndex("A"), srv.ctx.media.roomWorkerIndex("B"));
    const cases: [string, boolean, boolean][] = [
      ["bidirectional", true, true],
      ["send", true, false],
      ["receive", false, true],
      ["none", false, false],
    ];
    for (const [direction, aToB, bToA] of cases) {
      const r = await call(srv.url, "POST", "/v1/rooms/A/bridges", {
        room_id: "B",
        direction,
        id: `br-${direction}`,
      });
      assert.equal(r.status, 201, direction);
      const fromB = await call(srv.url, "GET", `/v1/rooms/B/bridges/br-${direction}`);
      assert.equal(fromB.json.room_id, "A");
      const mirrored = { send: "receive", receive: "send" }[direction] ?? direction;
      assert.equal(fromB.json.direction, mirrored, "B sees the direction relative to itself");
      await expectFlow(a, b, aToB, bToA, `created ${direction}`);
      assert.equal(
        (await call(srv.url, "DELETE", `/v1/rooms/A/bridges/br-${direction}`)).status,
        200,
      );
    }
  } finally {
    await close();
  }
});

Deno.test("a room with no legs relays between two bridges and keeps mixing", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "2" });
  const clients: PcmClient[] = [];
  try {
    for (const id of ["A", "B", "C"]) {
      assert.equal(
        (await call(srv.url, "POST", "/v1/rooms", { id, sample_rate: RATE })).status,
        201,
      );
    }
    const speaker = await talker(srv, "A", TONE_A);
    clients.push(speaker);
    const listener = await talker(srv, "B", 0);
    clients.push(listener);
    await waitFor(() => clients.every((c) => c.received.length >= 10), 15_000, "audio");
    assert.equal(
      (await call(srv.url, "POST", "/v1/rooms/C/bridges", { room_id: "A" })).status,
      201,
    );
    assert.equal(
      (await call(srv.url, "POST", "/v1/rooms/C/bridges", { room_id: "B" })).status,
      201,
    );
    assert.equal(srv.ctx.rooms.get("C")!.legIds.size, 0);
    const list = await call(srv.url, "GET", "/v1/rooms/C/bridges");
    assert.equal(list.status, 200);
    assert.ok(Array.isArray(list.json), "a bare array");
    assert.deepEqual(list.json.map((b: { room_id: string }) => b.room_id), ["A", "B"]);
    const [heardSpeaker, heardListener] = await listen(clients);
    const relayed = toneRatio(heardListener, RATE, TONE_A);
    assert.ok(relayed > 0.5, `B hears A through the empty room C, ratio ${relayed.toFixed(4)}`);
    assert.ok(heardSpeaker.every((s) => s === 0), "A hears nothing of itself back through C");
  } finally {
    for (const c of clients) await c.close();
    await srv.shutdown();
  }
});

Deno.test("deleting a bridged room publishes room.unbridged (room_deleted) and the peer keeps mixing", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "2" });
  const rec = recordEvents(srv);
  const clients: PcmClient[] = [];
  try {
    for (const id of ["A", "B"]) {
      assert.equal(
        (await call(srv.url, "POST", "/v1/rooms", { id, sample_rate: RATE })).status,
        201,
      );
    }
    const a1 = await talker(srv, "A", TONE_A);
    const a2 = await talker(srv, "A", 1400);
    const b1 = await talker(srv, "B", TONE_B);
    clients.push(a1, a2, b1);
    await waitFor(() => clients.every((c) => c.received.length >= 10), 15_000, "audio");
    const id = (await call(srv.url, "POST", "/v1/rooms/A/bridges", { room_id: "B" })).json.id;
    let [heard] = await listen([a2]);
    assert.ok(toneRatio(heard, RATE, TONE_B) > 0.1, "A hears B while bridged");
    assert.equal((await call(srv.url, "DELETE", "/v1/rooms/B")).status, 200);
    const un = rec.events.find((e) => e.type === "room.unbridged")!.envelope;
    assert.deepEqual([un.bridge_id, un.room_a_id, un.room_b_id, un.reason], [
      id,
      "A",
      "B",
      "room_deleted",
    ]);
    const types = rec.events.map((e) => e.type);
    assert.ok(types.indexOf("room.unbridged") < types.indexOf("room.deleted"));
    assert.deepEqual((await call(srv.url, "GET", "/v1/rooms/A/bridges")).json, []);
    assert.equal((await call(srv.url, "GET", `/v1/rooms/A/bridges/${id}`)).status, 404);
    await b1.closed;
    [heard] = await listen([a2]);
    assert.ok(toneRatio(heard, RATE, TONE_A) > 0.1, "A still mixes its own legs");
    assert.ok(toneRatio(heard, RATE, TONE_B) < 0.01, "nothing arrives from the deleted room");
  } finally {
    for (const c of clients) await c.close();
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("bridge requests fail with the documented 400, 404 and 409 messages", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "1" });
  const rec = recordEvents(srv);
  try {
    for (const [id, rate] of [["A", 16000], ["B", 16000], ["C", 16000], ["slow", 8000]] as const) {
      await call(srv.url, "POST", "/v1/rooms", { id, sample_rate: rate });
    }
    const cases: [string, string, unknown, number, string][] = [
      ["POST", "/v1/rooms/A/bridges", { room_id: "A" }, 400, "cannot bridge a room to itself"],
      [
        "POST",
        "/v1/rooms/A/bridges",
        { room_id: "slow" },
        400,
        "sample rate mismatch: room A is 16000 Hz, room slow is 8000 Hz",
      ],
      [
        "POST",
        "/v1/rooms/A/bridges",
        { room_id: "B", direction: "sideways" },
        400,
        "invalid direction: must be bidirectional, send, receive or none",
      ],
      [
        "POST",
        "/v1/rooms/A/bridges",
        {},
        400,
        "invalid room_id: Invalid input: expected string, received undefined",
      ],
      ["POST", "/v1/rooms/A/bridges", undefined, 400, "request body is required"],
      ["POST", "/v1/rooms/A/bridges", "{oops", 400, "invalid JSON"],
      [
        "POST",
        "/v1/rooms/A/bridges",
        { room_id: "B", id: "a b" },
        400,
        "invalid id: must be 1-128 characters without whitespace, '/', '?', '#', '%' or '\\'",
      ],
      ["POST", "/v1/rooms/ghost/bridges", { room_id: "B" }, 404, "room not found"],
      ["POST", "/v1/rooms/A/bridges", { room_id: "ghost" }, 404, "room not found: ghost"],
      ["GET", "/v1/rooms/ghost/bridges", undefined, 404, "room not found"],
      ["GET", "/v1/rooms/A/bridges/nope", undefined, 404, "bridge not found"],
      ["PATCH", "/v1/rooms/A/bridges/nope", { direction: "send" }, 404, "bridge not found"],
      ["DELETE", "/v1/rooms/A/bridges/nope", undefined, 404, "bridge not found"],
    ];
    for (const [method, path, body, status, error] of cases) {
      const r = await call(srv.url, method, path, body);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}`);
      assert.equal(r.json.error, error, `${method} ${path} ${JSON.stringify(body)}`);
    }
    assert.equal(rec.events.filter((e) => e.type.startsWith("room.bridge")).length, 0);

    assert.equal(
      (await call(srv.url, "POST", "/v1/rooms/A/bridges", { room_id: "B", id: "ab" })).status,
      201,
    );
    const more: [string, string, unknown, number, string][] = [
      [
        "POST",
        "/v1/rooms/B/bridges",
        { room_id: "A" },
        409,
        "bridge between these rooms already exists",
      ],
      [
        "POST",
        "/v1/rooms/A/bridges",
        { room_id: "B", direction: "send" },
        409,
        "bridge between these rooms already exists",
      ],
      ["POST", "/v1/rooms/A/bridges", { room_id: "C", id: "ab" }, 409, "bridge ab already exists"],
      ["GET", "/v1/rooms/C/bridges/ab", undefined, 404, "bridge not found"],
      ["PATCH", "/v1/rooms/C/bridges/ab", { direction: "send" }, 404, "bridge not found"],
      ["DELETE", "/v1/rooms/C/bridges/ab", undefined, 404, "bridge not found"],
      [
        "PATCH",
        "/v1/rooms/A/bridges/ab",
        { direction: "up" },
        400,
        "invalid direction: must be bidirectional, send, receive or none",
      ],
      [
        "PATCH",
        "/v1/rooms/A/bridges/ab",
        {},
        400,
        "invalid direction: must be bidirectional, send, receive or none",
      ],
      ["PATCH", "/v1/rooms/A/bridges/ab", undefined, 400, "request body is required"],
    ];
    for (const [method, path, body, status, error] of more) {
      const r = await call(srv.url, method, path, body);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}`);
      assert.equal(r.json.error, error, `${method} ${path} ${JSON.stringify(body)}`);
    }
    assert.equal(
      (await call(srv.url, "GET", "/v1/rooms/A/bridges/ab")).json.direction,
      "bidirectional",
    );
    assert.equal((await call(srv.url, "DELETE", "/v1/rooms/A/bridges/ab")).status, 200);
    assert.equal((await call(srv.url, "DELETE", "/v1/rooms/A/bridges/ab")).status, 404);
  } finally {
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("VSI bridge_* commands use room_id, peer_room_id and bridge_id", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "1" });
  try {
    for (const id of ["A", "B"]) await call(srv.url, "POST", "/v1/rooms", { id });
    const ctx = srv.ctx;
    const created = await runCommand(ctx, "bridge_create", {
      room_id: "A",
      peer_room_id: "B",
      bridge_id: "v1",
      direction: "receive",
    });
    assert.deepEqual(created, {
      status: 201,
      body: { id: "v1", room_id: "B", direction: "receive", sample_rate: 16000 },
    });
    assert.deepEqual((await runCommand(ctx, "bridge_list", { room_id: "B" })).body, [
      { id: "v1", room_id: "A", direction: "send", sample_rate: 16000 },
    ]);
    assert.deepEqual(
      (await runCommand(ctx, "bridge_get", { room_id: "A", bridge_id: "v1" })).body,
      { id: "v1", room_id: "B", direction: "receive", sample_rate: 16000 },
    );
    const upd = await runCommand(ctx, "bridge_update", {
      room_id: "B",
      bridge_id: "v1",
      direction: "none",
    });
    assert.equal((upd.body as { direction: string }).direction, "none");
    await assert.rejects(
      () => runCommand(ctx, "bridge_create", { room_id: "A" }),
      (e: unknown) =>
        e instanceof ApiError && e.status === 400 &&
        e.message ===
          "invalid payload: invalid peer_room_id: Invalid input: expected string, received undefined",
    );
    await assert.rejects(
      () => runCommand(ctx, "bridge_create", { room_id: "B", peer_room_id: "A" }),
      (e: unknown) => e instanceof ApiError && e.status === 409,
    );
    assert.deepEqual(
      (await runCommand(ctx, "bridge_delete", { room_id: "A", bridge_id: "v1" })).body,
      { status: "deleted" },
    );
    await assert.rejects(
      () => runCommand(ctx, "bridge_get", { room_id: "A", bridge_id: "v1" }),
      (e: unknown) => e instanceof ApiError && e.status === 404 && e.message === "bridge not found",
    );
  } finally {
    await srv.shutdown();
  }
});
