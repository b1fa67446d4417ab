import assert from "node:assert/strict";
import { energy, goertzelPower, rms, toneRatio } from "../../../src/media/goertzel.ts";

function sine(rate: number, freq: number, n: number, amp: number): Int16Array {
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return x;
}

Deno.test("toneRatio() is ~1 for a pure tone, ~1/2 for each of two, ~0 when absent or silent", () => {
  const a = sine(8000, 1000, 800, 10000);
  assert.ok(toneRatio(a, 8000, 1000) > 0.99);
  assert.ok(toneRatio(a, 8000, 1300) < 1e-3);
  const b = sine(8000, 1300, 800, 10000);
  const mix = a.map((v, i) => v + b[i]);
  assert.ok(Math.abs(toneRatio(mix, 8000, 1000) - 0.5) < 0.02);
  assert.ok(Math.abs(toneRatio(mix, 8000, 1300) - 0.5) < 0.02);
  assert.equal(toneRatio(new Int16Array(160), 8000, 1000), 0);
});

Deno.test("goertzelPower() of a sine is (A·len/2)² and respects the analysis window", () => {
  const x = sine(16000, 500, 1600, 8000);
  const p = goertzelPower(x, 16000, 500);
  assert.ok(Math.abs(Math.sqrt(p) / ((8000 * 1600) / 2) - 1) < 0.01);
  const padded = new Int16Array(3200);
  padded.set(x, 800);
  assert.ok(Math.abs(goertzelPower(padded, 16000, 500, 800, 1600) / p - 1) < 1e-9);
  assert.throws(() => goertzelPower(x, 16000, 500, 100, 1600), RangeError);
});

Deno.test("rms() and energy() measure Int16 PCM", () => {
  const x = sine(48000, 1000, 4800, 10000);
  assert.ok(Math.abs(rms(x) - 10000 / Math.SQRT2) < 5);
  assert.equal(energy(Int16Array.of(3, -4)), 25);
  assert.equal(rms(new Int16Array(0)), 0);
});
