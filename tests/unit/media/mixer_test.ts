import assert from "node:assert/strict";
import { Mixer, type MixerSlot, type RoutingMatrix } from "../../../src/media/mixer.ts";
import { rms, toneRatio } from "../../../src/media/goertzel.ts";

const CUSTOMER = 1;
const AGENT = 2;
const SUPERVISOR = 3;
/** Whisper coaching: the supervisor is heard by the agent only. */
const WHISPER: RoutingMatrix = new Map([
  [CUSTOMER, [AGENT]],
  [AGENT, [CUSTOMER, SUPERVISOR]],
  [SUPERVISOR, [CUSTOMER, AGENT]],
]);

/** A phase-continuous sine, long enough to be sliced into frames. */
function sine(rate: number, freq: number, n: number, amp = 8000): Int16Array {
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return x;
}

/** A constant frame: makes "who is in this output" readable as a sum of distinct values. */
function fillConst(slot: { input: Int16Array; present: boolean }, v: number): void {
  slot.input.fill(v);
  slot.present = true;
}

/** Runs `ticks` frames with each slot fed its own signal; returns what each slot heard. */
function run(mixer: Mixer, feeds: Map<MixerSlot, Int16Array>, ticks: number) {
  const n = mixer.frameSize;
  const heard = new Map<MixerSlot, Int16Array>();
  for (const s of feeds.keys()) heard.set(s, new Int16Array(n * ticks));
  for (let t = 0; t < ticks; t++) {
    for (const [s, sig] of feeds) {
      s.input.set(sig.subarray(t * n, (t + 1) * n));
      s.present = true;
    }
    mixer.mix();
    for (const s of feeds.keys()) heard.get(s)!.set(s.output, t * n);
  }
  return heard;
}

for (const rate of [8000, 16000, 48000]) {
  Deno.test(`mix() at ${rate} Hz gives each participant the other two tones, never its own`, () => {
    const mixer = new Mixer(rate);
    const freqs = [500, 800, 1300];
    const ticks = 10;
    const feeds = new Map<MixerSlot, Int16Array>();
    freqs.forEach((f, i) => feeds.set(mixer.addSlot(i + 1), sine(rate, f, (rate / 50) * ticks)));
    const heard = run(mixer, feeds, ticks);
    const slots = [...feeds.keys()];
    slots.forEach((s, i) => {
      const out = heard.get(s)!;
      for (let j = 0; j < freqs.length; j++) {
        const r = toneRatio(out, rate, freqs[j]);
        if (i === j) assert.ok(r < 1e-4, `slot ${i} hears its own ${freqs[j]} Hz (${r})`);
        else assert.ok(r > 0.4, `slot ${i} misses ${freqs[j]} Hz (${r})`);
      }
    });
  });
}

Deno.test("a deaf participant hears silence while the others still hear it", () => {
  const mixer = new Mixer(16000);
  const a = mixer.addSlot(1, { deaf: true });
  const b = mixer.addSlot(2);
  fillConst(a, 1000);
  fillConst(b, 200);
  mixer.mix();
  assert.ok(a.output.every((v) => v === 0));
  assert.ok(b.output.every((v) => v === 1000));
});

Deno.test("a muted participant is not heard by others but still hears them", () => {
  const mixer = new Mixer(8000);
  const a = mixer.addSlot(1, { muted: true });
  const b = mixer.addSlot(2);
  const c = mixer.addSlot(3);
  fillConst(a, 1000);
  fillConst(b, 200);
  fillConst(c, 30);
  mixer.mix();
  assert.ok(a.output.every((v) => v === 230));
  assert.ok(b.output.every((v) => v === 30));
  assert.ok(c.output.every((v) => v === 200));
  assert.ok(Math.abs(mixer.level(1) - 1000) < 1e-9, "a muted input still has a level");
});

Deno.test("a sum beyond Int16 saturates at 32767 / -32768 instead of wrapping", () => {
  const mixer = new Mixer(8000);
  const a = mixer.addSlot(1);
  const b = mixer.addSlot(2);
  const listener = mixer.addSlot(3);
  const n = mixer.frameSize;
  for (let i = 0; i < n; i++) {
    const v = i % 2 === 0 ? 30000 : -30000; // in phase on both inputs
    a.input[i] = v;
    b.input[i] = v;
  }
  a.present = b.present = true;
  listener.input.fill(0);
  listener.present = true;
  mixer.mix();
  for (let i = 0; i < n; i++) {
    assert.equal(listener.output[i], i % 2 === 0 ? 32767 : -32768);
    assert.equal(a.output[i], i % 2 === 0 ? 30000 : -30000); // minus self: no clamp needed
  }
  const tap = new Int16Array(n);
  mixer.tap(tap);
  assert.equal(tap[0], 32767);
  assert.equal(tap[1], -32768);
});

