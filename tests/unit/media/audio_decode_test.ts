import assert from "node:assert/strict";
import wavefile from "wavefile";
import { Mp3Encoder } from "lamejs";
import { decodeAudio } from "../../../src/media/audio_decode.ts";

/** Share of the signal's energy at `freq` (≈1 for a pure tone at `freq`, ≈0 far from it). */
function toneShare(samples: ArrayLike<number>, rate: number, freq: number): number {
  const n = samples.length;
  const coeff = 2 * Math.cos(2 * Math.PI * freq / rate);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[i];
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += x * x;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return energy === 0 ? 0 : power / (n * energy / 2);
}

function tone(rate: number, seconds: number, freq: number, amplitude: number): Float64Array {
  const out = new Float64Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin(2 * Math.PI * freq * i / rate);
  return out;
}

function assertTone(samples: Int16Array, rate: number, freq = 1000): void {
  assert.ok(toneShare(samples, rate, freq) > 0.8, `tone at ${freq} Hz missing`);
  assert.ok(toneShare(samples, rate, freq * 1.37) < 0.05, "energy off the tone");
}

function wavFrom(
  channels: number,
  rate: number,
  bitDepth: string,
  samples: ArrayLike<number> | ArrayLike<number>[],
): Uint8Array {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(channels, rate, bitDepth, samples);
  return wav.toBuffer();
}

const fixtures: {
  name: string;
  rate: number;
  make: (rate: number) => Uint8Array;
  channels: number;
}[] = [
  {
    name: "8-bit unsigned PCM at 8 kHz",
    rate: 8000,
    channels: 1,
    make: (r) => wavFrom(1, r, "8", Array.from(tone(r, 1, 1000, 100), (x) => Math.round(x + 128))),
  },
  {
    name: "16-bit PCM at 48 kHz",
    rate: 48000,
    channels: 1,
    make: (r) => wavFrom(1, r, "16", Array.from(tone(r, 1, 1000, 12000), Math.round)),
  },
  {
    name: "24-bit PCM at 48 kHz",
    rate: 48000,
    channels: 1,
    make: (r) => wavFrom(1, r, "24", Array.from(tone(r, 1, 1000, 3_000_000), Math.round)),
  },
  {
    name: "32-bit float at 44.1 kHz stereo",
    rate: 44100,
    channels: 2,
    make: (r) => wavFrom(2, r, "32f", [tone(r, 1, 1000, 0.5), tone(r, 1, 1000, 0.5)]),
  },
  {
    name: "64-bit float at 16 kHz",
    rate: 16000,
    channels: 1,
    make: (r) => wavFrom(1, r, "64", tone(r, 1, 1000, 0.5)),
  },
  {
    name: "µ-law at 8 kHz",
    rate: 8000,
    channels: 1,
    make: (r) => {
      const wav = new wavefile.WaveFile();
      wav.fromScratch(1, r, "16", Array.from(tone(r, 1, 1000, 12000), Math.round));
      wav.toMuLaw();
      return wav.toBuffer();
    },
  },
  {
    name: "A-law at 8 kHz",
    rate: 8000,
    channels: 1,
    make: (r) => {
      const wav = new wavefile.WaveFile();
      wav.fromScratch(1, r, "16", Array.from(tone(r, 1, 1000, 12000), Math.round));
      wav.toALaw();
      return wav.toBuffer();
    },
  },
];

for (const f of fixtures) {
  Deno.test(`decodeAudio() decodes ${f.name} to a mono 1 kHz tone`, async () => {
    const decoded = await decodeAudio(f.make(f.rate), {});
    assert.equal(decoded.sampleRate, f.rate);
    assert.equal(decoded.channels, f.channels);
    assert.equal(decoded.samples.length, f.rate);
    assert.equal(decoded.durationMs, 1000);
    assertTone(decoded.samples, f.rate);
  });
}

Deno.test("decodeAudio() keeps 16-bit PCM sample-exact", async () => {
  const src = Int16Array.from([0, 1, -1, 32767, -32768, 1234, -4321, 7]);
  const decoded = await decodeAudio(wavFrom(1, 8000, "16", src), {});
  assert.deepEqual(Array.from(decoded.samples), Array.from(src));
});

