/**
 * The media clock: a drift-free 20 ms tick. Each tick is scheduled against the absolute grid
 * `t0 + k·period` on a monotonic clock (Deno's setInterval re-arms from the callback time and
 * drifts ≈0.3 ms per tick — shared/notes §2). When the loop falls behind by a whole period or
 * more, the missed ticks are skipped and counted instead of being run back to back: catch-up
 * loops starve socket reads and caused the measured overload collapse (§6).
 */

/** Lateness and load statistics of a clock. */
export interface ClockStats {
  ticks: number;
  skipped: number;
  /** Last tick's lateness behind its grid slot, ms. */
  lastLateMs: number;
  /** Exponentially weighted average of the tick callback's run time, ms. */
  avgWorkMs: number;
}

/** Number of recent lateness samples kept for percentiles (≈5 s of ticks). */
const LATE_WINDOW = 256;

/** A periodic tick on an absolute grid. */
export class MediaClock {
  readonly periodMs: number;
  readonly stats: ClockStats = { ticks: 0, skipped: 0, lastLateMs: 0, avgWorkMs: 0 };
  readonly #late = new Float64Array(LATE_WINDOW);
  readonly #sorted = new Float64Array(LATE_WINDOW);
  readonly #onTick: (tick: number, lateMs: number) => void;
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #t0 = 0;
  #k = 0;
  #running = false;

  constructor(
    onTick: (tick: number, lateMs: number) => void,
    options: { periodMs?: number; now?: () => number } = {},
  ) {
    this.#onTick = onTick;
    this.periodMs = options.periodMs ?? 20;
    this.#now = options.now ?? (() => performance.now());
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts ticking (first tick one period from now). Idempotent. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#t0 = this.#now();
    this.#k = 0;
    this.#arm();
  }

  /** Stops ticking; an idle worker costs nothing. Idempotent. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Lateness p50/p99/max (ms) over the last ≈5 s of ticks; allocation-free. */
  latenessPercentiles(): { p50: number; p99: number; max: number } {
    const n = Math.min(this.stats.ticks, LATE_WINDOW);
    if (n === 0) return { p50: 0, p99: 0, max: 0 };
    const s = this.#sorted.subarray(0, n);
    s.set(this.#late.subarray(0, n));
    s.sort();
    return {
      p50: s[Math.floor(n * 0.5)],
      p99: s[Math.min(n - 1, Math.floor(n * 0.99))],
      max: s[n - 1],
    };
  }

  #arm(): void {
    const due = this.#t0 + (this.#k + 1) * this.periodMs;
    // Deno truncates fractional delays; rounding up keeps us from firing early.
    const delay = Math.max(0, Math.ceil(due - this.#now()));
    this.#timer = setTimeout(this.#fire, delay);
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#now();
    this.#k++;
    let late = now - (this.#t0 + this.#k * this.periodMs);
    if (late >= this.periodMs) {
      const missed = Math.floor(late / this.periodMs);
      this.#k += missed;
      this.stats.skipped += missed;
      late -= missed * this.periodMs;
    }
    this.#late[this.stats.ticks % LATE_WINDOW] = late;
    this.stats.ticks++;
    this.stats.lastLateMs = late;
    try {
      this.#onTick(this.#k, late);
    } finally {
      const work = this.#now() - now;
      this.stats.avgWorkMs = this.stats.avgWorkMs * 0.95 + work * 0.05;
      if (this.#running) this.#arm();
    }
  };
}
