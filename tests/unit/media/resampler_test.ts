import assert from "node:assert/strict";
import { resampleAll, Resampler } from "../../../src/media/resampler.ts";
import { rms, toneRatio } from "../../../src/media/goertzel.ts";

const RATES = [8000, 16000, 24000, 48000];

function sine(rate: number, freq: number, n: number, amp = 10000): Int16Array {
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return x;
}

/** Streams `x` through `r` in chunks of `chunk` inputs, checking each call's output count. */
function stream(r: Resampler, x: Int16Array, chunk: number, exact?: number): Int16Array {
  const parts: Int16Array[] = [];
  const out = new Int16Array(r.outputLength(chunk));
  for (let off = 0; off < x.length; off += chunk) {
    const len = Math.min(chunk, x.length - off);
    const n = r.process(x.subarray(off, off + len), len, out);
    if (exact !== undefined) assert.equal(n, exact, `call at input ${off} wrote ${n}`);
    assert.ok(n <= r.outputLength(len));
    parts.push(out.slice(0, n));
  }
  const all = new Int16Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}

const db = (ratio: number) => 20 * Math.log10(ratio);

for (const inRate of RATES) {
  for (const outRate of RATES) {
    if (inRate === outRate) continue;
    Deno.test(`${inRate}→${outRate}: 20 ms frames stay 20 ms and 1/3 kHz tones keep pitch and level`, () => {
      for (const freq of [1000, 3000]) {
        const r = new Resampler(inRate, outRate);
        const x = sine(inRate, freq, inRate / 2); // 500 ms
        const y = stream(r, x, inRate / 50, outRate / 50);
        assert.equal(y.length, outRate / 2);
        const settled = y.subarray(outRate / 20); // skip 50 ms of filter start-up
        const gain = db(rms(settled) / rms(x));
        assert.ok(Math.abs(gain) < 1, `${freq} Hz gain ${gain.toFixed(3)} dB`);
        assert.ok(toneRatio(settled, outRate, freq) > 0.99, `${freq} Hz lost its pitch`);
      }
    });
  }
}

for (
  const [inRate, outRate, freq] of [[48000, 8000, 6000], [16000, 8000, 5000], [48000, 16000, 9000]]
) {
  Deno.test(`${inRate}→${outRate}: a ${freq} Hz tone above the output Nyquist is removed by > 40 dB`, () => {
    const r = new Resampler(inRate, outRate);
    const x = sine(inRate, freq, inRate / 2, 20000);
    const y = stream(r, x, inRate / 50, outRate / 50).subarray(outRate / 20);
    const atten = db(rms(y) / rms(x));
    assert.ok(atten < -40, `only ${atten.toFixed(1)} dB`);
  });
}

for (const [inRate, outRate] of [[44100, 16000], [22050, 8000], [11025, 48000], [48000, 44100]]) {
  Deno.test(`resampleAll ${inRate}→${outRate} keeps a 1 kHz tone and the expected length`, () => {
    const x = sine(inRate, 1000, Math.round(inRate * 1.3) + 7);
    const y = resampleAll(x, inRate, outRate);
    const expected = (x.length * outRate) / inRate;
    assert.ok(Math.abs(y.length - expected) <= 1, `${y.length} samples, expected ${expected}`);
    // Delay-compensated: the tone is in place from the first samples to the last.
    const edge = outRate / 100;
    const body = y.subarray(edge, y.length - edge);
    assert.ok(Math.abs(db(rms(body) / rms(x))) < 1);
    assert.ok(toneRatio(body, outRate, 1000) > 0.99);
    // No delay either: the body matches a sine generated directly at the output rate.
    const ideal = sine(outRate, 1000, y.length);
    let err = 0;
    for (let i = edge; i < y.length - edge; i++) err = Math.max(err, Math.abs(y[i] - ideal[i]));
    assert.ok(err < 50, `max deviation from the ideal sine ${err}`);
  });
}

Deno.test("streaming in frames matches resampleAll of the whole signal sample for sample", () => {
  for (
    const [inRate, outRate, chunk] of [[8000, 16000, 160], [48000, 16000, 960], [44100, 16000, 441]]
  ) {
    const x = new Int16Array(inRate); // speech-like: two tones plus noise, so edges would show
    let seed = 1;
    for (let i = 0; i < x.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const noise = (seed / 0x7fffffff - 0.5) * 4000;
      x[i] = Math.round(
        6000 * Math.sin((2 * Math.PI * 440 * i) / inRate) +
          3000 * Math.sin((2 * Math.PI * 1770 * i) / inRate) + noise,
      );
    }
    const whole = resampleAll(x, inRate, outRate);
    const framed = stream(new Resampler(inRate, outRate, { compensateDelay: true }), x, chunk);
    assert.ok(framed.length <= whole.length);
    assert.ok(framed.length > whole.length - outRate / 100, "only the flushed tail may differ");
    assert.deepEqual(framed, whole.subarray(0, framed.length), `${inRate}→${outRate}`);
  }
});

Deno.test("uneven chunk sizes give the same stream as one big call", () => {
  const x = sine(44100, 700, 44100);
  const one = new Resampler(44100, 8000);
  const big = new Int16Array(one.outputLength(x.length));
  const n = one.process(x, x.length, big);
  const r = new Resampler(44100, 8000);
  const parts: number[] = [];
  const out = new Int16Array(2000);
  let off = 0;
  for (const len of [1, 7, 441, 1000, 3, 2048]) {
    const w = r.process(x.subarray(off, off + len), len, out);
    for (let i = 0; i < w; i++) parts.push(out[i]);
    off += len;
  }
  assert.deepEqual(parts, [...big.subarray(0, parts.length)]);
  assert.ok(n >= parts.length);
});

Deno.test("a full-scale square wave clamps at the rails instead of wrapping", () => {
  const x = new Int16Array(1600);
  for (let i = 0; i < x.length; i++) x[i] = Math.floor(i / 40) % 2 ? -32768 : 32767;
  const y = stream(new Resampler(8000, 48000), x, 160, 960);
  let maxHits = 0;
  for (let i = 1000; i < y.length; i++) {
    const src = x[Math.floor((i - 95) / 6)]; // 95 = the filter delay in output samples
    if (y[i] === 32767) maxHits++;
    // Deep inside each half-period the output must have the input's sign (a wrap flips it).
    const phase = Math.floor((i - 95) / 6) % 40;
    if (phase > 8 && phase < 32) assert.equal(Math.sign(y[i]), Math.sign(src), `sample ${i}`);
  }
  assert.ok(maxHits > 0, "Gibbs overshoot should reach the rail");
});

Deno.test("same-rate resampling is a passthrough copy", () => {
  const r = new Resampler(16000, 16000);
  const x = sine(16000, 1000, 320);
  const out = new Int16Array(320);
  assert.equal(r.process(x, 320, out), 320);
  assert.deepEqual(out, x);
  assert.equal(r.delay, 0);
  const copy = resampleAll(x, 16000, 16000);
  assert.deepEqual(copy, x);
  assert.notEqual(copy, x);
});

Deno.test("invalid rates, lengths and undersized outputs are rejected", () => {
  assert.throws(() => new Resampler(0, 8000), RangeError);
  assert.throws(() => new Resampler(8000, 16000.5), RangeError);
  assert.throws(() => new Resampler(8000, 16000, { lobes: 7 }), RangeError);
  const r = new Resampler(8000, 16000);
  assert.throws(() => r.process(new Int16Array(160), 161, new Int16Array(400)), RangeError);
  assert.throws(() => r.process(new Int16Array(160), 160, new Int16Array(100)), RangeError);
});
