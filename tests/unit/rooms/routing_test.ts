import assert from "node:assert/strict";
import {
  MAX_MATRIX_ROLES,
  pushIfPending,
  routingView,
  setRouting,
  updateRouting,
} from "../../../src/rooms/routing.ts";
import { Room } from "../../../src/rooms/room.ts";
import { RoomManager } from "../../../src/rooms/room_manager.ts";
import { LegRegistry } from "../../../src/legs/leg_registry.ts";
import { EventBus } from "../../../src/events/bus.ts";
import type { MediaPlane } from "../../../src/media_plane/worker_pool.ts";
import type { PublishedEvent } from "../../../src/events/event.ts";
import { ApiError } from "../../../src/errors.ts";

type Pushed = [string, Record<string, readonly string[] | null> | null];

function setup() {
  const bus = new EventBus("inst");
  const events: PublishedEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const rooms = new RoomManager(bus, new LegRegistry());
  const log: string[] = [];
  const pushed: Pushed[] = [];
  const media = {
    createRoom: (id: string) => log.push(`create ${id}`),
    setRouting: (id: string, m: Pushed[1]) => (log.push(`route ${id}`), pushed.push([id, m])),
  } as unknown as MediaPlane;
  const deps = { rooms, media, bus };
  const room = rooms.create({ id: "r", sampleRate: 16000, appId: "app" });
  return { deps, room, log, pushed, events };
}

const WHISPER = {
  customer: ["agent"],
  agent: ["customer", "supervisor"],
  supervisor: ["customer", "agent"],
};

Deno.test("setRouting() on a room without a mixer creates it, then pushes the matrix", () => {
  const { deps, room, log, pushed, events } = setup();
  assert.equal(room.mixerReady, false);
  const view = setRouting(deps, room, WHISPER);
  assert.deepEqual(view, WHISPER);
  assert.deepEqual(log, ["create r", "route r"], "the mixer exists before any leg joins");
  assert.equal(room.mixerReady, true);
  assert.deepEqual(pushed, [["r", WHISPER]]);
  const ev = events.find((e) => e.type === "room.routing_changed")!;
  assert.deepEqual(ev.envelope.matrix, WHISPER);
  assert.equal(ev.envelope.reason, "set");
  assert.equal(ev.envelope.room_id, "r");
  assert.equal(ev.envelope.app_id, "app");
  assert.equal(pushIfPending(deps, room), false, "already pushed");
});

Deno.test("updateRouting() replaces and removes rows; an emptied matrix is pushed as full mesh", () => {
  const { deps, room, pushed, events } = setup();
  setRouting(deps, room, WHISPER);
  const view = updateRouting(deps, room, [
    { listener_role: "customer", sources: [] },
    { listener_role: "supervisor", sources: null },
    { listener_role: "observer", sources: ["agent"] },
  ]);
  assert.deepEqual(view, {
    customer: [],
    agent: ["customer", "supervisor"],
    observer: ["agent"],
  });
  assert.equal(
    events.findLast((e) => e.type === "room.routing_changed")!.envelope.reason,
    "update",
  );
  updateRouting(
    deps,
    room,
    ["customer", "agent", "observer"].map((r) => ({
      listener_role: r,
      sources: null,
    })),
  );
  assert.deepEqual(routingView(room), {});
  assert.deepEqual(pushed.at(-1), ["r", null]);
  setRouting(deps, room, {});
  assert.deepEqual(pushed.at(-1), ["r", null]);
});

Deno.test("routing edits reject an empty listener role and too many roles, changing nothing", () => {
  const { deps, room, pushed } = setup();
  setRouting(deps, room, WHISPER);
  const count = pushed.length;
  const bad = (fn: () => unknown, message: string) =>
    assert.throws(
      fn,
      (e: unknown) => e instanceof ApiError && e.status === 400 && e.message === message,
    );
  bad(
    () => setRouting(deps, room, { "": ["a"] }),
    "invalid matrix: listener role must not be empty",
  );
  bad(
    () => updateRouting(deps, room, [{ listener_role: "", sources: [] }]),
    "invalid updates: listener role must not be empty",
  );
  const many = Array.from({ length: MAX_MATRIX_ROLES + 1 }, (_, i) => `r${i}`);
  bad(
    () => setRouting(deps, room, { listener: many }),
    `invalid matrix: more than ${MAX_MATRIX_ROLES} distinct roles`,
  );
  assert.equal(pushed.length, count);
  assert.deepEqual(routingView(room), WHISPER);
});

Deno.test("routingView() keeps a role named __proto__ as an ordinary row", () => {
  const { deps, room } = setup();
  const m = JSON.parse('{"__proto__":["agent"]}');
  setRouting(deps, room, m);
  const v = routingView(room);
  assert.deepEqual(Object.keys(v), ["__proto__"]);
  assert.equal(JSON.stringify(v), '{"__proto__":["agent"]}');
});

Deno.test("a matrix is per room and forgotten with it", () => {
  const { deps, room } = setup();
  setRouting(deps, room, WHISPER);
  const other = new Room({ id: "r2", sampleRate: 16000 });
  assert.deepEqual(routingView(other), {});
  assert.equal(pushIfPending(deps, other), false);
});
