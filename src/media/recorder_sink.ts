/**
 * A {@linkcode WavWriter} that is usable before it is open: opening a file is async, but a
 * recorder must take frames from the very tick it is installed, so the few frames that arrive
 * while the staging file is being created are copied aside and written first.
 */

import { WavWriter, type WavWriterResult } from "./wav_writer.ts";

/** Where a recorder's frames go. */
export class RecordingSink {
  readonly channels: number;
  /** Settles when the file is open; rejects when it cannot be created. */
  readonly ready: Promise<void>;
  #writer: WavWriter | null = null;
  #pending: Int16Array[] | null = [];
  #closed = false;
  #accepted = true;

  constructor(finalPath: string, sampleRate: number, channels: number) {
    this.channels = channels;
    this.ready = WavWriter.create({ finalPath, sampleRate, channels }).then((w) => {
      if (this.#closed && this.#pending === null) {
        // Discarded while opening.
        void w.discard();
        return;
      }
      for (const p of this.#pending ?? []) w.append(p, p.length / channels);
      this.#pending = null;
      this.#writer = w;
    }, (err) => {
      this.#pending = null;
      throw err;
    });
    // Observed by finish()/the feature; keep an unhandled rejection from killing the worker.
    this.ready.catch(() => {});
  }

  /** False once audio was dropped (size limit or write error). */
  get accepted(): boolean {
    return this.#accepted && (this.#writer?.error ?? null) === null;
  }

  /** Queues `frames` interleaved frames; never waits (called from the tick). */
  append(interleaved: Int16Array, frames: number): void {
    if (this.#closed) return;
    const w = this.#writer;
    if (w !== null) {
      if (!w.append(interleaved, frames)) this.#accepted = false;
      return;
    }
    // Only while the file is being created (a few ms): copies are fine there.
    this.#pending?.push(interleaved.slice(0, frames * this.channels));
  }

  /** Stops taking frames, writes what is queued and publishes the file. */
  async finish(): Promise<WavWriterResult> {
    this.#closed = true;
    await this.ready;
    return await this.#writer!.finish();
  }

  /** Stops taking frames and removes the staging file. */
  async discard(): Promise<void> {
    this.#closed = true;
    this.#pending = null;
    try {
      await this.ready;
    } catch {
      return;
    }
    await this.#writer?.discard();
  }
}
