import assert from "node:assert/strict";
import {
  lookupTone,
  TONE_AMPLITUDE,
  TONE_COUNTRIES,
  TONE_NAMES,
  TONE_TYPES,
  ToneGenerator,
} from "../../../src/media/tones.ts";
import { rms, toneRatio } from "../../../src/media/goertzel.ts";

/** Generates `frames` 20 ms frames; returns the signal and which frames carried tone. */
function render(name: string, rate: number, frames: number) {
  const gen = new ToneGenerator(lookupTone(name)!, rate);
  const n = gen.frameSize;
  const signal = new Int16Array(n * frames);
  const frame = new Int16Array(n);
  const on: boolean[] = [];
  for (let f = 0; f < frames; f++) {
    gen.fill(frame);
    signal.set(frame, f * n);
    on.push(rms(frame) > 100);
  }
  return { signal, on, n };
}

/** Lengths of the alternating runs of on/off frames, starting with the first run. */
function runs(on: boolean[]): number[] {
  const out: number[] = [];
  let len = 1;
  for (let i = 1; i < on.length; i++) {
    if (on[i] === on[i - 1]) len++;
    else {
      out.push(len);
      len = 1;
    }
  }
  return out; // the last (possibly truncated) run is dropped
}

Deno.test("every country_type tone name and every bare type resolves", () => {
  for (const c of TONE_COUNTRIES) {
    for (const t of TONE_TYPES) {
      const spec = lookupTone(`${c}_${t}`);
      assert.ok(spec, `${c}_${t}`);
      assert.ok(spec.components.length > 0);
    }
  }
  for (const t of TONE_TYPES) assert.equal(lookupTone(t), lookupTone(`us_${t}`));
  assert.equal(TONE_NAMES.length, TONE_COUNTRIES.length * TONE_TYPES.length + TONE_TYPES.length);
  assert.equal(lookupTone("GB_Ringback"), lookupTone("gb_ringback"));
});

Deno.test("unknown tone names resolve to undefined", () => {
  for (const name of ["", "xx_ringback", "us_ring", "us_", "ringback_us", "siren"]) {
    assert.equal(lookupTone(name), undefined, name);
  }
});

Deno.test("US ringback is 440+480 Hz, 2 s on / 4 s off, to the frame", () => {
  const { signal, on, n } = render("us_ringback", 8000, 50 * 13);
  assert.equal(on[0], true, "starts with the ring");
  assert.deepEqual(runs(on).slice(0, 4), [100, 200, 100, 200]);
  const burst = signal.subarray(0, n * 100);
  assert.ok(toneRatio(burst, 8000, 440) > 0.4);
  assert.ok(toneRatio(burst, 8000, 480) > 0.4);
  assert.ok(toneRatio(burst, 8000, 350) < 0.01);
  assert.ok(toneRatio(burst, 8000, 620) < 0.01);
  assert.ok(signal.subarray(n * 100, n * 300).every((v) => v === 0), "off is digital silence");
});

Deno.test("UK ringback has its double ring: 0.4 on, 0.2 off, 0.4 on, 2.0 off at 400+450 Hz", () => {
  const { signal, on, n } = render("gb_ringback", 16000, 50 * 7);
  assert.deepEqual(runs(on).slice(0, 8), [20, 10, 20, 100, 20, 10, 20, 100]);
  const burst = signal.subarray(0, n * 20);
  assert.ok(toneRatio(burst, 16000, 400) > 0.4);
  assert.ok(toneRatio(burst, 16000, 450) > 0.4);
});

Deno.test("continuous dial tones never pause and carry their frequencies", () => {
  for (
    const [name, freqs] of [["us_dial", [350, 440]], ["de_dial", [425]], ["fr_dial", [
      440,
    ]]] as const
  ) {
    const { signal, on } = render(name, 8000, 250);
    assert.ok(on.every((x) => x), `${name} paused`);
    for (const f of freqs) assert.ok(toneRatio(signal, 8000, f) > 0.4, `${name} lacks ${f} Hz`);
  }
});

Deno.test("modulated tones (au, in, jp) carry the carrier and both sidebands", () => {
  for (
    const [name, f, m] of [["au_dial", 425, 25], ["in_dial", 400, 25], [
      "jp_ringback",
      400,
      16,
    ]] as const
  ) {
    const { signal, n } = render(name, 8000, 50);
    const burst = signal.subarray(0, n * 50);
    assert.ok(toneRatio(burst, 8000, f) > 0.5, `${name} carrier`);
    assert.ok(toneRatio(burst, 8000, f - m) > 0.1, `${name} lower sideband`);
    assert.ok(toneRatio(burst, 8000, f + m) > 0.1, `${name} upper sideband`);
  }
});

Deno.test("every tone renders sound at 8, 16, 24 and 48 kHz", () => {
  for (const name of TONE_NAMES) {
    for (const rate of [8000, 16000, 24000, 48000]) {
      const { on } = render(name, rate, 60);
      assert.ok(on.some((x) => x), `${name} silent at ${rate}`);
    }
  }
});

Deno.test("each component is sent at about -13 dBm0", () => {
  const { signal } = render("de_dial", 48000, 50);
  const expected = TONE_AMPLITUDE / Math.SQRT2;
  assert.ok(Math.abs(20 * Math.log10(rms(signal) / expected)) < 0.1);
  assert.ok(TONE_AMPLITUDE > 0.15 * 32767 && TONE_AMPLITUDE < 0.2 * 32767);
});

Deno.test("frames join without a click and the level does not drift over minutes", () => {
  const gen = new ToneGenerator(lookupTone("us_dial")!, 48000);
  const frame = new Int16Array(gen.frameSize);
  // The steepest legal step of 350+440 Hz at this level, plus rounding.
  const maxStep = TONE_AMPLITUDE * 2 * Math.PI * (350 + 440) / 48000 + 2;
  let prev = 0;
  let first = true;
  for (let f = 0; f < 50 * 180; f++) {
    gen.fill(frame);
    if (!first) assert.ok(Math.abs(frame[0] - prev) <= maxStep, `click at frame ${f}`);
    first = false;
    prev = frame[frame.length - 1];
  }
  const late = new Int16Array(48000);
  for (let f = 0; f < 50; f++) gen.fill(late.subarray(f * 960, (f + 1) * 960));
  assert.ok(Math.abs(20 * Math.log10(rms(late) / TONE_AMPLITUDE)) < 0.1, "level drifted");
});

Deno.test("a ToneGenerator rejects unsupported rates and oversized writes", () => {
  const spec = lookupTone("busy")!;
  assert.throws(() => new ToneGenerator(spec, 44100), RangeError);
  const gen = new ToneGenerator(spec, 8000);
  assert.throws(() => gen.fill(new Int16Array(100)), RangeError);
});
