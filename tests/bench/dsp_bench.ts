/**
 * DSP kernel benchmarks (`deno bench tests/bench/dsp_bench.ts`): the mixer, the resampler and
 * the tone generator, each per call on one 20 ms frame, JIT-warm. Compare with the probes in
 * shared/notes/deno-media-physics.md §3. Each group's baseline is its smallest working case,
 * so Deno prints the other cases as ratios to it. Never asserts on time.
 */
import { Mixer, type MixerSlot } from "../../src/media/mixer.ts";
import { Resampler } from "../../src/media/resampler.ts";
import { lookupTone, ToneGenerator } from "../../src/media/tones.ts";

/** Deterministic speech-band noise so inputs are not constant (constant data can flatter a CPU). */
function noise(n: number, amp: number, seed: number): Int16Array {
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    x[i] = Math.round(((seed / 2 ** 32) * 2 - 1) * amp);
  }
  return x;
}

/** A mixer with `n` present participants (inputs written once; `present` re-armed per call). */
function room(rate: number, n: number) {
  const mixer = new Mixer(rate);
  const slots: MixerSlot[] = [];
  for (let i = 0; i < n; i++) {
    const s = mixer.addSlot(i);
    s.input.set(noise(mixer.frameSize, 8000, i + 1));
    slots.push(s);
  }
  return () => {
    for (let i = 0; i < slots.length; i++) slots[i].present = true;
    mixer.mix();
  };
}

const mix2 = room(16000, 2);
const mix5 = room(16000, 5);
const mix20 = room(16000, 20);
const mix5At48 = room(48000, 5);
const mixEmpty = room(16000, 0);
Deno.bench("mix 16k N=2", { group: "mixer", baseline: true }, mix2);
Deno.bench("mix 16k N=5", { group: "mixer" }, mix5);
Deno.bench("mix 16k N=20", { group: "mixer" }, mix20);
Deno.bench("mix 48k N=5", { group: "mixer" }, mix5At48);
Deno.bench("mix 16k N=0 (idle room)", { group: "mixer" }, mixEmpty);

Deno.bench("mix 16k N=5 full mesh", { group: "routing", baseline: true }, mix5);
{
  // Whisper coaching: customers hear agents; agents hear customers and the supervisor.
  const mixer = new Mixer(16000);
  const slots = [1, 2, 3, 1, 2].map((role, i) => {
    const s = mixer.addSlot(i, { roleIndex: role });
    s.input.set(noise(mixer.frameSize, 8000, i + 1));
    return s;
  });
  mixer.setRouting(new Map([[1, [2]], [2, [1, 3]], [3, [1, 2]]]));
  Deno.bench("mix 16k N=5 whisper matrix (3 rows)", { group: "routing" }, () => {
    for (let i = 0; i < slots.length; i++) slots[i].present = true;
    mixer.mix();
  });
}

function resampleBench(inRate: number, outRate: number, baseline = false): void {
  const r = new Resampler(inRate, outRate);
  const input = noise(inRate / 50, 8000, 7);
  const out = new Int16Array(r.outputLength(input.length));
  Deno.bench(
    `resample ${inRate / 1000}k→${outRate / 1000}k`,
    { group: "resampler", baseline },
    () => {
      r.process(input, input.length, out);
    },
  );
}
resampleBench(8000, 16000, true);
resampleBench(16000, 8000);
resampleBench(16000, 48000);
resampleBench(48000, 16000);
resampleBench(8000, 48000);
resampleBench(48000, 8000);

for (const rate of [8000, 48000]) {
  const gen = new ToneGenerator(lookupTone("us_dial")!, rate);
  const frame = new Int16Array(gen.frameSize);
  Deno.bench(`tone us_dial ${rate / 1000}k`, { group: "tones", baseline: rate === 8000 }, () => {
    gen.fill(frame);
  });
}
{
  const gen = new ToneGenerator(lookupTone("au_dial")!, 16000); // three components (AM)
  const frame = new Int16Array(gen.frameSize);
  Deno.bench("tone au_dial 16k (3 components)", { group: "tones" }, () => gen.fill(frame));
}