Deno.test("a missing frame contributes silence and present is consumed by mix()", () => {
  const mixer = new Mixer(8000);
  const a = mixer.addSlot(1);
  const b = mixer.addSlot(2);
  fillConst(a, 500);
  mixer.mix();
  assert.equal(b.output[0], 500);
  assert.equal(a.present, false);
  mixer.mix(); // a wrote nothing new: its stale frame must not repeat
  assert.equal(b.output[0], 0);
  assert.equal(mixer.level(1), 0);
});

Deno.test("whisper matrix: the customer never hears the supervisor, from its first frame", () => {
  const mixer = new Mixer(16000);
  mixer.setRouting(WHISPER);
  const customer = mixer.addSlot(10, { roleIndex: CUSTOMER });
  const agent = mixer.addSlot(11, { roleIndex: AGENT });
  for (let t = 0; t < 3; t++) {
    fillConst(customer, 100);
    fillConst(agent, 20);
    mixer.mix();
  }
  const supervisor = mixer.addSlot(12, { roleIndex: SUPERVISOR });
  for (let t = 0; t < 3; t++) {
    fillConst(customer, 100);
    fillConst(agent, 20);
    fillConst(supervisor, 3);
    mixer.mix();
    assert.ok(customer.output.every((v) => v === 20), `customer heard ${customer.output[0]}`);
    assert.ok(agent.output.every((v) => v === 103));
    assert.ok(supervisor.output.every((v) => v === 120));
  }
});

Deno.test("an [] row isolates the listener; others still hear it unless their row excludes it", () => {
  const mixer = new Mixer(8000);
  mixer.setRouting(new Map([[5, []]]));
  const isolated = mixer.addSlot(1, { roleIndex: 5 });
  const other = mixer.addSlot(2);
  fillConst(isolated, 7);
  fillConst(other, 300);
  mixer.mix();
  assert.ok(isolated.output.every((v) => v === 0));
  assert.ok(other.output.every((v) => v === 7));
});

Deno.test("an unroled source is not heard by routed listeners; a role without a row hears all", () => {
  const mixer = new Mixer(8000);
  mixer.setRouting(new Map([[AGENT, [CUSTOMER, AGENT]], [SUPERVISOR, null]]));
  const unroled = mixer.addSlot(1);
  const customer = mixer.addSlot(2, { roleIndex: CUSTOMER });
  const agent = mixer.addSlot(3, { roleIndex: AGENT });
  const agent2 = mixer.addSlot(4, { roleIndex: AGENT });
  const supervisor = mixer.addSlot(5, { roleIndex: SUPERVISOR });
  fillConst(unroled, 1);
  fillConst(customer, 10);
  fillConst(agent, 100);
  fillConst(agent2, 1000);
  fillConst(supervisor, 10000);
  mixer.mix();
  assert.equal(agent.output[0], 10 + 1000, "agent hears customer and the other agent, not self");
  assert.equal(agent2.output[0], 10 + 100);
  assert.equal(customer.output[0], 1 + 100 + 1000 + 10000, "no row: full mesh");
  assert.equal(unroled.output[0], 10 + 100 + 1000 + 10000, "unroled listener hears everyone");
  assert.equal(supervisor.output[0], 1 + 10 + 100 + 1000, "null row = everyone");
});

Deno.test("routing and role changes take effect together at the next mix() boundary", () => {
  const mixer = new Mixer(8000);
  const a = mixer.addSlot(1, { roleIndex: CUSTOMER });
  const b = mixer.addSlot(2, { roleIndex: AGENT });
  const feed = () => {
    fillConst(a, 1);
    fillConst(b, 10);
  };
  feed();
  mixer.mix();
  assert.equal(a.output[0], 10);
  // Isolate customers, and move b to a role only customers would hear; neither applies yet.
  mixer.setRouting(new Map([[CUSTOMER, []], [AGENT, [AGENT]]]));
  mixer.setRole(2, SUPERVISOR);
  assert.equal(a.output[0], 10, "outputs of the finished tick are untouched");
  feed();
  mixer.mix();
  assert.equal(a.output[0], 0);
  assert.equal(b.output[0], 1, "b has no row under its new role: full mesh");
  mixer.setRouting(null);
  feed();
  mixer.mix();
  assert.equal(a.output[0], 10);
});

