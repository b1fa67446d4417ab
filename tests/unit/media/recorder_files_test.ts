import assert from "node:assert/strict";
import { join } from "node:path";
import wavefile from "wavefile";
import {
  concatWavParts,
  mergeTracks,
  publishFile,
  WAV_HEADER_BYTES,
  WavFileBuilder,
  wavHeader,
} from "../../../src/media/recorder_files.ts";
import { assembleLegFile, gapFrames } from "../../../src/ops/recording_finish.ts";

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

/** Writes a WAV whose sample i of channel c is `fn(i, c)`. */
async function writeWav(
  path: string,
  rate: number,
  channels: number,
  frames: number,
  fn: (i: number, c: number) => number,
): Promise<void> {
  const data = new Int16Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) data[i * channels + c] = fn(i, c);
  }
  const bytes = new Uint8Array(WAV_HEADER_BYTES + data.byteLength);
  bytes.set(wavHeader(rate, channels, data.byteLength));
  bytes.set(new Uint8Array(data.buffer), WAV_HEADER_BYTES);
  await Deno.writeFile(path, bytes);
}

function readWav(bytes: Uint8Array): { rate: number; channels: number; data: Int16Array } {
  const wav = new wavefile.WaveFile(bytes);
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  const data = wav.getSamples(true, Int16Array) as unknown as Int16Array;
  return { rate: fmt.sampleRate, channels: fmt.numChannels, data };
}

Deno.test("mergeTracks() interleaves mono tracks at their start frames with silence around them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = join(dir, "a.wav");
    const b = join(dir, "b.wav");
    const c = join(dir, "c.wav");
    await writeWav(a, 8000, 1, 25_000, (i) => 1 + (i % 100));
    await writeWav(b, 8000, 1, 4_000, (i) => -1 - (i % 50));
    await writeWav(c, 8000, 1, 20_000, () => 7);
    const out = join(dir, "m.wav");
    const size = await mergeTracks(out, 8000, 25_000, [
      { path: a, startFrame: 0 },
      { path: b, startFrame: 9_000 }, // ends at 13 000, in the middle of the second chunk
      { path: c, startFrame: 5_000 },
    ]);
    assert.equal(size, WAV_HEADER_BYTES + 25_000 * 3 * 2);
    const wav = readWav(await Deno.readFile(out));
    assert.equal(wav.rate, 8000);
    assert.equal(wav.channels, 3);
    for (let i = 0; i < 25_000; i++) {
      assert.equal(wav.data[i * 3], 1 + (i % 100), `a[${i}]`);
      const bi = i - 9_000;
      assert.equal(wav.data[i * 3 + 1], bi >= 0 && bi < 4_000 ? -1 - (bi % 50) : 0, `b[${i}]`);
      assert.equal(wav.data[i * 3 + 2], i >= 5_000 ? 7 : 0, `c[${i}]`);
    }
    assert.deepEqual(await listDir(dir), ["a.wav", "b.wav", "c.wav", "m.wav"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("concatWavParts() joins stereo segments with silent gaps", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p1 = join(dir, "p1.wav");
    const p2 = join(dir, "p2.wav");
    await writeWav(p1, 16000, 2, 100, (i, c) => (c === 0 ? i + 1 : -(i + 1)));
    await writeWav(p2, 16000, 2, 50, (i, c) => (c === 0 ? 1000 + i : -1000 - i));
    const out = join(dir, "out.wav");
    const frames = await concatWavParts(out, 16000, 2, [
      { path: p1, gapFrames: 0 },
      { path: p2, gapFrames: 30 },
    ]);
    assert.equal(frames, 180);
    const wav = readWav(await Deno.readFile(out));
    assert.equal(wav.channels, 2);
    assert.equal(wav.data.length, 360);
    assert.deepEqual([wav.data[0], wav.data[1], wav.data[198], wav.data[199]], [1, -1, 100, -100]);
    assert.ok(wav.data.subarray(200, 260).every((v) => v === 0), "the gap is silent");
    assert.deepEqual([wav.data[260], wav.data[261], wav.data[358]], [1000, -1000, 1049]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("publishFile() never replaces an existing file and WavFileBuilder.discard() leaves nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "taken.wav"), "keep me");
    await Deno.writeTextFile(join(dir, "src"), "new");
    await assert.rejects(
      publishFile(join(dir, "src"), join(dir, "taken.wav")),
      /^Error: Cannot publish recording: taken\.wav already exists$/,
    );
    assert.equal(await Deno.readTextFile(join(dir, "taken.wav")), "keep me");
    await publishFile(join(dir, "src"), join(dir, "fresh.wav"));
    assert.deepEqual(await listDir(dir), ["fresh.wav", "taken.wav"]);

    const b = await WavFileBuilder.create(join(dir, "x.wav"), 8000, 1);
    await b.writeSilence(10);
    assert.equal((await listDir(dir)).length, 3, "staging file while building");
    await b.discard();
    assert.deepEqual(await listDir(dir), ["fresh.wav", "taken.wav"]);

    const c = await WavFileBuilder.create(join(dir, "taken.wav"), 8000, 1);
    await assert.rejects(c.publish(), /already exists/);
    assert.deepEqual(await listDir(dir), ["fresh.wav", "taken.wav"], "a failed publish cleans up");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("assembleLegFile() links one segment, joins several on the wall clock, and reports loss", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // One segment: published as is.
    const s1 = join(dir, ".a.seg1.wav");
    await writeWav(s1, 8000, 2, 160 * 5, () => 3);
    const one = await assembleLegFile(join(dir, "a.wav"), 8000, [
      { path: s1, ok: true, frames: 5, startWallMs: 1000 },
    ]);
    assert.deepEqual(one, { file: join(dir, "a.wav"), durationMs: 100 });

    // Two segments 60 ms apart (3 ticks of silence); a failed empty one in between is skipped.
    const p1 = join(dir, ".b.seg1.wav");
    const p2 = join(dir, ".b.seg2.wav");
    const p3 = join(dir, ".b.seg3.wav");
    await writeWav(p1, 8000, 2, 160 * 10, () => 5);
    await writeWav(p3, 8000, 2, 160 * 4, () => 9);
    const parts = [
      { path: p1, ok: true, frames: 10, startWallMs: 10_000 },
      { path: p2, ok: false, frames: 0, startWallMs: 0, error: "boom" },
      { path: p3, ok: true, frames: 4, startWallMs: 10_260 },
    ];
    assert.equal(gapFrames(parts[0], parts[2]), 3);
    const joined = await assembleLegFile(join(dir, "b.wav"), 8000, parts);
    assert.deepEqual(joined, { file: join(dir, "b.wav"), durationMs: 340 });
    const wav = readWav(await Deno.readFile(join(dir, "b.wav")));
    assert.equal(wav.data.length, 17 * 160 * 2);
    assert.equal(wav.data[10 * 320 - 1], 5);
    assert.ok(wav.data.subarray(10 * 320, 13 * 320).every((v) => v === 0));
    assert.equal(wav.data[13 * 320], 9);
    assert.deepEqual(await listDir(dir), ["a.wav", "b.wav"], "segments are removed");

    const lost = await assembleLegFile(join(dir, "c.wav"), 8000, [parts[1]]);
    assert.deepEqual(lost, { file: "", durationMs: 0, error: "boom" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
