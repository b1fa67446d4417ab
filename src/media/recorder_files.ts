/**
 * Offline WAV assembly for recordings: a staged file built with awaited writes (so a long merge
 * never buffers the whole recording), the no-overwrite publish step, the concatenation of a leg
 * recording's segments and the interleaving of per-participant tracks into one multi-channel
 * file. Inputs are the canonical 44-byte-header files {@linkcode WavWriter} produces. Nothing here
 * runs inside the 20 ms tick; callers await it.
 */

import { basename, dirname, join } from "node:path";
import { describe, randomHex8, writeAll } from "./file_util.ts";

/** Header size of every WAV file the recorder writes (RIFF, 16-byte `fmt `, `data`). */
export const WAV_HEADER_BYTES = 44;

/** Bytes copied per read/write while assembling (64 KiB). */
const COPY_BYTES = 64 * 1024;

/** The RIFF sizes are uint32: a data chunk may not grow past this. */
const MAX_DATA_BYTES = 0xffff_ffff - (WAV_HEADER_BYTES - 8);

/** Reads exactly `buf.length` bytes unless the file ends first; returns the bytes read. */
async function readFull(file: Deno.FsFile, buf: Uint8Array): Promise<number> {
  let off = 0;
  while (off < buf.length) {
    const n = await file.read(buf.subarray(off));
    if (n === null) break;
    off += n;
  }
  return off;
}

/** The canonical PCM header for `dataBytes` of 16-bit audio. */
export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Uint8Array {
  const h = new Uint8Array(WAV_HEADER_BYTES);
  const v = new DataView(h.buffer);
  const tag = (off: number, s: string) => {
    for (let i = 0; i < 4; i++) h[off + i] = s.charCodeAt(i);
  };
  tag(0, "RIFF");
  v.setUint32(4, WAV_HEADER_BYTES - 8 + dataBytes, true);
  tag(8, "WAVE");
  tag(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, channels, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * channels * 2, true);
  v.setUint16(32, channels * 2, true);
  v.setUint16(34, 16, true);
  tag(36, "data");
  v.setUint32(40, dataBytes, true);
  return h;
}

/** Removes `path`, ignoring a missing file. */
export async function removeQuietly(path: string): Promise<void> {
  await Deno.remove(path).catch(() => {});
}

async function syncDir(dir: string): Promise<void> {
  try {
    const d = await Deno.open(dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  } catch {
    // Not every platform can fsync a directory; the file data itself is already synced.
  }
}

/**
 * Moves a finished file from `from` to `to` without ever replacing an existing file (hard link,
 * or a checked rename where links are unsupported). Throws when `to` exists.
 */
export async function publishFile(from: string, to: string): Promise<void> {
  const exists = () => new Error(`Cannot publish recording: ${basename(to)} already exists`);
  try {
    await Deno.link(from, to);
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) throw exists();
    try {
      await Deno.lstat(to);
      throw exists();
    } catch (statErr) {
      if (!(statErr instanceof Deno.errors.NotFound)) throw statErr;
    }
    await Deno.rename(from, to);
    await syncDir(dirname(to));
    return;
  }
  await removeQuietly(from);
  await syncDir(dirname(to));
}

/** A WAV file assembled with awaited writes in a hidden staging file, then published. */
export class WavFileBuilder {
  readonly finalPath: string;
  readonly stagingPath: string;
  readonly sampleRate: number;
  readonly channels: number;
  readonly #file: Deno.FsFile;
  #dataBytes = 0;
  #closed = false;

  private constructor(
    file: Deno.FsFile,
    finalPath: string,
    stagingPath: string,
    sampleRate: number,
    channels: number,
  ) {
    this.#file = file;
    this.finalPath = finalPath;
    this.stagingPath = stagingPath;
    this.sampleRate = sampleRate;
    this.channels = channels;
  }

  /** Creates `.<name>.build-<hex>` beside `finalPath` with a placeholder header. */
  static async create(
    finalPath: string,
    sampleRate: number,
    channels: number,
  ): Promise<WavFileBuilder> {
    if (!Number.isInteger(channels) || channels < 1 || channels > 64) {
      throw new Error(`Cannot build WAV: invalid channel count ${channels}`);
    }
    const stagingPath = join(dirname(finalPath), `.${basename(finalPath)}.build-${randomHex8()}`);
    const file = await Deno.open(stagingPath, { write: true, createNew: true });
    const b = new WavFileBuilder(file, finalPath, stagingPath, sampleRate, channels);
    try {
      await writeAll(file, wavHeader(sampleRate, channels, 0));
    } catch (err) {
      await b.discard();
      throw err;
    }
    return b;
  }

  /** Bytes of audio written so far. */
  get dataBytes(): number {
    return this.#dataBytes;
  }

