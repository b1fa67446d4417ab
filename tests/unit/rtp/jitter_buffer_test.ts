import assert from "node:assert/strict";
import {
  JB_FRAME,
  JB_GAP,
  JitterBuffer,
  type JitterBufferOptions,
} from "../../../src/rtp/jitter_buffer.ts";
import { RtpPacket } from "../../../src/rtp/packet.ts";

interface P {
  seq: number;
  ts?: number;
  marker?: boolean;
  ssrc?: number;
}

function packet(p: P): RtpPacket {
  const pkt = new RtpPacket();
  pkt.sequenceNumber = p.seq & 0xffff;
  pkt.timestamp = (p.ts ?? p.seq * 160) >>> 0;
  pkt.marker = p.marker ?? false;
  pkt.ssrc = p.ssrc ?? 1;
  pkt.payloadType = 0;
  pkt.payload = Uint8Array.of(p.seq & 0xff, (p.seq >> 8) & 0xff, 7);
  return pkt;
}

/**
 * Runs a tick schedule: at tick t, the packets of arrivals[t] are pushed, then one
 * pop. Returns "<seq>" for a frame, "gap" or "-" (none) per tick.
 */
function run(jb: JitterBuffer, arrivals: P[][], ticks = arrivals.length): string[] {
  const out: string[] = [];
  for (let t = 0; t < ticks; t++) {
    for (const p of arrivals[t] ?? []) jb.push(packet(p));
    const r = jb.pop(t);
    if (r === JB_FRAME) {
      assert.equal(jb.frame.payload[0], jb.frame.seq & 0xff); // payload travelled with its header
      out.push(String(jb.frame.seq));
    } else out.push(r === JB_GAP ? "gap" : "-");
  }
  return out;
}

/** One packet per tick with consecutive sequence numbers from `first`. */
function steady(first: number, n: number, extra: Partial<P> = {}): P[][] {
  return Array.from({ length: n }, (_, i) => [{ seq: first + i, ...extra }]);
}

const opts = (o: Partial<JitterBufferOptions> = {}): JitterBufferOptions => ({
  targetMs: 60,
  maxMs: 200,
  ...o,
});

Deno.test("JitterBuffer plays an in-order stream after building the 60 ms target", () => {
  const jb = new JitterBuffer(opts());
  const out = run(jb, steady(100, 10), 10);
  assert.deepEqual(out, ["-", "-", "100", "101", "102", "103", "104", "105", "106", "107"]);
  assert.equal(jb.depth, 2);
  assert.equal(jb.stats.gaps, 0);
});

Deno.test("JitterBuffer puts packets reordered within the target back in sequence", () => {
  const jb = new JitterBuffer(opts());
  const arrivals = [
    [{ seq: 0 }],
    [{ seq: 1 }],
    [{ seq: 3 }],
    [{ seq: 2 }],
    [{ seq: 5 }],
    [{
      seq: 4,
    }],
    [{ seq: 6 }],
    [],
    [],
    [],
  ];
  assert.deepEqual(run(jb, arrivals), ["-", "-", "0", "1", "2", "3", "4", "5", "6", "-"]);
  assert.equal(jb.stats.gaps, 0);
  assert.equal(jb.stats.late, 0);
});

Deno.test("JitterBuffer signals a gap for a lost frame and keeps the pace", () => {
  const jb = new JitterBuffer(opts());
  const arrivals = steady(0, 10).map((a) => a[0].seq === 5 ? [] : a);
  assert.deepEqual(run(jb, arrivals, 12), [
    "-",
    "-",
    "0",
    "1",
    "2",
    "3",
    "4",
    "gap",
    "6",
    "7",
    "8",
    "9",
  ]);
  assert.equal(jb.stats.gaps, 1);
});

Deno.test("JitterBuffer drops a packet that arrives after its turn was concealed", () => {
  const jb = new JitterBuffer(opts());
  const arrivals = steady(0, 10).map((a) => a[0].seq === 5 ? [] : a);
  arrivals[9].push({ seq: 5 }); // four ticks too late
  const out = run(jb, arrivals, 12);
  assert.equal(out.filter((s) => s === "5").length, 0);
  assert.equal(jb.stats.late, 1);
});

Deno.test("JitterBuffer keeps only max ms of audio, dropping the oldest frames", () => {
  const jb = new JitterBuffer(opts({ maxMs: 200 })); // 10 frames
  const burst = [Array.from({ length: 20 }, (_, i) => ({ seq: 1000 + i }))];
  const out = run(jb, burst, 12);
  assert.deepEqual(out.slice(0, 10), range(1010, 10).map(String));
  assert.deepEqual(out.slice(10), ["-", "-"]);
  assert.equal(jb.stats.overflowDropped, 10);
});

Deno.test("JitterBuffer follows sequence numbers across the 65535 wrap", () => {
  const jb = new JitterBuffer(opts());
  const out = run(jb, steady(65533, 8), 10);
  assert.deepEqual(out, ["-", "-", "65533", "65534", "65535", "0", "1", "2", "3", "4"]);
});

Deno.test("JitterBuffer rejects duplicates and copies payloads out of the receive buffer", () => {
  const jb = new JitterBuffer(opts({ targetMs: 20 }));
  const pkt = packet({ seq: 9 });
  assert.equal(jb.push(pkt), true);
  assert.equal(jb.push(pkt), false);
  assert.equal(jb.stats.duplicates, 1);
  pkt.payload[0] = 0xee; // the receive buffer is reused by the next datagram
  assert.equal(jb.pop(0), JB_FRAME);
  assert.equal(jb.frame.payload[0], 9);
  assert.equal(jb.frame.payload.length, 3);
});

