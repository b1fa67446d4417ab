import assert from "node:assert/strict";
import { VsiClient, type VsiSocket, type VsiTimings } from "../../../src/api/vsi_client.ts";
import { EventBus } from "../../../src/events/bus.ts";
import { Logger } from "../../../src/log/logger.ts";
import { Metrics } from "../../../src/metrics/metrics.ts";
import type { OpContext } from "../../../src/ops/operation.ts";

/** A server-side WebSocket stand-in whose `bufferedAmount` the test controls. */
class FakeSocket extends EventTarget implements VsiSocket {
  readyState = 0;
  bufferedAmount = 0;
  /** Bytes each send adds to bufferedAmount (0 = an instantly draining peer). */
  bytesPerSend = 0;
  readonly sent: string[] = [];
  closedWith: { code?: number; reason?: string } | undefined;

  send(data: string): void {
    this.sent.push(data);
    this.bufferedAmount += this.bytesPerSend;
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }
  open(): void {
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }
  receive(data: string | ArrayBuffer): void {
    this.dispatchEvent(new MessageEvent("message", { data }));
  }
  peerClose(code: number): void {
    this.readyState = 3;
    this.dispatchEvent(new CloseEvent("close", { code }));
  }
  frames(): Record<string, unknown>[] {
    return this.sent.map((s) => JSON.parse(s));
  }
}

interface Harness {
  socket: FakeSocket;
  client: VsiClient;
  bus: EventBus;
  metrics: Metrics;
  logs: Record<string, unknown>[];
  stopped: VsiClient[];
}

const SLOW: VsiTimings = {
  pingIntervalMs: 60_000,
  readTimeoutMs: 60_000,
  writeTimeoutMs: 60_000,
  highWaterBytes: 1,
};

function harness(
  opts: Partial<VsiTimings> & { bufferSize?: number; filter?: RegExp; rooms?: unknown } = {},
): Harness {
  const bus = new EventBus("inst-1");
  const metrics = new Metrics({ activeLegs: () => 0, activeRooms: () => 0 }, { runtime: false });
  const logs: Record<string, unknown>[] = [];
  const logger = new Logger("warn", {}, (line) => logs.push(JSON.parse(line)));
  const ctx = { bus, metrics, logger, rooms: opts.rooms } as unknown as OpContext;
  const socket = new FakeSocket();
  const stopped: VsiClient[] = [];
  const client = new VsiClient({
    ...SLOW,
    ...opts,
    id: 1,
    socket,
    ctx,
    filter: opts.filter ?? null,
    bufferSize: opts.bufferSize ?? 4,
    logger,
    onStopped: (c) => stopped.push(c),
  });
  return { socket, client, bus, metrics, logs, stopped };
}

async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function counter(m: Metrics, name: "vsiEventsDropped" | "vsiClients"): Promise<number> {
  return (await m[name].get()).values.reduce((a, v) => a + v.value, 0);
}

function publish(bus: EventBus, n: number, appId = ""): string[] {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(bus.publish("room.created", { room_id: `r${i}`, app_id: appId }).eventId);
  }
  return ids;
}

Deno.test("VsiClient sends connected first, then queued and live events that pass the filter", () => {
  const h = harness({ highWaterBytes: 1 << 20, filter: /^tenant-a$/ });
  const early = h.bus.publish("room.created", { room_id: "r0", app_id: "tenant-a" });
  h.bus.publish("room.created", { room_id: "rx", app_id: "tenant-b" });
  assert.deepEqual(h.socket.sent, [], "nothing is sent before open");
  h.socket.open();
  const live = h.bus.publish("room.created", { room_id: "r1", app_id: "tenant-a" });
  h.bus.publish("room.created", { room_id: "r2" });
  assert.deepEqual(h.socket.sent, ['{"type":"connected"}', early.json, live.json]);
  h.client.close(1000, "test");
});

Deno.test("VsiClient drops the newest events when full and reports the count before the next event", async () => {
  const h = harness({ bufferSize: 4 });
  h.socket.bytesPerSend = 10; // above the 1-byte high-water mark after one frame: stalled
  h.socket.open();
  assert.equal(h.socket.sent.length, 1); // connected
  const ids = publish(h.bus, 4 + 25);
  assert.equal(h.client.droppedTotal, 25);
  assert.equal(await counter(h.metrics, "vsiEventsDropped"), 25);
  // A command reply is never refused by the event bound.
  h.socket.receive("not json");
  await until(() => h.client.queued === 5);

  h.socket.bufferedAmount = 0; // the peer drained
  h.socket.bytesPerSend = 0;
  await until(() => h.socket.sent.length === 1 + 4 + 1);
  const next = publish(h.bus, 1);
  const frames = h.socket.frames();
  assert.deepEqual(frames.slice(1, 5).map((f) => f.event_id), ids.slice(0, 4));
  assert.deepEqual(frames[5], { type: "error", data: { message: "invalid JSON" } });
  assert.deepEqual(frames[6], { type: "events_dropped", count: 25 });
  assert.equal(frames[7].event_id, next[0]);
  assert.equal(frames.length, 8);
  h.client.close(1000, "test");
});

