/**
 * The back-off after a 491 Request Pending (RFC 3261 §14.1, RFC 3311 §5.1): the Call-ID's owner
 * (the dialog's UAC) waits 2.1–4 s, the other side 0–2 s, both in 10 ms steps, so the two retries
 * do not collide again.
 */
import type { NamedTimers } from "./_timers.ts";

/** RFC 3261 §14.1: the wait before retrying a request refused with 491. */
export function glareDelayMs(callIdOwner: boolean, random: () => number): number {
  const steps = callIdOwner ? 190 : 200;
  const base = callIdOwner ? 2100 : 0;
  return base + Math.floor(random() * (steps + 1)) * 10;
}

/** Waits of one dialog, all cut short when the dialog ends. */
export class GlareBackoff {
  readonly #timers: NamedTimers;
  readonly #delay: () => number;
  readonly #waiting = new Set<() => void>();
  #next = 0;

  /** `delay` draws one back-off in ms (see `glareDelayMs`). */
  constructor(timers: NamedTimers, delay: () => number) {
    this.#timers = timers;
    this.#delay = delay;
  }

  /** Resolves after one back-off, or as soon as `wakeAll()` is called. */
  wait(): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    const name = `glare.${this.#next++}`;
    const wake = () => {
      this.#waiting.delete(wake);
      this.#timers.stop(name);
      resolve();
    };
    this.#waiting.add(wake);
    this.#timers.start(name, this.#delay(), wake);
    return promise;
  }

  /** Ends every wait now (the dialog is over). */
  wakeAll(): void {
    for (const wake of [...this.#waiting]) wake();
  }
}
