import assert from "node:assert/strict";
import {
  addScaled,
  FileVoice,
  renderedLength,
  Rendering,
  renderProgressively,
  ToneVoice,
  volumeGain,
} from "../../../src/media/player_voice.ts";
import { resampleAll } from "../../../src/media/resampler.ts";
import { lookupTone } from "../../../src/media/tones.ts";
import { rms, toneRatio } from "../../../src/media/goertzel.ts";

function sine(rate: number, freq: number, n: number, amp = 10000): Int16Array {
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return x;
}

/** Pulls `frames` 20 ms frames at `rate`; returns the audio and whether each frame said "more". */
function pull(
  voice: { fill(o: Int16Array, n: number, r: number): boolean },
  rate: number,
  frames: number,
) {
  const n = rate / 50;
  const out = new Int16Array(n * frames);
  const frame = new Int16Array(n);
  const more: boolean[] = [];
  for (let f = 0; f < frames; f++) {
    more.push(voice.fill(frame, n, rate));
    out.set(frame, f * n);
  }
  return { out, more };
}

const now = (fn: () => void) => fn();

Deno.test("volumeGain() is about 3 dB per step and exactly 1 at 0", () => {
  assert.equal(volumeGain(0), 1);
  for (const step of [-8, -3, 1, 4, 8]) {
    assert.ok(Math.abs(20 * Math.log10(volumeGain(step)) - 3 * step) < 1e-9, `step ${step}`);
  }
});

Deno.test("addScaled() adds with gain and saturates instead of wrapping", () => {
  const out = Int16Array.from([30000, -30000, 100, 0]);
  addScaled(out, Int16Array.from([10000, -10000, 50, 7]), 4, 1);
  assert.deepEqual([...out], [32767, -32768, 150, 7]);
  const out2 = Int16Array.from([0, 0]);
  addScaled(out2, Int16Array.from([1000, -1000]), 2, 2);
  assert.deepEqual([...out2], [2000, -2000]);
});

Deno.test("renderProgressively() from 0 equals resampleAll() for 44.1 kHz → 16 kHz", async () => {
  const src = sine(44100, 700, 50_000);
  for (let i = 0; i < src.length; i += 97) src[i] = (i * 7919) % 20000 - 10000; // not just a sine
  const want = resampleAll(src, 44100, 16000);
  const r = new Rendering(16000, renderedLength(src.length, 44100, 16000), 0);
  await renderProgressively(r, src, 44100, new AbortController().signal);
  assert.equal(r.buf.length, want.length);
  assert.deepEqual(r.buf, want);
  assert.ok(r.ready(0, r.buf.length));
});

Deno.test("renderProgressively() from the middle fills the tail first, then the head", async () => {
  const src = sine(22050, 500, 22050);
  const len = renderedLength(src.length, 22050, 8000);
  const start = 3040; // a multiple of 160, where 8 kHz and 22.05 kHz samples line up
  const r = new Rendering(8000, len, start);
  assert.equal(r.ready(start, 160), false);
  await renderProgressively(r, src, 22050, new AbortController().signal);
  assert.ok(r.ready(start, 160) && r.ready(0, 160) && r.ready(len - 160, 160));
  const want = resampleAll(src, 22050, 8000);
  // Away from the seam and the edges the two renderings agree to within filter rounding.
  for (const at of [100, 2000, 3100, 4000, 7000]) {
    assert.ok(Math.abs(r.buf[at] - want[at]) <= 2, `sample ${at}: ${r.buf[at]} vs ${want[at]}`);
  }
});

Deno.test("renderProgressively() stops when aborted", async () => {
  const src = sine(16000, 500, 16000);
  const r = new Rendering(8000, renderedLength(src.length, 16000, 8000), 0);
  const ac = new AbortController();
  ac.abort();
  await renderProgressively(r, src, 16000, ac.signal);
  assert.equal(r.ready(0, 1), false);
});

Deno.test("FileVoice plays a clip N times, then says it ended, counting played_ms", async () => {
  const src = sine(16000, 1000, 1600); // 100 ms
  const voice = new FileVoice(src, 16000, { times: 3, defer: now });
  voice.prepare(16000);
  await voice.whenRendered();
  const { out, more } = pull(voice, 16000, 16);
  // The 15th frame holds the last samples and already says the voice ended.
  assert.deepEqual(more, [...new Array(14).fill(true), false, false]);
  for (let k = 0; k < 3; k++) assert.deepEqual(out.subarray(k * 1600, (k + 1) * 1600), src);
  assert.equal(rms(out, 4800, 320), 0, "silence after the end");
  assert.equal(Math.round(voice.playedMs), 300);
  assert.ok(voice.audible);
});

