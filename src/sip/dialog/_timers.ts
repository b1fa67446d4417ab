/**
 * Named one-shot timers over an injectable `Clock`, for the timers the UA core owns (RFC 3261
 * §13.3.1.4 2xx retransmission, §14.1 glare back-off, RFC 4028 refresh and expiry), so tests can
 * drive them by hand and `close()` can clear every one.
 */
import type { Clock, TimerHandle } from "../transaction/mod.ts";

/** A set of named timers; starting a running name restarts it. */
export class NamedTimers {
  readonly #clock: Clock;
  readonly #running = new Map<string, TimerHandle>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Starts (or restarts) `name` to call `fire` after `ms` (never synchronously). */
  start(name: string, ms: number, fire: () => void): void {
    this.stop(name);
    const handle = this.#clock.setTimeout(() => {
      this.#running.delete(name);
      fire();
    }, Math.max(0, ms));
    this.#running.set(name, handle);
  }

  /** Stops `name` if running. */
  stop(name: string): void {
    const handle = this.#running.get(name);
    if (handle === undefined) return;
    this.#clock.clearTimeout(handle);
    this.#running.delete(name);
  }

  /** Whether `name` is running. */
  isRunning(name: string): boolean {
    return this.#running.has(name);
  }

  /** Names of running timers (tests assert none is left). */
  running(): string[] {
    return [...this.#running.keys()];
  }

  /** Stops every timer. */
  stopAll(): void {
    for (const handle of this.#running.values()) this.#clock.clearTimeout(handle);
    this.#running.clear();
  }
}