Deno.test("external sources are heard by every participant, with gain, and not by deaf ones", () => {
  const mixer = new Mixer(16000);
  mixer.setRouting(new Map([[CUSTOMER, []]]));
  const a = mixer.addSlot(1);
  const isolated = mixer.addSlot(2, { roleIndex: CUSTOMER });
  const deaf = mixer.addSlot(3, { deaf: true });
  const playback = mixer.addExternal(100);
  const quiet = mixer.addExternal(101, 0.5);
  fillConst(a, 1);
  playback.input.fill(1000);
  playback.present = true;
  quiet.input.fill(401);
  quiet.present = true;
  mixer.mix();
  assert.equal(a.output[0], 1201); // 1000 + round(200.5)
  assert.equal(isolated.output[0], 1201, "room playback reaches an isolated listener too");
  assert.equal(deaf.output[0], 0);
  assert.equal(playback.present, false);
  assert.ok(mixer.removeExternal(100));
  quiet.present = true;
  mixer.mix();
  assert.equal(a.output[0], 201);
});

Deno.test("the bridge-out tap excludes its own incoming external but keeps the rest", () => {
  const mixer = new Mixer(8000);
  const a = mixer.addSlot(1);
  const b = mixer.addSlot(2, { muted: true });
  const bridgeIn = mixer.addExternal(7);
  const playback = mixer.addExternal(8, 2);
  fillConst(a, 1);
  fillConst(b, 10);
  bridgeIn.input.fill(100);
  bridgeIn.present = true;
  playback.input.fill(1000);
  playback.present = true;
  mixer.mix();
  const out = new Int16Array(mixer.frameSize);
  mixer.tap(out, 7);
  assert.ok(out.every((v) => v === 1 + 2000), `bridge-out got ${out[0]}`);
  mixer.tap(out);
  assert.equal(out[0], 1 + 100 + 2000, "the recording tap hears everything audible");
  mixer.tapParticipants(out);
  assert.equal(out[0], 1, "participants only, muted excluded");
  playback.gain = 0.1; // changed after the mix: the tap must still remove what was mixed
  mixer.tap(out, 8);
  assert.equal(out[0], 101);
});

Deno.test("a bridged room with no participants still mixes its externals for the taps", () => {
  const mixer = new Mixer(8000);
  const bridgeIn = mixer.addExternal(1);
  const playback = mixer.addExternal(2);
  bridgeIn.input.fill(5);
  playback.input.fill(50);
  bridgeIn.present = playback.present = true;
  mixer.mix();
  const out = new Int16Array(mixer.frameSize);
  mixer.tap(out, 1);
  assert.equal(out[0], 50);
});

Deno.test("an empty mixer returns from mix() immediately and its taps are silent", () => {
  const empty = new Mixer(48000);
  const frame = new Int32Array(960);
  // Best of several runs, per call: robust against a busy machine.
  const perCall = (fn: () => void) => {
    let best = Infinity;
    for (let run = 0; run < 7; run++) {
      const t0 = performance.now();
      for (let i = 0; i < 100_000; i++) fn();
      best = Math.min(best, (performance.now() - t0) / 100_000);
    }
    return best;
  };
  // The cheapest real work a mix could do is clear one 48 kHz accumulator; an idle room must
  // cost well under that (it measures ~10× under), or it is doing per-frame work for nobody.
  const clear = perCall(() => frame.fill(0));
  const idle = perCall(() => empty.mix());
  assert.ok(
    idle < clear / 2,
    `idle mix ${(idle * 1e6).toFixed(1)} ns, one clear ${(clear * 1e6).toFixed(1)} ns`,
  );
  const out = new Int16Array(960).fill(9);
  empty.tap(out);
  assert.ok(out.every((v) => v === 0));
});

Deno.test("slots can be added past the initial capacity and removed in any order", () => {
  const mixer = new Mixer(8000);
  for (let id = 0; id < 37; id++) mixer.addSlot(id);
  assert.throws(() => mixer.addSlot(3), RangeError);
  for (let id = 0; id < 37; id += 2) assert.ok(mixer.removeSlot(id));
  assert.equal(mixer.removeSlot(0), false);
  assert.equal(mixer.size, 18);
  for (let id = 1; id < 37; id += 2) fillConst(mixer.slot(id)!, id);
  mixer.mix();
  const total = [...Array(18)].reduce((acc: number, _, i) => acc + 2 * i + 1, 0);
  for (let id = 1; id < 37; id += 2) assert.equal(mixer.slot(id)!.output[0], total - id);
});

Deno.test("level() reports the RMS of each participant's last input frame", () => {
  const mixer = new Mixer(16000);
  const a = mixer.addSlot(1);
  const sig = sine(16000, 1000, 320, 10000);
  a.input.set(sig);
  a.present = true;
  mixer.mix();
  assert.ok(Math.abs(mixer.level(1) - rms(sig)) < 1e-9);
  assert.ok(Math.abs(a.level - 10000 / Math.SQRT2) < 20);
  assert.equal(mixer.level(99), 0);
});

