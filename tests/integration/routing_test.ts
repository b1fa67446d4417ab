import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { toneRatio } from "../../src/media/goertzel.ts";
import type { RunningServer } from "../../src/server.ts";
import { runCommand } from "../../src/ops/commands.ts";
import { ApiError } from "../../src/errors.ts";

const RATE = 16000;
/** Whole cycles per 20 ms frame, so each frame can be analysed on its own. */
const CUSTOMER = 500;
const AGENT = 900;
const SUPERVISOR = 1700;

const WHISPER = {
  customer: ["agent"],
  agent: ["customer", "supervisor"],
  supervisor: ["customer", "agent"],
};

function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

/** A WebSocket leg outside any room that sends its tone from its very first frame. */
async function peer(srv: RunningServer, toneHz: number, amplitude = 0.25) {
  const c = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket"), { rate: RATE, toneHz, amplitude });
  await c.opened;
  await waitFor(() => c.texts.length > 0, 3000, "connected frame");
  c.startSending();
  return { client: c, id: (c.texts[0] as { leg_id: string }).leg_id };
}

async function join(srv: RunningServer, room: string, legId: string, role: string) {
  const r = await call(srv.url, "POST", `/v1/rooms/${room}/legs`, { leg_id: legId, role });
  assert.equal(r.status, 200, r.text);
}

/** Frames `from..` of a client once `count` more have arrived after the call. */
async function nextFrames(c: PcmClient, settle: number, count: number): Promise<Int16Array> {
  const mark = c.received.length;
  await waitFor(() => c.received.length >= mark + settle + count, 8000, "frames");
  const part = c.received.slice(mark + settle, mark + settle + count);
  const out = new Int16Array(part.length * (RATE / 50));
  part.forEach((f, i) => out.set(f, i * (RATE / 50)));
  return out;
}

function hears(x: Int16Array, hz: number): boolean {
  return toneRatio(x, RATE, hz) > 0.1;
}
function deafTo(x: Int16Array, hz: number): boolean {
  return toneRatio(x, RATE, hz) < 0.01;
}

async function whisperRoom(srv: RunningServer) {
  assert.equal(
    (await call(srv.url, "POST", "/v1/rooms", { id: "cc", sample_rate: RATE })).status,
    201,
  );
  assert.equal(srv.ctx.rooms.get("cc")!.mixerReady, false);
  const put = await call(srv.url, "PUT", "/v1/rooms/cc/routing", { matrix: WHISPER });
  assert.equal(put.status, 200);
  assert.deepEqual(put.json, { instance_id: srv.ctx.config.instanceId, matrix: WHISPER });
  assert.equal(srv.ctx.rooms.get("cc")!.mixerReady, true, "PUT creates the mixer");
  const customer = await peer(srv, CUSTOMER);
  const agent = await peer(srv, AGENT);
  await join(srv, "cc", customer.id, "customer");
  await join(srv, "cc", agent.id, "agent");
  await waitFor(
    () => customer.client.received.length >= 10 && agent.client.received.length >= 10,
    15_000,
    "audio",
  );
  return { customer, agent };
}

