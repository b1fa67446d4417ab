/**
 * A streaming 16-bit PCM WAV writer for recordings. The media tick hands it interleaved frames
 * synchronously; the writer copies them into ~1 s buffers and writes those to a hidden staging
 * file next to the final path, one write at a time. `finish()` patches the RIFF sizes, fsyncs
 * and publishes the file under its final name, so a reader never sees a half-written recording.
 */

import { basename, dirname, join } from "node:path";
import { describe, randomHex8, writeAll } from "./file_util.ts";

/** Options of {@linkcode WavWriter.create}. */
export interface WavWriterOptions {
  /** Where the finished file is published; nothing exists there before `finish()` resolves. */
  finalPath: string;
  sampleRate: number;
  channels: number;
  /** Size of one write, in milliseconds of audio (default 1000). */
  chunkMs?: number;
  /** Cap on the data chunk, in bytes; defaults to (and is clamped to) the RIFF 4 GiB limit. */
  maxDataBytes?: number;
}

/** What {@linkcode WavWriter.finish} published. */
export interface WavWriterResult {
  /** The final path. */
  path: string;
  durationMs: number;
  /** Size of the whole file, header included. */
  bytes: number;
  /** True when audio past the size limit was dropped (the file itself is valid). */
  truncated: boolean;
}

const HEADER_BYTES = 44;
/** The RIFF chunk size is a uint32 that counts everything after its own field. */
const RIFF_MAX_DATA_BYTES = 0xffff_ffff - (HEADER_BYTES - 8);
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const FREE_BUFFERS_KEPT = 2;

type State = "open" | "finishing" | "finished" | "discarded";

interface Pending {
  buf: Uint8Array;
  len: number;
}