  /** Appends interleaved little-endian 16-bit samples. */
  async write(bytes: Uint8Array): Promise<void> {
    if (this.#dataBytes + bytes.length > MAX_DATA_BYTES) {
      throw new Error("Cannot build WAV: the RIFF 4 GiB limit was reached");
    }
    await writeAll(this.#file, bytes);
    this.#dataBytes += bytes.length;
  }

  /** Appends `frames` frames of silence. */
  async writeSilence(frames: number): Promise<void> {
    let left = frames * this.channels * 2;
    const zeros = new Uint8Array(Math.min(left, COPY_BYTES));
    while (left > 0) {
      const n = Math.min(left, zeros.length);
      await this.write(zeros.subarray(0, n));
      left -= n;
    }
  }

  /** Patches the sizes, fsyncs and publishes at `finalPath`; returns the file size. */
  async publish(): Promise<number> {
    try {
      await this.#file.seek(0, Deno.SeekMode.Start);
      await writeAll(this.#file, wavHeader(this.sampleRate, this.channels, this.#dataBytes));
      await this.#file.sync();
      this.#close();
      await publishFile(this.stagingPath, this.finalPath);
    } catch (err) {
      await this.discard();
      throw new Error(`Cannot build WAV: ${describe(err)}`, { cause: err });
    }
    return WAV_HEADER_BYTES + this.#dataBytes;
  }

  /** Closes and removes the staging file. */
  async discard(): Promise<void> {
    this.#close();
    await removeQuietly(this.stagingPath);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#file.close();
    } catch {
      // already closed
    }
  }
}

/** One finished segment of a recording and the silence that precedes it. */
export interface WavPart {
  readonly path: string;
  /** Sample frames of silence to insert before this part (the gap since the previous one). */
  readonly gapFrames: number;
}

/**
 * Joins recorded segments (same rate and channel count, 44-byte headers) into one file at
 * `finalPath`, with silence in the gaps. Frames here are sample frames (one sample per channel).
 * Returns the number of frames written.
 */
export async function concatWavParts(
  finalPath: string,
  sampleRate: number,
  channels: number,
  parts: readonly WavPart[],
): Promise<number> {
  const out = await WavFileBuilder.create(finalPath, sampleRate, channels);
  const buf = new Uint8Array(COPY_BYTES);
  try {
    for (const part of parts) {
      await out.writeSilence(part.gapFrames);
      const file = await Deno.open(part.path, { read: true });
      try {
        await file.seek(WAV_HEADER_BYTES, Deno.SeekMode.Start);
        for (;;) {
          const n = await readFull(file, buf);
          // An odd trailing byte would break frame alignment; whole frames only.
          const whole = n - (n % (channels * 2));
          if (whole > 0) await out.write(buf.subarray(0, whole));
          if (n < buf.length) break;
        }
      } finally {
        file.close();
      }
    }
  } catch (err) {
    await out.discard();
    throw err;
  }
  const frames = out.dataBytes / (channels * 2);
  await out.publish();
  return frames;
}

/** One participant's mono track and the sample frame of the recording at which it starts. */
export interface TrackInput {
  readonly path: string;
  readonly startFrame: number;
}

/**
 * Interleaves mono tracks into one `tracks.length`-channel file of `totalFrames` frames at
 * `finalPath`: channel i is silent before its `startFrame` and after its data ends. Works in
 * one-second chunks so memory stays bounded whatever the length.
 */
export async function mergeTracks(
  finalPath: string,
  sampleRate: number,
  totalFrames: number,
  tracks: readonly TrackInput[],
): Promise<number> {
  const c = tracks.length;
  const out = await WavFileBuilder.create(finalPath, sampleRate, c);
  const files: Deno.FsFile[] = [];
  try {
    const lengths: number[] = [];
    for (const t of tracks) {
      const f = await Deno.open(t.path, { read: true });
      files.push(f);
      const size = (await f.stat()).size;
      lengths.push(Math.max(0, Math.floor((size - WAV_HEADER_BYTES) / 2)));
      await f.seek(WAV_HEADER_BYTES, Deno.SeekMode.Start);
    }
    const chunk = Math.max(1, sampleRate);
    const inBuf = new Uint8Array(chunk * 2);
    const outBuf = new Uint8Array(chunk * c * 2);
    for (let f0 = 0; f0 < totalFrames; f0 += chunk) {
      const m = Math.min(chunk, totalFrames - f0);
      outBuf.fill(0, 0, m * c * 2);
      for (let ch = 0; ch < c; ch++) {
        const start = tracks[ch].startFrame;
        const a = Math.max(f0, start);
        const b = Math.min(f0 + m, start + lengths[ch]);
        if (a >= b) continue;
        // Tracks are read front to back, so the file position is already at frame a - start.
        const got = await readFull(files[ch], inBuf.subarray(0, (b - a) * 2)) >> 1;
        // Byte copies keep the little-endian file order whatever the host's endianness.
        let o = ((a - f0) * c + ch) * 2;
        const stride = c * 2;
        for (let k = 0; k < got; k++, o += stride) {
          outBuf[o] = inBuf[2 * k];
          outBuf[o + 1] = inBuf[2 * k + 1];
        }
      }
      await out.write(outBuf.subarray(0, m * c * 2));
    }
  } catch (err) {
    for (const f of files) f.close();
    await out.discard();
    throw err;
  }
  for (const f of files) f.close();
  return await out.publish();
}