Deno.test("FileVoice with times -1 loops forever without a gap", async () => {
  const src = sine(8000, 500, 400); // 50 ms: the loop point falls mid-frame
  const voice = new FileVoice(src, 8000, { times: -1, defer: now });
  voice.prepare(8000);
  await voice.whenRendered();
  const { out, more } = pull(voice, 8000, 50);
  assert.ok(more.every((m) => m));
  for (let i = 0; i < out.length; i++) assert.equal(out[i], src[i % 400]);
  assert.equal(Math.round(voice.playedMs), 1000);
});

Deno.test("FileVoice keeps pitch and position when the mix rate changes, after a short gap", async () => {
  const src = sine(44100, 1000, 44100 * 2); // 2 s at 44.1 kHz
  const pending: (() => void)[] = [];
  const voice = new FileVoice(src, 44100, { times: 1, defer: (fn) => pending.push(fn) });
  // Nothing rendered yet: silence, and the position does not move.
  const first = pull(voice, 16000, 2);
  assert.equal(rms(first.out), 0);
  assert.equal(voice.playedMs, 0);
  assert.equal(voice.audible, false);
  pending.shift()!();
  await voice.whenRendered();
  const a = pull(voice, 16000, 25);
  assert.ok(toneRatio(a.out, 16000, 1000, 320) > 0.9);
  assert.equal(Math.round(voice.playedMs), 500);
  const gap = pull(voice, 8000, 1); // rate change: rendering again, one silent frame
  assert.equal(rms(gap.out), 0);
  assert.equal(voice.resumeState().positionMs, 500);
  pending.shift()!();
  await voice.whenRendered();
  const b = pull(voice, 8000, 25);
  assert.ok(toneRatio(b.out, 8000, 1000, 160) > 0.9);
  assert.equal(Math.round(voice.playedMs), 1000);
  const rest = pull(voice, 8000, 60);
  assert.equal(rest.more.indexOf(false), 49, "ends after the remaining second");
  assert.equal(Math.round(voice.playedMs), 2000);
});

Deno.test("FileVoice resumes at an iteration and position and keeps counting played_ms", async () => {
  const src = sine(16000, 700, 1600); // 100 ms
  const voice = new FileVoice(src, 16000, {
    times: 2,
    defer: now,
    resume: { iteration: 1, positionMs: 40, playedMs: 140 },
  });
  voice.prepare(16000);
  await voice.whenRendered();
  const { out, more } = pull(voice, 16000, 4);
  assert.deepEqual(more, [true, true, false, false]);
  assert.deepEqual(out.subarray(0, 960), src.subarray(640));
  assert.equal(Math.round(voice.playedMs), 200);
});

Deno.test("FileVoice close() cancels a pending rendering", () => {
  const pending: (() => void)[] = [];
  const voice = new FileVoice(sine(16000, 700, 1600), 16000, {
    times: 1,
    defer: (fn) => pending.push(fn),
  });
  voice.prepare(16000);
  voice.close();
  pending.shift()!();
  assert.equal(pull(voice, 16000, 1).more[0], true);
  assert.equal(voice.audible, false);
});

Deno.test("ToneVoice never ends and follows rate changes (us_ringback is 440+480 Hz)", () => {
  const voice = new ToneVoice(lookupTone("us_ringback")!);
  const a = pull(voice, 16000, 50); // the first 1 s lies in the 2 s "on" part
  assert.ok(a.more.every((m) => m));
  assert.ok(toneRatio(a.out, 16000, 440) > 0.3 && toneRatio(a.out, 16000, 480) > 0.3);
  const b = pull(voice, 8000, 25);
  assert.ok(toneRatio(b.out, 8000, 440) > 0.3 && toneRatio(b.out, 8000, 480) > 0.3);
  assert.equal(Math.round(voice.playedMs), 1500);
  assert.deepEqual(voice.resumeState(), { iteration: 0, positionMs: 0, playedMs: 1500 });
});