Deno.test("JitterBuffer in passthrough emits in arrival order, one frame per tick", () => {
  const jb = new JitterBuffer(opts({ targetMs: 0, maxMs: 100 }));
  assert.equal(jb.passthrough, true);
  const out = run(jb, [[{ seq: 3 }, { seq: 1 }, { seq: 2 }], [], [], [], [{ seq: 4 }]], 6);
  assert.deepEqual(out, ["3", "1", "2", "-", "4", "-"]);
  jb.push(packet({ seq: 5 }));
  assert.equal(jb.pop(10), JB_FRAME);
  jb.push(packet({ seq: 6 }));
  assert.equal(jb.pop(10), 0); // same tick: at most one frame
});

Deno.test("JitterBuffer in passthrough drops the oldest frames beyond max", () => {
  const jb = new JitterBuffer(opts({ targetMs: 0, maxMs: 100 })); // 5 frames
  const out = run(jb, [range(0, 8).map((seq) => ({ seq }))], 6);
  assert.deepEqual(out, ["3", "4", "5", "6", "7", "-"]);
  assert.equal(jb.stats.overflowDropped, 3);
});

Deno.test("JitterBuffer resets on an SSRC change and plays the new source", () => {
  const jb = new JitterBuffer(opts());
  const arrivals: P[][] = [
    ...steady(0, 5),
    ...steady(5000, 6, { ssrc: 2 }),
  ];
  const out = run(jb, arrivals);
  assert.deepEqual(out, ["-", "-", "0", "1", "2", "-", "-", "5000", "5001", "5002", "5003"]);
  assert.equal(jb.stats.resets, 1);
});

Deno.test("JitterBuffer re-anchors at a marked talkspurt after silence and rebuilds the target", () => {
  const jb = new JitterBuffer(opts());
  const arrivals: P[][] = [...steady(0, 5), [], [], [], [], []];
  // silence suppression: sequence numbers continue, the timestamp jumps 5 s
  for (let i = 0; i < 5; i++) {
    arrivals.push([{ seq: 5 + i, ts: 40000 + i * 160, marker: i === 0 }]);
  }
  const out = run(jb, arrivals, 16);
  assert.deepEqual(out, [
    "-",
    "-",
    "0",
    "1",
    "2",
    "3",
    "4",
    "-",
    "-",
    "-",
    "-", // silence
    "-",
    "5", // target rebuilt: two ticks of waiting, no gaps
    "6",
    "7",
    "8",
  ]);
  assert.equal(jb.stats.gaps, 0);
});

Deno.test("JitterBuffer treats a timestamp jump without marker as a talkspurt start", () => {
  const jb = new JitterBuffer(opts());
  const arrivals: P[][] = [...steady(0, 4), [], []];
  for (let i = 0; i < 4; i++) arrivals.push([{ seq: 4 + i, ts: 90000 + i * 160 }]);
  const out = run(jb, arrivals, 10);
  assert.deepEqual(out.slice(6), ["-", "-", "4", "5"]);
});

Deno.test("JitterBuffer absorbs a delay spike without re-anchoring: the late burst restores depth", () => {
  const jb = new JitterBuffer(opts());
  const arrivals: P[][] = [
    ...steady(0, 5),
    [],
    [],
    [],
    range(5, 4).map((seq) => ({ seq })),
    ...steady(9, 3),
  ];
  const out = run(jb, arrivals);
  // frames 3 and 4 drain the buffer, the spike underruns once, then 5… play at once
  assert.deepEqual(out, ["-", "-", "0", "1", "2", "3", "4", "-", "5", "6", "7", "8"]);
  assert.equal(jb.stats.underruns, 1);
  assert.equal(jb.stats.gaps, 0);
  assert.equal(jb.depth, 3);
});

function range(from: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

Deno.test("JitterBuffer in passthrough drains a standing queue left by a late packet", () => {
  const jb = new JitterBuffer({ targetMs: 0, maxMs: 300 });
  // Seq 1 arrives a tick late together with seq 2; from then on one packet per tick: one frame
  // would be left over after every pop for ever (20 ms more delay, growing with each late packet).
  const arrivals: P[][] = [[{ seq: 0 }], [], [{ seq: 1 }, { seq: 2 }]];
  for (let s = 3; s < 150; s++) arrivals.push([{ seq: s }]);
  const out = run(jb, arrivals);
  assert.equal(jb.stats.drained, 1, "one frame discarded after a second of standing queue");
  assert.equal(jb.depth, 0, "the delay is back under one frame");
  // Every frame but the drained one was played, in order.
  const played = out.filter((x) => x !== "-").map(Number);
  assert.equal(played.length, 149);
  assert.deepEqual(played, [...played].sort((a, b) => a - b));
});

Deno.test("JitterBuffer in passthrough leaves a jittery but unqueued stream alone", () => {
  const jb = new JitterBuffer({ targetMs: 0, maxMs: 300 });
  // Pairs and gaps alternate (jitter of one frame), but the queue empties every other tick.
  const arrivals: P[][] = [];
  for (let s = 0; s < 200; s += 2) arrivals.push([{ seq: s }, { seq: s + 1 }], []);
  run(jb, arrivals);
  assert.equal(jb.stats.drained, 0);
  assert.equal(jb.stats.played, 200);
});