Deno.test("VsiClient warns on the leading edge of a drop burst and at each power of ten", async () => {
  const h = harness({ bufferSize: 1 });
  h.socket.bytesPerSend = 10;
  h.socket.open();
  publish(h.bus, 1 + 150); // 1 queued, 150 dropped: warnings at 1, 10, 100
  const warns = () => h.logs.filter((l) => l.level === "warn").map((l) => l.dropped_in_burst);
  assert.deepEqual(warns(), [1, 10, 100]);
  h.socket.bufferedAmount = 0;
  await until(() => h.client.queued === 0);
  publish(h.bus, 1); // accepted into the queue: the burst is over
  publish(h.bus, 12); // a new burst of 12
  assert.deepEqual(warns(), [1, 10, 100, 1, 10]);
  assert.equal(h.client.droppedTotal, 162);
  h.client.close(1000, "test");
});

Deno.test("VsiClient closes a socket stuck above the high-water mark with 1008 write_timeout", async () => {
  const h = harness({ writeTimeoutMs: 80 });
  h.socket.bytesPerSend = 10;
  h.socket.open();
  publish(h.bus, 2);
  const t0 = performance.now();
  await until(() => h.socket.closedWith !== undefined);
  const waited = performance.now() - t0;
  assert.deepEqual(h.socket.closedWith, { code: 1008, reason: "write_timeout" });
  assert.ok(waited >= 75, `closed after ${waited} ms`);
  assert.deepEqual(h.stopped, [h.client]);
  assert.equal(h.bus.subscriberCount, 0);
  assert.equal(await counter(h.metrics, "vsiClients"), 0);
});

Deno.test("VsiClient keeps a socket that drains below the high-water mark before the deadline", async () => {
  const h = harness({ writeTimeoutMs: 250 });
  h.socket.bytesPerSend = 10;
  h.socket.open();
  publish(h.bus, 3);
  for (let i = 0; i < 10; i++) { // 500 ms in all, each stall far shorter than the deadline
    await new Promise((r) => setTimeout(r, 50));
    h.socket.bufferedAmount = 0; // drains every 50 ms, then stalls again on the next frame
    publish(h.bus, 1);
  }
  assert.equal(h.socket.closedWith, undefined);
  assert.ok(h.socket.sent.length >= 10, `sent ${h.socket.sent.length}`);
  h.client.close(1000, "test");
});

Deno.test("VsiClient pings with seq counting from 1 and closes a silent client with read_timeout", async () => {
  const h = harness({ pingIntervalMs: 30, readTimeoutMs: 200, highWaterBytes: 1 << 20 });
  h.socket.open();
  await until(() => h.socket.sent.length >= 4);
  assert.deepEqual(
    h.socket.frames().slice(1, 4),
    [1, 2, 3].map((n) => ({
      type: "ping",
      seq: n,
      event_id: n,
    })),
  );
  // Any frame, binary included, pushes the read deadline back.
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 50));
    h.socket.receive(i % 2 ? '{"type":"pong"}' : new ArrayBuffer(4));
  }
  assert.equal(h.socket.closedWith, undefined);
  await until(() => h.socket.closedWith !== undefined);
  assert.deepEqual(h.socket.closedWith, { code: 1008, reason: "read_timeout" });
  assert.equal(h.bus.subscriberCount, 0);
});

Deno.test("VsiClient answers a command that fails unexpectedly with 500 internal error", async () => {
  const rooms = {
    list(): never {
      throw new TypeError("boom");
    },
  };
  const h = harness({ highWaterBytes: 1 << 20, rooms });
  h.socket.open();
  h.socket.receive('{"type":"list_rooms","request_id":"q1"}');
  await until(() => h.socket.sent.length === 2);
  assert.deepEqual(h.socket.frames()[1], {
    type: "error",
    request_id: "q1",
    data: { code: 500, message: "internal error" },
  });
  const panics = await h.metrics.recoveredPanics.get();
  assert.deepEqual(panics.values.map((v) => [v.labels.component, v.value]), [["vsi", 1]]);
  h.client.close(1000, "test");
});

Deno.test("VsiClient releases its subscription, timers and gauge when the peer closes", async () => {
  const h = harness({ pingIntervalMs: 10, highWaterBytes: 1 << 20 });
  h.socket.open();
  assert.equal(h.bus.subscriberCount, 1);
  assert.equal(await counter(h.metrics, "vsiClients"), 1);
  h.socket.peerClose(1000);
  await h.client.closed;
  assert.equal(h.bus.subscriberCount, 0);
  assert.equal(await counter(h.metrics, "vsiClients"), 0);
  assert.deepEqual(h.stopped, [h.client]);
  assert.equal(h.socket.closedWith, undefined, "no close call on an already closed socket");
  const sent = h.socket.sent.length;
  publish(h.bus, 3);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(h.socket.sent.length, sent);
});

Deno.test("VsiClient stopped while the upgrade is still completing closes the socket once it opens", async () => {
  const h = harness({ highWaterBytes: 1 << 20 });
  h.client.close(1001, "server_shutdown");
  assert.equal(h.socket.closedWith, undefined, "close() is not called on a socket still upgrading");
  assert.equal(h.bus.subscriberCount, 0);
  h.socket.open();
  assert.deepEqual(h.socket.closedWith, { code: 1001, reason: "server_shutdown" });
  assert.deepEqual(h.socket.sent, [], "nothing is sent on a stopped client");
  h.socket.peerClose(1001);
  await h.client.closed;
});