Deno.test("invalid rates, roles and routing rows are rejected", () => {
  assert.throws(() => new Mixer(44101), RangeError);
  assert.throws(() => new Mixer(8050), RangeError); // 161-sample frames: not 4-sample blocks
  const mixer = new Mixer(8000);
  assert.throws(() => mixer.addSlot(1, { roleIndex: -1 }), RangeError);
  assert.throws(() => mixer.setRole(42, 1), RangeError);
  assert.throws(() => mixer.setRouting(new Map([[0, [1]]])), RangeError);
  assert.throws(() => mixer.setRouting(new Map([[1, [5000]]])), RangeError);
});

// ── Bit-exactness against a direct per-listener reference. ──

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RefSlot {
  id: number;
  role: number;
  muted: boolean;
  deaf: boolean;
  present: boolean;
  input: Int16Array;
}

/** The definition, written the slow obvious way: per listener, per sample, loop over sources. */
function reference(
  slots: RefSlot[],
  externals: { input: Int16Array; gain: number; present: boolean }[],
  matrix: RoutingMatrix | null,
  n: number,
): Map<number, Int16Array> {
  const outs = new Map<number, Int16Array>();
  for (const l of slots) {
    const out = new Int16Array(n);
    if (!l.deaf) {
      const row = l.role > 0 && matrix ? matrix.get(l.role) : undefined;
      const hears = (s: RefSlot) =>
        row === undefined || row === null ? true : s.role !== 0 && row.includes(s.role);
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (const e of externals) {
          if (e.present) v += e.gain === 1 ? e.input[i] : Math.round(e.input[i] * e.gain);
        }
        for (const s of slots) {
          if (s !== l && s.present && !s.muted && hears(s)) v += s.input[i];
        }
        out[i] = Math.max(-32768, Math.min(32767, v));
      }
    }
    outs.set(l.id, out);
  }
  return outs;
}

Deno.test("mix() is bit-exact with a naive reference on random rooms, routes and clamps", () => {
  const rnd = prng(20261125);
  for (let trial = 0; trial < 60; trial++) {
    const rate = [8000, 16000, 24000, 48000][trial % 4];
    const mixer = new Mixer(rate);
    const n = mixer.frameSize;
    const ref: RefSlot[] = [];
    const count = 1 + Math.floor(rnd() * 9);
    const role = () => (rnd() < 0.25 ? 0 : 1 + Math.floor(rnd() * 4));
    for (let id = 0; id < count; id++) {
      const r: RefSlot = {
        id,
        role: role(),
        muted: rnd() < 0.15,
        deaf: rnd() < 0.1,
        present: false,
        input: new Int16Array(n),
      };
      mixer.addSlot(id, { roleIndex: r.role, muted: r.muted, deaf: r.deaf });
      ref.push(r);
    }
    const exts = [...Array(Math.floor(rnd() * 3))].map((_, k) => {
      const e = mixer.addExternal(k, rnd() < 0.5 ? 1 : rnd() * 3);
      return { ext: e, ref: { input: e.input, gain: e.gain, present: false } };
    });
    let matrix: RoutingMatrix | null = null;
    for (let tick = 0; tick < 6; tick++) {
      if (rnd() < 0.5) {
        const m = new Map<number, number[] | null>();
        for (let lr = 1; lr <= 4; lr++) {
          const p = rnd();
          if (p < 0.2) m.set(lr, null);
          else if (p < 0.8) m.set(lr, [0, 1, 2, 3, 4].filter(() => rnd() < 0.5));
        }
        matrix = rnd() < 0.2 ? null : m;
        mixer.setRouting(matrix);
      }
      if (rnd() < 0.3) {
        const r = ref[Math.floor(rnd() * count)];
        r.role = role();
        mixer.setRole(r.id, r.role);
      }
      // Loud inputs so that clamping happens often.
      const loud = rnd() < 0.5 ? 32768 : 8000;
      for (const r of ref) {
        r.present = rnd() < 0.85;
        const slot = mixer.slot(r.id)!;
        for (let i = 0; i < n; i++) r.input[i] = Math.floor((rnd() * 2 - 1) * loud);
        slot.input.set(r.input);
        slot.present = r.present;
      }
      for (const { ext, ref: er } of exts) {
        for (let i = 0; i < n; i++) ext.input[i] = Math.floor((rnd() * 2 - 1) * loud);
        er.present = ext.present = rnd() < 0.7;
      }
      const expect = reference(ref, exts.map((e) => e.ref), matrix, n);
      mixer.mix();
      for (const r of ref) {
        assert.deepEqual(mixer.slot(r.id)!.output, expect.get(r.id), `trial ${trial} tick ${tick}`);
        const level = r.present ? rms(r.input) : 0;
        assert.ok(Math.abs(mixer.level(r.id) - level) < 1e-6);
      }
    }
  }
});
