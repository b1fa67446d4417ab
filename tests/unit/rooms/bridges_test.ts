import assert from "node:assert/strict";
import {
  BridgeRegistry,
  bridgeView,
  type CanonicalDirection,
  flowOf,
  type RelativeDirection,
  toCanonical,
  toRelative,
} from "../../../src/rooms/bridges.ts";
import { RoomManager } from "../../../src/rooms/room_manager.ts";
import { LegRegistry } from "../../../src/legs/leg_registry.ts";
import { EventBus } from "../../../src/events/bus.ts";
import { Logger } from "../../../src/log/logger.ts";
import type { MediaPlane } from "../../../src/media_plane/worker_pool.ts";
import type { WorkerCommand } from "../../../src/media/protocol.ts";
import type { PublishedEvent } from "../../../src/events/event.ts";
import { ApiError } from "../../../src/errors.ts";

Deno.test("toCanonical() and toRelative() map send/receive by which room names the bridge", () => {
  const cases: [RelativeDirection, boolean, CanonicalDirection][] = [
    ["bidirectional", true, "bidirectional"],
    ["bidirectional", false, "bidirectional"],
    ["none", true, "none"],
    ["none", false, "none"],
    ["send", true, "a_to_b"],
    ["send", false, "b_to_a"],
    ["receive", true, "b_to_a"],
    ["receive", false, "a_to_b"],
  ];
  for (const [rel, pathIsA, canon] of cases) {
    assert.equal(toCanonical(rel, pathIsA), canon, `${rel} from ${pathIsA ? "A" : "B"}`);
    assert.equal(toRelative(canon, pathIsA), rel, `${canon} seen from ${pathIsA ? "A" : "B"}`);
  }
  assert.deepEqual(flowOf("bidirectional"), { aToB: true, bToA: true });
  assert.deepEqual(flowOf("a_to_b"), { aToB: true, bToA: false });
  assert.deepEqual(flowOf("b_to_a"), { aToB: false, bToA: true });
  assert.deepEqual(flowOf("none"), { aToB: false, bToA: false });
});

/** A registry over a real room manager and a media plane that records what it is told. */
function setup() {
  const bus = new EventBus("inst");
  const events: PublishedEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const rooms = new RoomManager(bus, new LegRegistry());
  const posted: WorkerCommand[] = [];
  const created: string[] = [];
  const media = {
    createRoom: (id: string) => created.push(id),
    postToRoom: (_id: string, cmd: WorkerCommand) => (posted.push(cmd), true),
    roomWorkerIndex: () => 0,
  } as unknown as MediaPlane;
  const reg = new BridgeRegistry({
    rooms,
    media,
    bus,
    logger: new Logger("error", {}, () => {}),
  });
  rooms.addDeleteHook((r) => reg.roomDeleted(r));
  rooms.create({ id: "a", sampleRate: 16000, appId: "app-a" });
  rooms.create({ id: "b", sampleRate: 16000 });
  rooms.create({ id: "c", sampleRate: 16000 });
  rooms.create({ id: "slow", sampleRate: 8000 });
  return { rooms, reg, posted, created, events };
}

function rejects(fn: () => unknown, status: number, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.message, message);
    assert.equal(e.status, status);
    return true;
  });
}

Deno.test("BridgeRegistry.create() wires one side per room with mirrored rings and flows", () => {
  const { reg, posted, created, events } = setup();
  const br = reg.create({ roomId: "a", peerRoomId: "b", direction: "send", id: "x" });
  assert.deepEqual(created, ["a", "b"], "both rooms get a mixer");
  const [sa, sb] = posted;
  assert.ok(sa.t === "bridge.attach" && sb.t === "bridge.attach");
  assert.equal(sa.roomId, "a");
  assert.equal(sb.roomId, "b");
  assert.equal(sa.outgoing, sb.incoming, "A→B ring: A writes, B reads");
  assert.equal(sb.outgoing, sa.incoming, "B→A ring: B writes, A reads");
  assert.deepEqual([sa.sends, sa.receives, sb.sends, sb.receives], [true, false, false, true]);
  assert.equal(sa.externalId, sb.externalId);
  assert.deepEqual(bridgeView(br, "a"), {
    id: "x",
    room_id: "b",
    direction: "send",
    sample_rate: 16000,
  });
  assert.deepEqual(bridgeView(br, "b"), {
    id: "x",
    room_id: "a",
    direction: "receive",
    sample_rate: 16000,
  });
  const ev = events.find((e) => e.type === "room.bridged")!;
  assert.deepEqual(
    [ev.envelope.bridge_id, ev.envelope.room_a_id, ev.envelope.room_b_id, ev.envelope.direction],
    ["x", "a", "b", "a_to_b"],
  );
  assert.equal(ev.envelope.app_id, "app-a");
});

