/**
 * The sample sources of playback, rendered 20 ms at a time inside the media tick: a decoded file
 * (played N times or forever) and a call-progress tone (never ends). Both write at whatever rate
 * the tick asks for, because a leg's mix rate changes when it joins or leaves a room.
 *
 * A file is resampled once per output rate, outside the tick: `renderProgressively` converts the
 * decoded source in slices and yields between them, and the tick plays whatever is already
 * rendered. After a rate change the new rendering starts at the current position, so the gap is
 * at most a frame or two, even for a long file.
 */
import { Resampler } from "./resampler.ts";
import { ToneGenerator, type ToneSpec } from "./tones.ts";
import type { PlaybackResume } from "./playback_protocol.ts";

/** Something the tick can pull 20 ms frames from. */
export interface Voice {
  /**
   * Writes `n` samples at `rate` into `out[0..n)` (silence where nothing is ready yet). Returns
   * false once the voice has ended; the frame that returns false still holds its last samples.
   */
  fill(out: Int16Array, n: number, rate: number): boolean;
  /** Whether any audio has been produced yet (for `playback.started`). */
  readonly audible: boolean;
  /** Milliseconds of audio produced so far, across iterations. */
  readonly playedMs: number;
  /** Why the voice ended early, when it failed (it then returns false from `fill`). */
  readonly error: string | undefined;
  /** Where to continue on another worker. */
  resumeState(): PlaybackResume;
  /** Releases background work (a rendering in progress). */
  close(): void;
}

/** Linear gain of a volume step: about 3 dB per step, 0 = unity (compat "Playback"). */
export function volumeGain(step: number): number {
  return step === 0 ? 1 : Math.pow(10, (3 * step) / 20);
}

