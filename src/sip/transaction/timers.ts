/**
 * SIP transaction timers (RFC 3261 §17, Appendix A Table 4), all derived from one `{t1, t2, t4}`
 * object so tests can shrink them, and a small named-timer set per transaction over an injectable
 * clock so tests can also drive time by hand.
 */

/** The three base values every transaction timer derives from (RFC 3261 §17.1.1.1, App. A). */
export interface SipTimers {
  /** RTT estimate; default 500 ms. */
  readonly t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses; default 4 s. */
  readonly t2: number;
  /** Maximum time a message stays in the network; default 5 s. */
  readonly t4: number;
}

/** RFC 3261 Appendix A defaults. */
export const DEFAULT_SIP_TIMERS: SipTimers = Object.freeze({ t1: 500, t2: 4000, t4: 5000 });

/** The 200 ms within which an INVITE server transaction sends 100 Trying itself (§17.2.1). */
export const DEFAULT_TRYING_DELAY_MS = 200;

/**
 * Timers as RFC 3261 names them (A–K), RFC 6026's L and M, the §17.2.1 Trying delay and the §9.1
 * CANCEL guard.
 */
export type TimerName =
  | "A"
  | "B"
  | "C"
  | "D"
  | "E"
  | "F"
  | "G"
  | "H"
  | "I"
  | "J"
  | "K"
  | "L"
  | "M"
  | "Trying"
  | "CancelGuard";

/** RFC 3261 §17.1.1.2: Timer B, the INVITE client timeout, is 64*T1 for every transport. */
export function timerB(t: SipTimers): number {
  return 64 * t.t1;
}

/**
 * RFC 3261 §17.1.1.2: Timer D is "at least 32 s" for unreliable transports and zero for reliable
 * ones. 64*T1 is exactly 32 s at the default T1 and shrinks with it in tests.
 */
export function timerD(t: SipTimers, reliable: boolean): number {
  return reliable ? 0 : 64 * t.t1;
}

/** RFC 3261 §17.1.2.2: Timer F, the non-INVITE client timeout, is 64*T1. */
export function timerF(t: SipTimers): number {
  return 64 * t.t1;
}

/** RFC 3261 §17.2.1: Timer H, how long a completed INVITE server waits for ACK, is 64*T1. */
export function timerH(t: SipTimers): number {
  return 64 * t.t1;
}

/** RFC 3261 §17.2.1: Timer I absorbs ACK retransmissions: T4, zero over reliable transports. */
export function timerI(t: SipTimers, reliable: boolean): number {
  return reliable ? 0 : t.t4;
}

/** RFC 3261 §17.2.2: Timer J absorbs request retransmissions: 64*T1, zero when reliable. */
export function timerJ(t: SipTimers, reliable: boolean): number {
  return reliable ? 0 : 64 * t.t1;
}

/** RFC 3261 §17.1.2.2: Timer K absorbs response retransmissions: T4, zero when reliable. */
export function timerK(t: SipTimers, reliable: boolean): number {
  return reliable ? 0 : t.t4;
}

/** RFC 6026 §7.1: Timer L, how long an INVITE server stays Accepted after a 2xx, is 64*T1. */
export function timerL(t: SipTimers): number {
  return 64 * t.t1;
}

/** RFC 6026 §7.2: Timer M, how long an INVITE client stays Accepted after a 2xx, is 64*T1. */
export function timerM(t: SipTimers): number {
  return 64 * t.t1;
}

/**
 * RFC 3261 §17.1.2.2 / §17.2.1: the next interval of a capped back-off (Timers E and G):
 * doubles from T1 but never exceeds T2.
 */
export function cappedDouble(current: number, t: SipTimers): number {
  return Math.min(2 * current, t.t2);
}

/** Validates a timers object: positive finite numbers with T1 ≤ T2. */
export function checkTimers(t: SipTimers): SipTimers {
  for (const k of ["t1", "t2", "t4"] as const) {
    if (!Number.isFinite(t[k]) || t[k] <= 0) throw new RangeError(`Invalid SIP timer ${k}`);
  }
  if (t.t1 > t.t2) throw new RangeError("Invalid SIP timers: t1 exceeds t2");
  return t;
}

/** A timer handle as the clock returns it (opaque: the real clock's differs from a fake's). */
export type TimerHandle = unknown;

/** The time source transactions use; tests substitute a fake that advances by hand. */
export interface Clock {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: the global timer functions. */
export const systemClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The running timers of one transaction, by RFC name. Starting a running timer restarts it; a
 * zero duration fires synchronously, which is how the RFC's "zero seconds for reliable
 * transports" becomes an immediate transition without a stray 0 ms timer.
 */
export class TimerSet {
  readonly #clock: Clock;
  readonly #running = new Map<TimerName, TimerHandle>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Starts (or restarts) `name` to call `fire` after `ms`. */
  start(name: TimerName, ms: number, fire: () => void): void {
    this.stop(name);
    if (ms <= 0) {
      fire();
      return;
    }
    const handle = this.#clock.setTimeout(() => {
      this.#running.delete(name);
      fire();
    }, ms);
    this.#running.set(name, handle);
  }

  /** Stops `name` if running. */
  stop(name: TimerName): void {
    const handle = this.#running.get(name);
    if (handle === undefined) return;
    this.#clock.clearTimeout(handle);
    this.#running.delete(name);
  }

  /** Whether `name` is running. */
  isRunning(name: TimerName): boolean {
    return this.#running.has(name);
  }

  /** Names of the running timers (for tests and diagnostics). */
  running(): TimerName[] {
    return [...this.#running.keys()];
  }

  /** Stops every timer (on entering Terminated). */
  stopAll(): void {
    for (const handle of this.#running.values()) this.#clock.clearTimeout(handle);
    this.#running.clear();
  }
}