/** Builds the canonical 44-byte PCM header (RIFF, `fmt ` of 16 bytes, `data`). */
function wavHeader(sampleRate: number, channels: number, dataBytes: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  const v = new DataView(h.buffer);
  const ascii = (off: number, s: string) => {
    for (let i = 0; i < 4; i++) h[off + i] = s.charCodeAt(i);
  };
  const blockAlign = channels * 2;
  ascii(0, "RIFF");
  v.setUint32(4, HEADER_BYTES - 8 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // WAVE_FORMAT_PCM
  v.setUint16(22, channels, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * blockAlign, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, 16, true);
  ascii(36, "data");
  v.setUint32(40, dataBytes, true);
  return h;
}

/** Streams interleaved 16-bit PCM into a WAV file published atomically at `finish()`. */
export class WavWriter {
  /** Where the file appears once `finish()` resolves. */
  readonly finalPath: string;
  /** The hidden file written while recording, in the same directory as `finalPath`. */
  readonly stagingPath: string;
  readonly sampleRate: number;
  readonly channels: number;
  readonly #file: Deno.FsFile;
  readonly #blockAlign: number;
  readonly #chunkBytes: number;
  readonly #maxDataBytes: number;
  #chunk: Uint8Array;
  #fill = 0;
  #queue: Pending[] = [];
  #free: Uint8Array[] = [];
  #writing: Promise<void> | null = null;
  #dataBytes = 0;
  #truncated = false;
  #error: Error | null = null;
  #state: State = "open";
  #finishing: Promise<WavWriterResult> | null = null;

  private constructor(
    file: Deno.FsFile,
    stagingPath: string,
    opts: WavWriterOptions,
  ) {
    this.#file = file;
    this.stagingPath = stagingPath;
    this.finalPath = opts.finalPath;
    this.sampleRate = opts.sampleRate;
    this.channels = opts.channels;
    this.#blockAlign = opts.channels * 2;
    const chunkMs = opts.chunkMs ?? 1000;
    const frames = Math.max(1, Math.round(opts.sampleRate * chunkMs / 1000));
    this.#chunkBytes = Math.max(frames * this.#blockAlign, this.#blockAlign);
    const cap = Math.min(opts.maxDataBytes ?? RIFF_MAX_DATA_BYTES, RIFF_MAX_DATA_BYTES);
    this.#maxDataBytes = Math.floor(cap / this.#blockAlign) * this.#blockAlign;
    this.#chunk = new Uint8Array(this.#chunkBytes);
  }

  /** Opens the staging file (`.<final>.partial-<hex>` beside `finalPath`) with a placeholder header. */
  static async create(opts: WavWriterOptions): Promise<WavWriter> {
    const { sampleRate, channels } = opts;
    if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384000) {
      throw new Error(`Cannot create WAV: invalid sample rate ${sampleRate}`);
    }
    if (!Number.isInteger(channels) || channels < 1 || channels > 64) {
      throw new Error(`Cannot create WAV: invalid channel count ${channels}`);
    }
    if (opts.chunkMs !== undefined && !(opts.chunkMs > 0)) {
      throw new Error(`Cannot create WAV: invalid chunk duration ${opts.chunkMs}`);
    }
    const stagingPath = join(
      dirname(opts.finalPath),
      `.${basename(opts.finalPath)}.partial-${randomHex8()}`,
    );
    const file = await Deno.open(stagingPath, { write: true, createNew: true });
    try {
      await writeAll(file, wavHeader(sampleRate, channels, 0));
    } catch (err) {
      file.close();
      await Deno.remove(stagingPath).catch(() => {});
      throw new Error(`Cannot create WAV: ${describe(err)}`, { cause: err });
    }
    return new WavWriter(file, stagingPath, opts);
  }

  /** Audio accepted so far, in milliseconds. */
  get durationMs(): number {
    return Math.round(this.#dataBytes / this.#blockAlign * 1000 / this.sampleRate);
  }

  /** True once the size limit was reached; later audio is dropped. */
  get truncated(): boolean {
    return this.#truncated;
  }

  /** The first write error, if any; it is thrown again by `finish()`. */
  get error(): Error | null {
    return this.#error;
  }

  /**
   * Queues `frames` interleaved frames from `interleaved` (copied, so the caller may reuse its
   * buffer at once). Never waits. Returns false when the audio was dropped, in whole or in
   * part, because the size limit was reached or an earlier write failed.
   */
  append(interleaved: Int16Array, frames: number): boolean {
    if (this.#state !== "open") throw new Error("Cannot append to WAV: writer is closed");
    if (!Number.isInteger(frames) || frames < 0 || frames * this.channels > interleaved.length) {
      throw new RangeError(`Cannot append to WAV: invalid frame count ${frames}`);
    }
    if (this.#error !== null || this.#truncated) return false;
    let bytes = frames * this.#blockAlign;
    let accepted = true;
    if (this.#dataBytes + bytes > this.#maxDataBytes) {
      bytes = this.#maxDataBytes - this.#dataBytes;
      this.#truncated = true;
      accepted = false;
    }
    if (bytes > 0) this.#copyIn(interleaved, bytes);
    return accepted;
  }

  #copyIn(src: Int16Array, bytes: number): void {
    let srcByte = 0;
    while (srcByte < bytes) {
      const n = Math.min(this.#chunkBytes - this.#fill, bytes - srcByte);
      if (LITTLE_ENDIAN_HOST) {
        this.#chunk.set(
          new Uint8Array(src.buffer, src.byteOffset + srcByte, n),
          this.#fill,
        );
      } else {
        const v = new DataView(this.#chunk.buffer, this.#fill, n);
        for (let i = 0; i < n; i += 2) v.setInt16(i, src[(srcByte + i) >> 1], true);
      }
      this.#fill += n;
      srcByte += n;
      if (this.#fill === this.#chunkBytes) this.#rotate();
    }
    this.#dataBytes += bytes;
  }

  /** Hands the current buffer to the write queue and starts the writer if it is idle. */
  #rotate(): void {
    if (this.#fill === 0) return;
    this.#queue.push({ buf: this.#chunk, len: this.#fill });
    this.#chunk = this.#free.pop() ?? new Uint8Array(this.#chunkBytes);
    this.#fill = 0;
    if (this.#writing === null) this.#writing = this.#drain();
  }

  /** Writes queued buffers in order; at most one write is ever in flight. */
  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const next = this.#queue[0];
        try {
          await writeAll(this.#file, next.buf.subarray(0, next.len));
        } catch (err) {
          this.#error ??= new Error(`Cannot write WAV: ${describe(err)}`, { cause: err });
          this.#queue.length = 0;
          return;
        }
        this.#queue.shift();
        if (this.#free.length < FREE_BUFFERS_KEPT) this.#free.push(next.buf);
      }
    } finally {
      this.#writing = null;
    }
  }

  async #settle(): Promise<void> {
    while (this.#writing !== null) await this.#writing;
  }

  /**
   * Writes what is buffered, patches the RIFF and data sizes, fsyncs, closes and publishes the
   * file at `finalPath` (a hard link, so an existing file is never overwritten). On a write
   * error the staging file is removed and the error is thrown. Calling it again returns the
   * same result.
   */
  finish(): Promise<WavWriterResult> {
    if (this.#finishing !== null) return this.#finishing;
    if (this.#state === "discarded") {
      return Promise.reject(new Error("Cannot finish WAV: writer was discarded"));
    }
    this.#state = "finishing";
    this.#finishing = this.#finish();
    return this.#finishing;
  }

  async #finish(): Promise<WavWriterResult> {
    this.#rotate();
    await this.#settle();
    let closed = false;
    try {
      if (this.#error !== null) throw this.#error;
      try {
        await this.#file.seek(0, Deno.SeekMode.Start);
        await writeAll(this.#file, wavHeader(this.sampleRate, this.channels, this.#dataBytes));
        await this.#file.sync();
      } catch (err) {
        throw new Error(`Cannot write WAV: ${describe(err)}`, { cause: err });
      }
      this.#file.close();
      closed = true;
      await this.#publish();
    } catch (err) {
      if (!closed) this.#file.close();
      await Deno.remove(this.stagingPath).catch(() => {});
      this.#state = "discarded";
      throw err;
    }
    this.#state = "finished";
    return {
      path: this.finalPath,
      durationMs: this.durationMs,
      bytes: HEADER_BYTES + this.#dataBytes,
      truncated: this.#truncated,
    };
  }

  /** Moves the staging file to `finalPath` without ever replacing an existing file. */
  async #publish(): Promise<void> {
    const exists = () =>
      new Error(`Cannot publish WAV: ${basename(this.finalPath)} already exists`);
    try {
      await Deno.link(this.stagingPath, this.finalPath);
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) throw exists();
      // Filesystems without hard links: fall back to rename after checking the target.
      try {
        await Deno.lstat(this.finalPath);
        throw exists();
      } catch (statErr) {
        if (!(statErr instanceof Deno.errors.NotFound)) throw statErr;
      }
      try {
        await Deno.rename(this.stagingPath, this.finalPath);
      } catch (renameErr) {
        throw new Error(`Cannot publish WAV: ${describe(renameErr)}`, { cause: renameErr });
      }
      await this.#syncDir();
      return;
    }
    await Deno.remove(this.stagingPath).catch(() => {});
    await this.#syncDir();
  }

  /** Makes the directory entry durable too; best effort, as not every platform allows it. */
  async #syncDir(): Promise<void> {
    try {
      const dir = await Deno.open(dirname(this.finalPath), { read: true });
      try {
        await dir.sync();
      } finally {
        dir.close();
      }
    } catch {
      // Directory fsync is unsupported on some systems; the data itself is already synced.
    }
  }

  /** Drops the recording: waits for the write in flight, closes and removes the staging file. */
  async discard(): Promise<void> {
    if (this.#state === "discarded") return;
    if (this.#state !== "open") {
      // A finish is under way or done: the recording is already being published.
      await this.#finishing?.catch(() => {});
      return;
    }
    this.#state = "discarded";
    this.#queue.length = 0;
    await this.#settle();
    this.#file.close();
    await Deno.remove(this.stagingPath).catch(() => {});
  }

  /** Discards the recording unless it was finished. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.discard();
  }
}