Deno.test("BridgeRegistry rejects self, unknown rooms, rate mismatch, duplicate pairs and ids", () => {
  const { reg } = setup();
  rejects(
    () => reg.create({ roomId: "a", peerRoomId: "a" }),
    400,
    "cannot bridge a room to itself",
  );
  rejects(() => reg.create({ roomId: "zz", peerRoomId: "a" }), 404, "room not found");
  rejects(() => reg.create({ roomId: "a", peerRoomId: "zz" }), 404, "room not found: zz");
  rejects(
    () => reg.create({ roomId: "a", peerRoomId: "slow" }),
    400,
    "sample rate mismatch: room a is 16000 Hz, room slow is 8000 Hz",
  );
  reg.create({ roomId: "a", peerRoomId: "b", id: "ab" });
  rejects(
    () => reg.create({ roomId: "b", peerRoomId: "a" }),
    409,
    "bridge between these rooms already exists",
  );
  rejects(
    () => reg.create({ roomId: "a", peerRoomId: "c", id: "ab" }),
    409,
    "bridge ab already exists",
  );
  rejects(() => reg.get("c", "ab"), 404, "bridge not found");
  rejects(() => reg.update("a", "nope", "none"), 404, "bridge not found");
  rejects(() => reg.delete("c", "ab"), 404, "bridge not found");
  rejects(() => reg.list("zz"), 404, "room not found");
});

Deno.test("BridgeRegistry.update() is relative to the naming room and reaches both sides", () => {
  const { reg, posted, events } = setup();
  reg.create({ roomId: "a", peerRoomId: "b", id: "ab" });
  posted.length = 0;
  const br = reg.update("b", "ab", "send");
  assert.equal(br.direction, "b_to_a");
  assert.deepEqual(
    posted.map((c) => c.t === "bridge.direction" && [c.roomId, c.sends, c.receives]),
    [["a", false, true], ["b", true, false]],
  );
  const ev = events.find((e) => e.type === "room.bridge_updated")!;
  assert.equal(ev.envelope.direction, "b_to_a");
  assert.deepEqual(reg.list("b").map((b) => bridgeView(b, "b").direction), ["send"]);
});

Deno.test("deleting a bridge or one of its rooms detaches both sides and publishes room.unbridged", async () => {
  const { rooms, reg, posted, events } = setup();
  reg.create({ roomId: "a", peerRoomId: "b", id: "ab" });
  reg.create({ roomId: "c", peerRoomId: "a", id: "ca" });
  posted.length = 0;
  reg.delete("b", "ab");
  assert.deepEqual(posted.map((c) => c.t === "bridge.detach" && c.roomId), ["a", "b"]);
  let ev = events.findLast((e) => e.type === "room.unbridged")!;
  assert.deepEqual([ev.envelope.bridge_id, ev.envelope.reason], ["ab", ""]);
  await rooms.delete("a");
  ev = events.findLast((e) => e.type === "room.unbridged")!;
  assert.deepEqual(
    [ev.envelope.bridge_id, ev.envelope.room_a_id, ev.envelope.room_b_id, ev.envelope.reason],
    ["ca", "c", "a", "room_deleted"],
  );
  assert.equal(reg.size, 0);
  assert.deepEqual(reg.list("c"), []);
  const order = events.map((e) => e.type).filter((t) =>
    t === "room.unbridged" || t === "room.deleted"
  );
  assert.deepEqual(order, ["room.unbridged", "room.unbridged", "room.deleted"]);
});