Deno.test("decodeAudio() averages stereo channels (left tone, right silence)", async () => {
  const left = Array.from(tone(16000, 0.5, 1000, 20000), Math.round);
  const right = new Array(left.length).fill(0);
  const decoded = await decodeAudio(wavFrom(2, 16000, "16", [left, right]), {});
  assert.equal(decoded.channels, 2);
  for (const i of [3, 100, 2001]) assert.ok(Math.abs(decoded.samples[i] - left[i] / 2) <= 1);
});

Deno.test("decodeAudio() decodes an MP3 made by lamejs with the tone preserved", async () => {
  const rate = 44100;
  const pcm = Int16Array.from(tone(rate, 1, 1000, 12000), Math.round);
  const enc = new Mp3Encoder(1, rate, 128);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < pcm.length; i += 1152) {
    parts.push(enc.encodeBuffer(pcm.subarray(i, i + 1152)));
  }
  parts.push(enc.flush());
  const total = parts.reduce((n, p) => n + p.length, 0);
  const mp3 = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    mp3.set(p, off);
    off += p.length;
  }
  const decoded = await decodeAudio(mp3, { mimeType: "audio/mpeg" });
  assert.equal(decoded.sampleRate, rate);
  assert.equal(decoded.channels, 1);
  // Without a LAME/Xing header the encoder delay and the last frame's padding stay in.
  const n = decoded.samples.length;
  assert.ok(n >= rate - 1152 && n <= rate + 2 * 1152, `length ${n}`);
  assert.ok(Math.abs(decoded.durationMs - n * 1000 / rate) < 1);
  assertTone(decoded.samples.subarray(2000, 42000), rate);
});

Deno.test("decodeAudio() reads audio/l16 as big-endian at the given rate", async () => {
  const src = Int16Array.from(tone(16000, 0.5, 1000, 10000), Math.round);
  const bytes = new Uint8Array(src.length * 2);
  const view = new DataView(bytes.buffer);
  src.forEach((s, i) => view.setInt16(i * 2, s, false));
  const decoded = await decodeAudio(bytes, { mimeType: "audio/L16; rate=16000" });
  assert.equal(decoded.sampleRate, 16000);
  assert.equal(decoded.channels, 1);
  assert.deepEqual(Array.from(decoded.samples), Array.from(src));
  assertTone(decoded.samples, 16000);
});

Deno.test("decodeAudio() reads audio/pcm as little-endian, even when it looks like MPEG sync", async () => {
  // -1 as little-endian int16 is FF FF, which also passes a naive MPEG frame-sync check.
  const src = Int16Array.from([-1, -2, 300, -300, 5, 6]);
  const bytes = new Uint8Array(src.buffer);
  const decoded = await decodeAudio(bytes, { mimeType: "audio/pcm;rate=8000" });
  assert.deepEqual(Array.from(decoded.samples), Array.from(src));
  assert.equal(decoded.sampleRate, 8000);
});

Deno.test("decodeAudio() falls back to the URL extension when the type says nothing", async () => {
  const wav = wavFrom(1, 8000, "16", Array.from(tone(8000, 0.1, 1000, 1000), Math.round));
  // Magic bytes decide first; the extension only matters when they are inconclusive.
  const decoded = await decodeAudio(wav, {
    mimeType: "application/octet-stream",
    url: "https://x.test/a.wav?token=1",
  });
  assert.equal(decoded.samples.length, 800);
  await assert.rejects(
    decodeAudio(new Uint8Array(64), { url: "https://x.test/a.wav?sig=secret" }),
    /^Error: Cannot decode WAV: /,
  );
});

Deno.test("decodeAudio() rejects garbage bytes with a clear error", async () => {
  const garbage = new Uint8Array(4096);
  for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) & 0x7f;
  await assert.rejects(decodeAudio(garbage, {}), /Cannot decode audio: unrecognized format/);
  await assert.rejects(
    decodeAudio(garbage, { mimeType: "video/mp4" }),
    /Cannot decode audio: unrecognized format \(video\/mp4\)/,
  );
  await assert.rejects(decodeAudio(garbage, { mimeType: "audio/wav" }), /Cannot decode WAV: /);
  await assert.rejects(decodeAudio(garbage, { mimeType: "audio/mpeg" }), /Cannot decode MP3: /);
});

