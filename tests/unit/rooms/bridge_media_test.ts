import assert from "node:assert/strict";
import { MediaEngine } from "../../../src/media/engine.ts";
import {
  createBridgeFeature,
  MAX_FRAMES,
  PRIME_FRAMES,
} from "../../../src/media/bridge_feature.ts";
import { BRIDGE_EXTERNAL_BASE, BRIDGE_RING_FRAMES } from "../../../src/media/bridge_protocol.ts";
import type { WorkerCommand } from "../../../src/media/protocol.ts";
import { PcmRing } from "../../../src/media/pcm_ring.ts";
import { toneRatio } from "../../../src/media/goertzel.ts";
import { attachPeer } from "../media/_engine_rig.ts";

const RATE = 16000;
const N = RATE / 50;
const FB = N * 2;

/** A media engine standing for one worker; its clock never fires (tests call tick()). */
function worker() {
  const feature = createBridgeFeature();
  const errors: unknown[] = [];
  const engine = new MediaEngine((ev) => {
    if (ev.t === "bridge.error") errors.push(ev);
  }, { periodMs: 1e9, features: [feature] });
  return { engine, feature, errors, stop: () => engine.handle({ t: "stop" }) };
}

/** A participant fed a phase-continuous tone (0 Hz = silent), recording what it hears. */
class Peer {
  readonly #in: PcmRing;
  readonly #out: PcmRing;
  readonly heard: Int16Array[] = [];
  #phase = 0;
  constructor(engine: MediaEngine, readonly id: string, roomId: string, readonly toneHz: number) {
    const ingress = PcmRing.allocate(FB * 50);
    const egress = PcmRing.allocate(FB * 50);
    attachPeer(engine, id, RATE, { ingress, egress }, roomId);
    this.#in = new PcmRing(ingress);
    this.#out = new PcmRing(egress);
  }
  /** Queues one frame of its tone. */
  speak(): void {
    const f = new Int16Array(N);
    const step = (2 * Math.PI * this.toneHz) / RATE;
    for (let i = 0; i < N; i++) {
      f[i] = this.toneHz ? Math.round(8000 * Math.sin(this.#phase)) : 0;
      this.#phase += step;
    }
    this.#in.write(new Uint8Array(f.buffer));
  }
  /** Collects what the engine sent it. */
  listen(): void {
    const b = new Uint8Array(FB);
    while (this.#out.read(b, FB)) this.heard.push(new Int16Array(b.slice().buffer));
  }
  /** The last `frames` frames heard, as one buffer. */
  tail(frames: number): Int16Array {
    const fs = this.heard.slice(-frames);
    const out = new Int16Array(fs.length * N);
    fs.forEach((f, i) => out.set(f, i * N));
    return out;
  }
}

/** Commands attaching both sides of a bridge between `a` and `b`. */
function bridgeCommands(id: string, a: string, b: string, aToB: boolean, bToA: boolean) {
  const ab = PcmRing.allocate(FB * BRIDGE_RING_FRAMES);
  const ba = PcmRing.allocate(FB * BRIDGE_RING_FRAMES);
  const ext = BRIDGE_EXTERNAL_BASE + 1;
  const sideA: WorkerCommand = {
    t: "bridge.attach",
    bridgeId: id,
    roomId: a,
    externalId: ext,
    incoming: ba,
    outgoing: ab,
    sends: aToB,
    receives: bToA,
  };
  const sideB: WorkerCommand = {
    t: "bridge.attach",
    bridgeId: id,
    roomId: b,
    externalId: ext,
    incoming: ab,
    outgoing: ba,
    sends: bToA,
    receives: aToB,
  };
  return { sideA, sideB, ab: new PcmRing(ab), ba: new PcmRing(ba) };
}

function has(x: Int16Array, hz: number): boolean {
  return toneRatio(x, RATE, hz) > 0.1;
}
function lacks(x: Int16Array, hz: number): boolean {
  return toneRatio(x, RATE, hz) < 0.01;
}

/** Two workers, one room each, one talker per room. */
function twoWorkers() {
  const w1 = worker();
  const w2 = worker();
  w1.engine.handle({ t: "room.create", roomId: "a", rate: RATE });
  w2.engine.handle({ t: "room.create", roomId: "b", rate: RATE });
  const pa = new Peer(w1.engine, "pa", "a", 600);
  const pb = new Peer(w2.engine, "pb", "b", 1000);
  const run = (ticks: number) => {
    for (let t = 0; t < ticks; t++) {
      pa.speak();
      pb.speak();
      w1.engine.tick();
      w2.engine.tick();
      pa.listen();
      pb.listen();
    }
  };
  return { w1, w2, pa, pb, run, stop: () => (w1.stop(), w2.stop()) };
}

Deno.test("a bidirectional bridge across two engines carries each room's audio, never echoing back", () => {
  const { w1, w2, pa, pb, run, stop } = twoWorkers();
  try {
    const { sideA, sideB } = bridgeCommands("br", "a", "b", true, true);
    w1.engine.handle(sideA);
    w2.engine.handle(sideB);
    run(40);
    assert.ok(has(pb.tail(20), 600), "b hears a");
    assert.ok(has(pa.tail(20), 1000), "a hears b");
    assert.ok(lacks(pa.tail(20), 600), "a does not hear itself through b");
    assert.ok(lacks(pb.tail(20), 1000), "b does not hear itself through a");
    assert.deepEqual([w1.errors, w2.errors], [[], []]);
  } finally {
    stop();
  }
});

Deno.test("bridge.direction switches each way live and bridge.detach removes the side", () => {
  const { w1, w2, pa, pb, run, stop } = twoWorkers();
  try {
    const { sideA, sideB } = bridgeCommands("br", "a", "b", true, false);
    w1.engine.handle(sideA);
    w2.engine.handle(sideB);
    run(30);
    assert.ok(has(pb.tail(20), 600) && lacks(pa.tail(20), 1000), "a_to_b");
    const dir = (room: string, sends: boolean, receives: boolean) => ({
      t: "bridge.direction" as const,
      bridgeId: "br",
      roomId: room,
      sends,
      receives,
    });
    w1.engine.handle(dir("a", false, true));
    w2.engine.handle(dir("b", true, false));
    run(30);
    assert.ok(lacks(pb.tail(20), 600) && has(pa.tail(20), 1000), "b_to_a");
    w1.engine.handle(dir("a", false, false));
    w2.engine.handle(dir("b", false, false));
    run(30);
    assert.ok(lacks(pb.tail(20), 600) && lacks(pa.tail(20), 1000), "none");
    w1.engine.handle(dir("a", true, true));
    w2.engine.handle(dir("b", true, true));
    run(30);
    assert.ok(has(pb.tail(20), 600) && has(pa.tail(20), 1000), "bidirectional again");
    w1.engine.handle({ t: "bridge.detach", bridgeId: "br", roomId: "a" });
    w2.engine.handle({ t: "bridge.detach", bridgeId: "br", roomId: "b" });
    assert.equal(w1.feature.sides().length + w2.feature.sides().length, 0);
    run(30);
    assert.ok(lacks(pb.tail(20), 600) && lacks(pa.tail(20), 1000), "detached");
  } finally {
    stop();
  }
});

Deno.test("the reader primes, plays silence on underrun and trims a backlog to a bounded latency", () => {
  const { w1, w2, pb, stop } = twoWorkers();
  try {
    const { sideA, sideB, ab } = bridgeCommands("br", "a", "b", true, false);
    w1.engine.handle(sideA);
    w2.engine.handle(sideB);
    // Room a's worker runs ahead by many ticks (its clock fired while b's was late).
    for (let t = 0; t < 12; t++) w1.engine.tick();
    assert.equal(ab.available(), BRIDGE_RING_FRAMES * FB, "ring full, later frames dropped");
    assert.ok(ab.dropped > 0);
    w2.engine.tick();
    assert.equal(ab.available(), (PRIME_FRAMES - 1) * FB, "trimmed back to the margin");
    // Worker b now runs alone: it plays what is left, then silence, and must re-prime.
    for (let t = 0; t < 3; t++) w2.engine.tick();
    assert.equal(ab.available(), 0);
    w1.engine.tick();
    w2.engine.tick();
    assert.equal(ab.available(), FB, "one frame is below the margin: not played yet");
    w1.engine.tick();
    w2.engine.tick();
    assert.equal(ab.available(), FB, "primed again: one frame played, one kept");
    assert.ok(MAX_FRAMES > PRIME_FRAMES);
    pb.listen();
  } finally {
    stop();
  }
});

Deno.test("a room with no members relays between two bridges on one engine, echo-free", () => {
  const w = worker();
  try {
    for (const r of ["a", "b", "c"]) w.engine.handle({ t: "room.create", roomId: r, rate: RATE });
    const talker = new Peer(w.engine, "talker", "a", 700);
    const listener = new Peer(w.engine, "listener", "b", 0);
    const ac = bridgeCommands("ac", "a", "c", true, true);
    const cb = bridgeCommands("cb", "c", "b", true, true);
    // Distinct external ids, as the registry allocates them.
    w.engine.handle(ac.sideA);
    w.engine.handle(ac.sideB);
    w.engine.handle({ ...cb.sideA, externalId: BRIDGE_EXTERNAL_BASE + 2 } as WorkerCommand);
    w.engine.handle({ ...cb.sideB, externalId: BRIDGE_EXTERNAL_BASE + 2 } as WorkerCommand);
    for (let t = 0; t < 40; t++) {
      talker.speak();
      listener.speak();
      w.engine.tick();
      talker.listen();
      listener.listen();
    }
    assert.ok(has(listener.tail(20), 700), "b hears a through c");
    const back = talker.tail(20);
    assert.ok(back.every((s) => s === 0), "a hears nothing of itself back");
  } finally {
    w.stop();
  }
});

Deno.test("attach to a room the worker does not mix reports bridge.error; room.delete drops sides", () => {
  const w = worker();
  try {
    const { sideA } = bridgeCommands("br", "nowhere", "b", true, true);
    w.engine.handle(sideA);
    assert.equal(w.errors.length, 1);
    w.engine.handle({ t: "room.create", roomId: "a", rate: RATE });
    w.engine.handle(bridgeCommands("br2", "a", "b", true, true).sideA);
    assert.equal(w.feature.sides().length, 1);
    w.engine.handle({ t: "room.delete", roomId: "a" });
    assert.equal(w.feature.sides().length, 0);
  } finally {
    w.stop();
  }
});
