/**
 * The per-tick part of a leg recording: an endpoint tap that writes one stereo frame per tick,
 * left = what the leg said (its input), right = what it heard (its output after playback), at a
 * rate fixed when the recording started (compat §1 Recording). When the leg's mix rate changes
 * (it joins, leaves or moves between rooms) both channels are resampled to that fixed rate, so the
 * file keeps one rate and one timeline. A tick where the leg sent nothing records silence on the
 * left; a paused recorder writes silence on both channels. Buffers are allocated up front and on
 * a rate change only.
 */

import type { EndpointHooks } from "./feature_host.ts";
import { Resampler } from "./resampler.ts";
import type { RecordingSink } from "./recorder_sink.ts";

/** Stereo recorder of one endpoint, installed as an {@linkcode EndpointHooks} tap. */
export class LegRecorder implements EndpointHooks {
  /** The file's sample rate. */
  readonly rate: number;
  readonly sink: RecordingSink;
  /** Silence on both channels while true. */
  paused: boolean;
  /** Frames written. */
  frames = 0;
  /** Wall-clock time of the first frame (0 until then). */
  startWallMs = 0;
  readonly #n: number;
  readonly #frame: Int16Array;
  readonly #left: Int16Array;
  readonly #right: Int16Array;
  #inRate = 0;
  #inZeros: Int16Array = new Int16Array(0);
  #upLeft: Resampler | null = null;
  #upRight: Resampler | null = null;

  constructor(sink: RecordingSink, rate: number, paused: boolean) {
    this.sink = sink;
    this.rate = rate;
    this.paused = paused;
    this.#n = rate / 50;
    this.#frame = new Int16Array(this.#n * 2);
    this.#left = new Int16Array(this.#n);
    this.#right = new Int16Array(this.#n);
  }

  tap(input: Int16Array | null, output: Int16Array, rate: number): void {
    if (this.frames === 0) this.startWallMs = Date.now();
    const n = this.#n;
    const f = this.#frame;
    if (this.paused) {
      f.fill(0);
    } else if (rate === this.rate) {
      interleave(f, input, output, n);
    } else {
      if (rate !== this.#inRate) this.#setInputRate(rate);
      const inLen = rate / 50;
      // The left resampler also runs on silent ticks so its history stays continuous.
      this.#upLeft!.process(input ?? this.#inZeros, inLen, this.#left);
      this.#upRight!.process(output, inLen, this.#right);
      interleave(f, input === null ? null : this.#left, this.#right, n);
    }
    this.sink.append(f, n);
    this.frames++;
  }

  #setInputRate(rate: number): void {
    // Once per move between rates, never per tick.
    this.#inRate = rate;
    this.#inZeros = new Int16Array(rate / 50);
    this.#upLeft = new Resampler(rate, this.rate);
    this.#upRight = new Resampler(rate, this.rate);
  }
}

function interleave(
  out: Int16Array,
  left: Int16Array | null,
  right: Int16Array,
  n: number,
): void {
  if (left === null) {
    for (let i = 0, o = 0; i < n; i++, o += 2) {
      out[o] = 0;
      out[o + 1] = right[i];
    }
    return;
  }
  for (let i = 0, o = 0; i < n; i++, o += 2) {
    out[o] = left[i];
    out[o + 1] = right[i];
  }
}