/** Adds `src[0..n)` × `gain` into `out`, saturating to Int16 (never wrapping: no clicks). */
export function addScaled(out: Int16Array, src: Int16Array, n: number, gain: number): void {
  if (gain === 1) {
    for (let i = 0; i < n; i++) {
      const v = out[i] + src[i];
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = out[i] + Math.round(src[i] * gain);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
}

/** A tone at any of the engine's rates; the generator is rebuilt when the rate changes. */
export class ToneVoice implements Voice {
  readonly #spec: ToneSpec;
  #gen: ToneGenerator | undefined;
  #playedMs: number;

  constructor(spec: ToneSpec, resume?: PlaybackResume) {
    this.#spec = spec;
    this.#playedMs = resume?.playedMs ?? 0;
  }

  get audible(): boolean {
    return this.#gen !== undefined;
  }

  get error(): undefined {
    return undefined;
  }

  get playedMs(): number {
    return this.#playedMs;
  }

  fill(out: Int16Array, n: number, rate: number): boolean {
    // Only at a rate change (a leg moving between rooms), never in steady state.
    if (this.#gen === undefined || this.#gen.sampleRate !== rate) {
      this.#gen = new ToneGenerator(this.#spec, rate);
    }
    this.#gen.fill(out, n);
    this.#playedMs += (n * 1000) / rate;
    return true;
  }

  resumeState(): PlaybackResume {
    return { iteration: 0, positionMs: 0, playedMs: this.#playedMs };
  }

  close(): void {}
}

/**
 * One iteration of a source at one output rate, filled in the background: first from `start` to
 * the end, then from 0 to `start`.
 */
export class Rendering {
  readonly rate: number;
  readonly buf: Int16Array;
  readonly start: number;
  /** `buf[start .. filledTail)` is ready. */
  filledTail: number;
  /** `buf[0 .. filledHead)` is ready (only after the tail is complete). */
  filledHead = 0;

  constructor(rate: number, length: number, start: number) {
    this.rate = rate;
    this.buf = new Int16Array(length);
    this.start = start;
    this.filledTail = start;
  }

  /** Whether `buf[pos .. pos+n)` is ready. */
  ready(pos: number, n: number): boolean {
    const end = pos + n;
    if (pos >= this.start) return this.filledTail >= end;
    return this.filledTail === this.buf.length && this.filledHead >= end;
  }
}

/** Samples at `outRate` of a clip of `len` samples at `inRate` (as `resampleAll` produces). */
export function renderedLength(len: number, inRate: number, outRate: number): number {
  return inRate === outRate ? len : Math.ceil((len * outRate) / inRate);
}

/** Longest stretch of rendering between yields, so the 20 ms clock keeps ticking. */
const SLICE_MS = 4;
/** Source samples converted per resampler call. */
const CHUNK = 4096;

/**
 * Fills `r` from `src` (at `srcRate`) in slices, yielding to the event loop between them, until
 * done or `signal` aborts. The result is sample-identical to `resampleAll` when `r.start` is 0.
 */
export async function renderProgressively(
  r: Rendering,
  src: Int16Array,
  srcRate: number,
  signal: AbortSignal,
): Promise<void> {
  const srcFrom = Math.floor((r.start * srcRate) / r.rate);
  await renderRange(r, src, srcRate, srcFrom, r.start, r.buf.length, signal, (o) => {
    r.filledTail = o;
  });
  if (r.start > 0 && !signal.aborted) {
    await renderRange(r, src, srcRate, 0, 0, r.start, signal, (o) => {
      r.filledHead = o;
    });
  }
}

async function renderRange(
  r: Rendering,
  src: Int16Array,
  srcRate: number,
  srcFrom: number,
  outFrom: number,
  outTo: number,
  signal: AbortSignal,
  progress: (filledTo: number) => void,
): Promise<void> {
  // Delay-compensated: output outFrom lines up with source sample srcFrom.
  const rs = new Resampler(srcRate, r.rate, { compensateDelay: true });
  const tmp = new Int16Array(rs.outputLength(CHUNK));
  const zeros = new Int16Array(CHUNK);
  let s = srcFrom;
  let o = outFrom;
  let flushes = 0;
  let last = performance.now();
  while (o < outTo) {
    if (signal.aborted) return;
    let input: Int16Array;
    if (s < src.length) {
      input = src.subarray(s, Math.min(src.length, s + CHUNK));
      s += input.length;
    } else if (flushes++ < 4) {
      input = zeros; // lets the filter's delayed tail come out
    } else {
      break;
    }
    const n = rs.process(input, input.length, tmp);
    const take = Math.min(n, outTo - o);
    r.buf.set(tmp.subarray(0, take), o);
    o += take;
    progress(o);
    if (performance.now() - last >= SLICE_MS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      last = performance.now();
    }
  }
  // Whatever the filter did not produce stays silent (the buffer is zeroed).
  if (o < outTo) progress(outTo);
}

/** Options of a {@link FileVoice}. */
export interface FileVoiceOptions {
  /** Times to play (≥ 1), or -1 for forever. */
  readonly times: number;
  readonly resume?: PlaybackResume;
  /** Starts a background task (tests run it synchronously); default `setTimeout(fn, 0)`. */
  readonly defer?: (fn: () => void) => void;
}

/** A decoded file, played `times` times at whatever rate the tick asks for. */
export class FileVoice implements Voice {
  readonly #src: Int16Array;
  readonly #srcRate: number;
  readonly #times: number;
  readonly #defer: (fn: () => void) => void;
  #rate = 0;
  #total = 0;
  #pos = 0;
  #iteration: number;
  #startMs: number;
  #playedMs: number;
  #done = false;
  #audible = false;
  #rendering: Rendering | undefined;
  #abort: AbortController | undefined;
  #closed = false;
  #error: string | undefined;
  #rendered: Promise<void> = Promise.resolve();

  constructor(samples: Int16Array, sampleRate: number, options: FileVoiceOptions) {
    this.#src = samples;
    this.#srcRate = sampleRate;
    this.#times = options.times;
    this.#defer = options.defer ?? ((fn) => setTimeout(fn, 0));
    this.#iteration = options.resume?.iteration ?? 0;
    this.#startMs = options.resume?.positionMs ?? 0;
    this.#playedMs = options.resume?.playedMs ?? 0;
    this.#done = this.#times >= 0 && this.#iteration >= this.#times;
  }

  get audible(): boolean {
    return this.#audible;
  }

  get playedMs(): number {
    return this.#playedMs;
  }

  get error(): string | undefined {
    return this.#error;
  }

  /** Starts rendering at `rate` before the first tick asks for it. */
  prepare(rate: number): void {
    if (rate !== this.#rate) this.#retarget(rate);
  }

  fill(out: Int16Array, n: number, rate: number): boolean {
    if (rate !== this.#rate) this.#retarget(rate);
    const r = this.#rendering;
    let o = 0;
    if (r !== undefined) {
      const buf = r.buf;
      while (o < n && !this.#done) {
        const want = Math.min(n - o, this.#total - this.#pos);
        // Not rendered yet (just after a rate change): a gap, the position holds.
        if (!r.ready(this.#pos, want)) break;
        const p = this.#pos;
        for (let i = 0; i < want; i++) out[o + i] = buf[p + i];
        o += want;
        this.#pos += want;
        if (this.#pos >= this.#total) {
          this.#pos = 0;
          this.#iteration++;
          if (this.#times >= 0 && this.#iteration >= this.#times) this.#done = true;
        }
      }
    }
    if (o > 0) {
      this.#audible = true;
      this.#playedMs += (o * 1000) / rate;
    }
    if (o < n) out.fill(0, o, n);
    return !this.#done;
  }

  /** Settles when the rendering started last has finished (or stopped). */
  whenRendered(): Promise<void> {
    return this.#rendered;
  }

  resumeState(): PlaybackResume {
    const positionMs = this.#rate > 0 ? (this.#pos * 1000) / this.#rate : this.#startMs;
    return { iteration: this.#iteration, positionMs, playedMs: this.#playedMs };
  }

  close(): void {
    this.#closed = true;
    this.#abort?.abort();
    this.#abort = undefined;
    this.#rendering = undefined;
  }

  #fail(err: unknown): void {
    this.#error = `Cannot resample audio: ${err instanceof Error ? err.message : String(err)}`;
    this.#done = true;
  }

  /** Keeps the time position and renders anew at `rate`; the allocation happens off the tick. */
  #retarget(rate: number): void {
    const posMs = this.#rate > 0 ? (this.#pos * 1000) / this.#rate : this.#startMs;
    this.#rate = rate;
    this.#total = renderedLength(this.#src.length, this.#srcRate, rate);
    this.#pos = Math.min(this.#total - 1, Math.max(0, Math.round((posMs * rate) / 1000)));
    this.#rendering = undefined;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    // Render from a point where output and source samples line up exactly (a multiple of the
    // upsampling factor), at or before the position, so the pitch and phase stay exact.
    const up = rate / gcd(rate, this.#srcRate);
    const start = up >= this.#total ? 0 : this.#pos - (this.#pos % up);
    let settle = () => {};
    this.#rendered = new Promise<void>((resolve) => settle = resolve);
    this.#defer(() => {
      if (abort.signal.aborted || this.#closed) return settle();
      try {
        const r = new Rendering(rate, this.#total, start);
        this.#rendering = r;
        renderProgressively(r, this.#src, this.#srcRate, abort.signal)
          .catch((err) => this.#fail(err))
          .finally(settle);
      } catch (err) {
        this.#fail(err); // e.g. an absurd rate pair whose filter would be too long
        settle();
      }
    });
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
