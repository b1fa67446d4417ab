/**
 * Per-participant speaking detection from the mixer's per-frame input RMS (compat "Speech
 * detection": `speaking.started` / `speaking.stopped`).
 *
 * Two thresholds (hysteresis) and two hold times: speech must stay above the on-threshold for
 * ~60 ms before it counts, so clicks and single loud frames do not fire events; it must stay
 * below the lower off-threshold for ~400 ms before it ends, so the pauses between words and the
 * soft tails of syllables do not split one utterance into many events. Levels between the two
 * thresholds keep the current state.
 */

/** What a frame changed: 0 nothing, 1 speaking started, 2 speaking stopped. */
export const SpeakingChange = { None: 0, Started: 1, Stopped: 2 } as const;
/** One of the `SpeakingChange` values. */
export type SpeakingChange = typeof SpeakingChange[keyof typeof SpeakingChange];

/** Thresholds and hold times; defaults suit telephone speech at normal levels. */
export interface SpeakingOptions {
  /** Level (dBFS, relative to Int16 full scale 32768) that starts speech; default −40. */
  readonly onDb?: number;
  /** Level (dBFS) below which speech may end; default −45. Must not exceed `onDb`. */
  readonly offDb?: number;
  /** Time above `onDb` before `Started`; default 60 ms. */
  readonly onMs?: number;
  /** Time below `offDb` before `Stopped`; default 400 ms. */
  readonly offMs?: number;
  /** Duration of one frame fed to `update`; default 20 ms. */
  readonly frameMs?: number;
}

/** Speaking state machine for one participant; `update` once per frame, no allocation. */
export class SpeakingDetector {
  readonly #on: number; // linear RMS thresholds, compared directly (no log per frame)
  readonly #off: number;
  readonly #onFrames: number;
  readonly #offFrames: number;
  #speaking = false;
  #run = 0; // consecutive frames pushing towards the other state

  constructor(options: SpeakingOptions = {}) {
    const onDb = options.onDb ?? -40;
    const offDb = options.offDb ?? -45;
    if (offDb > onDb) {
      throw new RangeError(`Cannot detect speech: offDb ${offDb} is above onDb ${onDb}`);
    }
    const frameMs = options.frameMs ?? 20;
    this.#on = 32768 * Math.pow(10, onDb / 20);
    this.#off = 32768 * Math.pow(10, offDb / 20);
    this.#onFrames = Math.max(1, Math.ceil((options.onMs ?? 60) / frameMs));
    this.#offFrames = Math.max(1, Math.ceil((options.offMs ?? 400) / frameMs));
  }

  /** Whether the participant is currently considered speaking. */
  get speaking(): boolean {
    return this.#speaking;
  }

  /** Feeds one frame's RMS (Int16 units) and reports the transition it caused, if any. */
  update(rms: number): SpeakingChange {
    if (!this.#speaking) {
      this.#run = rms >= this.#on ? this.#run + 1 : 0;
      if (this.#run >= this.#onFrames) {
        this.#speaking = true;
        this.#run = 0;
        return SpeakingChange.Started;
      }
    } else {
      this.#run = rms < this.#off ? this.#run + 1 : 0;
      if (this.#run >= this.#offFrames) {
        this.#speaking = false;
        this.#run = 0;
        return SpeakingChange.Stopped;
      }
    }
    return SpeakingChange.None;
  }

  /** Returns to "not speaking" without reporting (e.g. the participant left the room). */
  reset(): void {
    this.#speaking = false;
    this.#run = 0;
  }
}
