import assert from "node:assert/strict";
import { join } from "node:path";
import wavefile from "wavefile";
import { WavWriter } from "../../../src/media/wav_writer.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

function readWav(bytes: Uint8Array): { rate: number; channels: number; data: Int16Array } {
  const wav = new wavefile.WaveFile(bytes);
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number };
  assert.equal(fmt.bitsPerSample, 16);
  const data = wav.getSamples(true, Int16Array) as unknown as Int16Array;
  return { rate: fmt.sampleRate, channels: fmt.numChannels, data };
}

/** Replaces FsFile#write for the duration of `fn` (to slow writes down or make them fail). */
async function withPatchedWrite(
  patch: (
    original: (p: Uint8Array) => Promise<number>,
    file: Deno.FsFile,
    p: Uint8Array,
  ) => Promise<number>,
  fn: () => Promise<void>,
): Promise<void> {
  const proto = Deno.FsFile.prototype;
  const original = proto.write;
  proto.write = function (this: Deno.FsFile, p: Uint8Array) {
    return patch(original.bind(this), this, p);
  };
  try {
    await fn();
  } finally {
    proto.write = original;
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("WavWriter writes 2.5 s of stereo in uneven chunks and publishes only at finish()", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const rate = 16000;
    const total = rate * 5 / 2;
    const finalPath = join(dir, "rec.wav");
    const writer = await WavWriter.create({ finalPath, sampleRate: rate, channels: 2 });
    const left = new Int16Array(total);
    for (let i = 0; i < total; i++) {
      left[i] = Math.round(12000 * Math.sin(2 * Math.PI * 1000 * i / rate));
    }
    const sizes = [1, 7, 160, 333, 999, 3210, 17];
    // The caller reuses one scratch buffer, as the media tick does.
    const scratch = new Int16Array(2 * 4000);
    let done = 0;
    for (let k = 0; done < total; k++) {
      const n = Math.min(sizes[k % sizes.length], total - done);
      for (let i = 0; i < n; i++) {
        scratch[2 * i] = left[done + i];
        scratch[2 * i + 1] = 0;
      }
      assert.equal(writer.append(scratch, n), true);
      scratch.fill(1234); // must not affect what was appended
      done += n;
      if (k % 10 === 0) {
        await delay(1);
        assert.equal(await exists(finalPath), false, "final file visible before finish()");
      }
    }
    assert.equal(writer.durationMs, 2500);
    assert.equal(await exists(finalPath), false);
    assert.ok(writer.stagingPath.startsWith(join(dir, ".rec.wav.partial-")));

    const result = await writer.finish();
    assert.deepEqual(result, {
      path: finalPath,
      durationMs: 2500,
      bytes: 44 + total * 4,
      truncated: false,
    });
    assert.deepEqual(await listDir(dir), ["rec.wav"]);
    const bytes = await Deno.readFile(finalPath);
    assert.equal(bytes.length, result.bytes);
    const wav = readWav(bytes);
    assert.equal(wav.rate, rate);
    assert.equal(wav.channels, 2);
    assert.equal(wav.data.length, total * 2);
    for (let i = 0; i < total; i++) {
      if (wav.data[2 * i] !== left[i] || wav.data[2 * i + 1] !== 0) {
        assert.fail(`frame ${i} differs: ${wav.data[2 * i]},${wav.data[2 * i + 1]}`);
      }
    }
    // finish() is idempotent.
    assert.deepEqual(await writer.finish(), result);
    assert.throws(() => writer.append(scratch, 1), /Cannot append to WAV: writer is closed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WavWriter.discard() leaves nothing behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const finalPath = join(dir, "gone.wav");
    const writer = await WavWriter.create({ finalPath, sampleRate: 8000, channels: 1 });
    const frame = new Int16Array(8000).fill(100);
    for (let i = 0; i < 3; i++) writer.append(frame, frame.length);
    await delay(5);
    assert.deepEqual((await listDir(dir)).length, 1);
    await writer.discard();
    await writer.discard();
    assert.deepEqual(await listDir(dir), []);
    await assert.rejects(writer.finish(), /writer was discarded/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WavWriter keeps order and one write in flight while appends continue during a slow flush", async () => {
  const dir = await Deno.makeTempDir();
  let inFlight = 0;
  let maxInFlight = 0;
  let writes = 0;
  try {
    await withPatchedWrite(async (write, _file, p) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      writes++;
      try {
        await delay(5);
        // Short writes exercise the writer's write-all loop.
        return await write(p.subarray(0, 100));
      } finally {
        inFlight--;
      }
    }, async () => {
      const rate = 8000;
      const finalPath = join(dir, "order.wav");
      // 20 ms chunks: many writes queue up behind each slow one.
      const writer = await WavWriter.create({
        finalPath,
        sampleRate: rate,
        channels: 1,
        chunkMs: 20,
      });
      const total = 8000;
      const buf = new Int16Array(97);
      let next = 0;
      while (next < total) {
        const n = Math.min(buf.length, total - next);
        for (let i = 0; i < n; i++) buf[i] = (next + i) % 30000;
        writer.append(buf, n);
        next += n;
        if (next % (97 * 8) === 0) await delay(2);
      }
      const result = await writer.finish();
      assert.equal(result.durationMs, 1000);
      const wav = readWav(await Deno.readFile(finalPath));
      assert.equal(wav.data.length, total);
      for (let i = 0; i < total; i++) {
        if (wav.data[i] !== i % 30000) assert.fail(`sample ${i} is ${wav.data[i]}`);
      }
    });
    assert.equal(maxInFlight, 1);
    assert.ok(writes > 20, `only ${writes} writes`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WavWriter stops at its size limit and still publishes a valid file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const finalPath = join(dir, "cap.wav");
    // A small cap stands in for the 4 GiB RIFF limit, which applies the same way.
    const writer = await WavWriter.create({
      finalPath,
      sampleRate: 8000,
      channels: 2,
      maxDataBytes: 1002,
    });
    const frames = new Int16Array(2 * 200).fill(7);
    assert.equal(writer.append(frames, 200), true);
    assert.equal(writer.append(frames, 100), false);
    assert.equal(writer.truncated, true);
    assert.equal(writer.append(frames, 1), false);
    const result = await writer.finish();
    assert.equal(result.truncated, true);
    assert.equal(result.bytes, 44 + 1000);
    const wav = readWav(await Deno.readFile(finalPath));
    assert.equal(wav.data.length, 500);
    assert.ok(wav.data.every((s) => s === 7));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WavWriter.finish() never overwrites a file that appeared at the final path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const finalPath = join(dir, "taken.wav");
    const writer = await WavWriter.create({ finalPath, sampleRate: 8000, channels: 1 });
    writer.append(new Int16Array(80), 80);
    await Deno.writeTextFile(finalPath, "someone else's");
    await assert.rejects(writer.finish(), /Cannot publish WAV: taken.wav already exists/);
    assert.equal(await Deno.readTextFile(finalPath), "someone else's");
    assert.deepEqual(await listDir(dir), ["taken.wav"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WavWriter remembers a failed write and throws it from finish()", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const finalPath = join(dir, "fail.wav");
    const writer = await WavWriter.create({
      finalPath,
      sampleRate: 8000,
      channels: 1,
      chunkMs: 10,
    });
    await withPatchedWrite(() => Promise.reject(new Error("disk full")), async () => {
      assert.equal(writer.append(new Int16Array(800), 800), true);
      await delay(5);
    });
    assert.match(String(writer.error), /Cannot write WAV: disk full/);
    assert.equal(writer.append(new Int16Array(80), 80), false);
    await assert.rejects(writer.finish(), /^Error: Cannot write WAV: disk full$/);
    assert.deepEqual(await listDir(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WavWriter.create() validates its format and append() its frame count", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const finalPath = join(dir, "x.wav");
    await assert.rejects(
      WavWriter.create({ finalPath, sampleRate: 0, channels: 1 }),
      /invalid sample rate 0/,
    );
    await assert.rejects(
      WavWriter.create({ finalPath, sampleRate: 8000, channels: 0 }),
      /invalid channel count 0/,
    );
    await using writer = await WavWriter.create({ finalPath, sampleRate: 8000, channels: 2 });
    assert.throws(() => writer.append(new Int16Array(4), 3), RangeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