Deno.test("decodeAudio() rejects a truncated WAV", async () => {
  const wav = wavFrom(1, 8000, "16", Array.from(tone(8000, 1, 1000, 1000), Math.round));
  await assert.rejects(
    decodeAudio(wav.subarray(0, 4000), {}),
    /Cannot decode WAV: truncated data chunk \(3956 of 16000 bytes\)/,
  );
  await assert.rejects(decodeAudio(wav.subarray(0, 30), {}), /Cannot decode WAV: /);
  await assert.rejects(decodeAudio(wav.subarray(0, 44), {}), /Cannot decode WAV: /);
});

Deno.test("decodeAudio() rejects absurd headers", async () => {
  const base = wavFrom(1, 8000, "16", new Array(800).fill(0));
  const patch = (off: number, value: number, size: 2 | 4) => {
    const copy = base.slice();
    const v = new DataView(copy.buffer);
    if (size === 2) v.setUint16(off, value, true);
    else v.setUint32(off, value, true);
    return copy;
  };
  await assert.rejects(decodeAudio(patch(22, 0, 2), {}), /Cannot decode WAV: no channels/);
  await assert.rejects(
    decodeAudio(patch(24, 2000, 4), {}),
    /Cannot decode audio: sample rate 2000 outside 4000..192000/,
  );
  await assert.rejects(
    decodeAudio(patch(24, 400000, 4), {}),
    /Cannot decode audio: sample rate 400000 outside/,
  );
  await assert.rejects(
    decodeAudio(patch(20, 2, 2), {}),
    /^Error: Cannot decode WAV: unsupported format 2 bits 16$/,
  );
  await assert.rejects(
    decodeAudio(new Uint8Array(4 * 4000 * 1801), { mimeType: "audio/pcm;rate=4000" }),
    /Cannot decode audio: longer than 30 minutes/,
  );
  await assert.rejects(
    decodeAudio(new Uint8Array(100), { mimeType: "audio/l16" }),
    /Cannot decode audio: audio\/l16 needs a rate parameter/,
  );
});

Deno.test("decodeAudio() decodes WAVE_FORMAT_EXTENSIBLE float by its sub-format", async () => {
  const rate = 8000;
  const src = tone(rate, 0.25, 1000, 0.25);
  const bytes = new Uint8Array(68 + src.length * 4);
  const v = new DataView(bytes.buffer);
  const put = (off: number, s: string) =>
    [...s].forEach((c, i) => (bytes[off + i] = c.charCodeAt(0)));
  put(0, "RIFF");
  v.setUint32(4, bytes.length - 8, true);
  put(8, "WAVE");
  put(12, "fmt ");
  v.setUint32(16, 40, true);
  v.setUint16(20, 0xfffe, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 4, true);
  v.setUint16(32, 4, true);
  v.setUint16(34, 32, true);
  v.setUint16(36, 22, true);
  v.setUint16(38, 32, true);
  v.setUint32(40, 4, true);
  v.setUint32(44, 3, true); // KSDATAFORMAT_SUBTYPE_IEEE_FLOAT starts with 0x00000003
  put(60, "data");
  v.setUint32(64, src.length * 4, true);
  src.forEach((x, i) => v.setFloat32(68 + i * 4, x, true));
  const decoded = await decodeAudio(bytes, {});
  assert.equal(decoded.samples.length, src.length);
  assert.ok(Math.abs(decoded.samples[10] - Math.round(src[10] * 32768)) <= 1);
  assertTone(decoded.samples, rate);
});

Deno.test("decodeAudio() gets through random bytes declared as MP3 quickly and quietly", async () => {
  // Unguarded, mpg123-decoder console.errors every failed read and retries it in a loop.
  let seed = 12345;
  const bytes = new Uint8Array(300_000);
  for (let i = 0; i < bytes.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    bytes[i] = (seed >>> 16) & 0xff;
  }
  const logged: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  const started = performance.now();
  try {
    await decodeAudio(bytes, { mimeType: "audio/mpeg" }).then(
      (decoded) => assert.ok(decoded.samples.length > 0),
      (err) => assert.match(String(err), /Cannot decode (MP3|audio): /),
    );
  } finally {
    console.error = original;
  }
  assert.deepEqual(logged, []);
  assert.ok(performance.now() - started < 5000);
});