Deno.test("a whisper matrix set before the supervisor joins keeps it out of every customer frame", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "2" });
  const rec = recordEvents(srv);
  const clients: PcmClient[] = [];
  try {
    const { customer, agent } = await whisperRoom(srv);
    clients.push(customer.client, agent.client);
    // Loud, and already streaming before it is in the room: its first mixed frame is a tone.
    const supervisor = await peer(srv, SUPERVISOR, 0.5);
    clients.push(supervisor.client);
    await waitFor(() => supervisor.client.received.length >= 5, 15_000, "supervisor audio");
    await join(srv, "cc", supervisor.id, "supervisor");
    const heardByAgent = await nextFrames(agent.client, 10, 25);
    const heardBySupervisor = await nextFrames(supervisor.client, 0, 25);
    assert.ok(hears(heardByAgent, SUPERVISOR), "the agent hears the supervisor");
    assert.ok(hears(heardByAgent, CUSTOMER), "the agent hears the customer");
    assert.ok(hears(heardBySupervisor, CUSTOMER) && hears(heardBySupervisor, AGENT));
    // Every 20 ms frame the customer ever received, from before the join to now.
    const frames = customer.client.received;
    assert.ok(frames.length > 60);
    let withAgent = 0;
    frames.forEach((f, i) => {
      const r = toneRatio(f, RATE, SUPERVISOR);
      assert.ok(r < 0.01, `customer frame ${i}/${frames.length} has the supervisor, ratio ${r}`);
      if (hears(f, AGENT)) withAgent++;
    });
    assert.ok(withAgent > 30, `the customer hears the agent (${withAgent} frames)`);
    const reasons = rec.events.filter((e) => e.type === "room.routing_changed").map((e) =>
      e.envelope.reason
    );
    assert.deepEqual(reasons, ["set", "leg_joined", "leg_joined", "leg_joined"]);
    const changed = rec.events.find((e) => e.type === "room.routing_changed")!.envelope;
    assert.deepEqual(changed.matrix, WHISPER);
    assert.equal(changed.room_id, "cc");
    const joinedAt = rec.events.findIndex((e) =>
      e.type === "leg.joined_room" && e.envelope.leg_id === supervisor.id
    );
    const routedAt = rec.events.findLastIndex((e) => e.type === "room.routing_changed");
    assert.ok(joinedAt >= 0 && routedAt > joinedAt, "leg_joined follows the join event");
  } finally {
    for (const c of clients) await c.close();
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("PATCH /v1/legs/{id}/role re-routes live and publishes leg.role_changed", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "1" });
  const rec = recordEvents(srv);
  const clients: PcmClient[] = [];
  try {
    const { customer, agent } = await whisperRoom(srv);
    const supervisor = await peer(srv, SUPERVISOR);
    clients.push(customer.client, agent.client, supervisor.client);
    await join(srv, "cc", supervisor.id, "supervisor");
    assert.ok(deafTo(await nextFrames(customer.client, 10, 20), SUPERVISOR));

    // Promoted to agent: the customer (who hears agents) now hears it.
    const r = await call(srv.url, "PATCH", `/v1/legs/${supervisor.id}/role`, { role: "agent" });
    assert.equal(r.status, 200);
    assert.equal(r.json.id, supervisor.id);
    assert.equal(r.json.role, "agent");
    assert.equal(r.json.room_id, "cc");
    assert.ok(hears(await nextFrames(customer.client, 10, 20), SUPERVISOR), "heard as an agent");
    const ev = rec.events.findLast((e) => e.type === "leg.role_changed")!.envelope;
    assert.deepEqual([ev.leg_id, ev.old_role, ev.new_role, ev.room_id], [
      supervisor.id,
      "supervisor",
      "agent",
      "cc",
    ]);
    assert.equal(
      rec.events.findLast((e) => e.type === "room.routing_changed")!.envelope.reason,
      "leg_role_changed",
    );

    // Unroled: a matrix-routed listener hears no unroled source, an unroled one hears everyone.
    const cleared = await call(srv.url, "PATCH", `/v1/legs/${supervisor.id}/role`, { role: "" });
    assert.equal(cleared.json.role, undefined, "an empty role is omitted from the leg view");
    const [c, a, s] = await Promise.all([
      nextFrames(customer.client, 10, 20),
      nextFrames(agent.client, 10, 20),
      nextFrames(supervisor.client, 10, 20),
    ]);
    assert.ok(deafTo(c, SUPERVISOR) && deafTo(a, SUPERVISOR), "routed listeners skip it");
    assert.ok(hears(s, CUSTOMER) && hears(s, AGENT), "the unroled listener hears everyone");

    // Same role again: nothing changes and nothing is published.
    const before = rec.events.length;
    const same = await call(srv.url, "PATCH", `/v1/legs/${supervisor.id}/role`, { role: "" });
    assert.equal(same.status, 200);
    assert.equal(rec.events.length, before);
  } finally {
    for (const c of clients) await c.close();
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("PATCH /routing rows: [] isolates a listener and null restores full mesh", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "1" });
  const rec = recordEvents(srv);
  const clients: PcmClient[] = [];
  try {
    const { customer, agent } = await whisperRoom(srv);
    clients.push(customer.client, agent.client);
    const iso = await call(srv.url, "PATCH", "/v1/rooms/cc/routing", {
      updates: [{ listener_role: "agent", sources: [] }],
    });
    assert.equal(iso.status, 200);
    assert.deepEqual(iso.json.matrix, { ...WHISPER, agent: [] });
    const silent = await nextFrames(agent.client, 10, 20);
    assert.ok(silent.every((x) => x === 0), "an isolated listener hears exact silence");
    assert.ok(hears(await nextFrames(customer.client, 10, 20), AGENT), "others still hear it");

    const mesh = await call(srv.url, "PATCH", "/v1/rooms/cc/routing", {
      updates: [{ listener_role: "agent", sources: null }, {
        listener_role: "customer",
        sources: null,
      }],
    });
    assert.deepEqual(mesh.json.matrix, { supervisor: WHISPER.supervisor });
    assert.deepEqual((await call(srv.url, "GET", "/v1/rooms/cc/routing")).json.matrix, {
      supervisor: WHISPER.supervisor,
    });
    assert.ok(hears(await nextFrames(agent.client, 10, 20), CUSTOMER));
    const last = rec.events.findLast((e) => e.type === "room.routing_changed")!.envelope;
    assert.equal(last.reason, "update");
    assert.deepEqual(last.matrix, { supervisor: WHISPER.supervisor });
  } finally {
    for (const c of clients) await c.close();
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("routing and role requests fail with the documented 400 and 404 messages", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "1" });
  const rec = recordEvents(srv);
  const p = await peer(srv, 0);
  try {
    await call(srv.url, "POST", "/v1/rooms", { id: "r" });
    const cases: [string, string, unknown, number, string][] = [
      ["GET", "/v1/rooms/ghost/routing", undefined, 404, "room not found"],
      ["PUT", "/v1/rooms/ghost/routing", { matrix: {} }, 404, "room not found"],
      ["PATCH", "/v1/rooms/ghost/routing", { updates: [] }, 404, "room not found"],
      ["PUT", "/v1/rooms/r/routing", undefined, 400, "request body is required"],
      ["PUT", "/v1/rooms/r/routing", "{nope", 400, "invalid JSON"],
      [
        "PUT",
        "/v1/rooms/r/routing",
        {},
        400,
        "invalid matrix: Invalid input: expected record, received undefined",
      ],
      [
        "PUT",
        "/v1/rooms/r/routing",
        { matrix: { a: "b" } },
        400,
        "invalid matrix.a: Invalid input: expected array, received string",
      ],
      [
        "PUT",
        "/v1/rooms/r/routing",
        { matrix: { "": ["a"] } },
        400,
        "invalid matrix: listener role must not be empty",
      ],
      [
        "PATCH",
        "/v1/rooms/r/routing",
        { updates: [{ listener_role: "a" }] },
        400,
        "invalid updates.0.sources: Invalid input: expected array, received undefined",
      ],
      [
        "PATCH",
        "/v1/rooms/r/routing",
        { updates: [{ listener_role: "", sources: ["x"] }] },
        400,
        "invalid updates: listener role must not be empty",
      ],
      ["PATCH", "/v1/legs/nope/role", { role: "agent" }, 404, "leg not found"],
      ["PATCH", `/v1/legs/${p.id}/role`, undefined, 400, "request body is required"],
      [
        "PATCH",
        `/v1/legs/${p.id}/role`,
        { role: 5 },
        400,
        "invalid role: Invalid input: expected string, received number",
      ],
      [
        "PATCH",
        `/v1/legs/${p.id}/role`,
        { role: "x".repeat(65) },
        400,
        "invalid role: Too big: expected string to have <=64 characters",
      ],
    ];
    for (const [method, path, body, status, error] of cases) {
      const r = await call(srv.url, method, path, body);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}`);
      assert.equal(r.json.error, error, `${method} ${path} ${JSON.stringify(body)}`);
    }
    assert.deepEqual((await call(srv.url, "GET", "/v1/rooms/r/routing")).json.matrix, {});
    assert.equal(rec.events.filter((e) => e.type === "room.routing_changed").length, 0);

    // A leg outside any room: the role is stored, the event has no room_id.
    const r = await call(srv.url, "PATCH", `/v1/legs/${p.id}/role`, { role: "agent" });
    assert.equal(r.json.role, "agent");
    const ev = rec.events.findLast((e) => e.type === "leg.role_changed")!.envelope;
    assert.deepEqual([ev.old_role, ev.new_role, "room_id" in ev], ["", "agent", false]);
    assert.equal(rec.events.filter((e) => e.type === "room.routing_changed").length, 0);
  } finally {
    await p.client.close();
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("VSI room_routing_* and set_leg_role use room_id and leg_id", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "1" });
  const p = await peer(srv, 0);
  try {
    const ctx = srv.ctx;
    await call(srv.url, "POST", "/v1/rooms", { id: "r" });
    assert.deepEqual(await runCommand(ctx, "room_routing_set", { room_id: "r", matrix: WHISPER }), {
      status: 200,
      body: { matrix: WHISPER },
    });
    const upd = await runCommand(ctx, "room_routing_update", {
      room_id: "r",
      updates: [{ listener_role: "supervisor", sources: null }],
    });
    assert.deepEqual(upd.body, { matrix: { customer: ["agent"], agent: WHISPER.agent } });
    assert.deepEqual((await runCommand(ctx, "room_routing_get", { room_id: "r" })).body, {
      matrix: { customer: ["agent"], agent: WHISPER.agent },
    });
    const role = await runCommand(ctx, "set_leg_role", { leg_id: p.id, role: "customer" });
    assert.equal((role.body as { role: string }).role, "customer");
    await assert.rejects(
      () => runCommand(ctx, "room_routing_get", { room_id: "ghost" }),
      (e: unknown) => e instanceof ApiError && e.status === 404 && e.message === "room not found",
    );
    await assert.rejects(
      () => runCommand(ctx, "set_leg_role", { leg_id: p.id }),
      (e: unknown) =>
        e instanceof ApiError && e.status === 400 &&
        e.message ===
          "invalid payload: invalid role: Invalid input: expected string, received undefined",
    );
  } finally {
    await p.client.close();
    await srv.shutdown();
  }
});
