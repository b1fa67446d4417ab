/**
 * The UAS core's 2xx retransmission (RFC 3261 §13.3.1.4, kept in the TU by RFC 6026): the 2xx to
 * an INVITE is re-sent at T1, 2·T1, 4·T1 … capped at T2 until the ACK arrives; after 64·T1
 * without one the caller is told so it can end the session with a BYE.
 */
import type { SipTimers } from "../transaction/mod.ts";
import type { NamedTimers } from "./_timers.ts";

/** Re-sends one 2xx until `acked()` or until 64·T1 has passed. */
export class TwoXxRetransmitter {
  readonly #timers: NamedTimers;
  readonly #sip: SipTimers;
  readonly #name: string;
  readonly #resend: () => void;
  readonly #giveUp: () => void;
  #interval = 0;
  #active = false;

  /**
   * `name` prefixes the timer names in `timers` (one retransmitter per INVITE CSeq); `resend`
   * sends the 2xx again; `giveUp` runs once when 64·T1 passes without an ACK.
   */
  constructor(
    timers: NamedTimers,
    sip: SipTimers,
    name: string,
    resend: () => void,
    giveUp: () => void,
  ) {
    this.#timers = timers;
    this.#sip = sip;
    this.#name = name;
    this.#resend = resend;
    this.#giveUp = giveUp;
  }

  /** Whether the 2xx is still waiting for its ACK. */
  get active(): boolean {
    return this.#active;
  }

  /** Starts after the first 2xx has been sent. */
  start(): void {
    this.#active = true;
    this.#interval = this.#sip.t1;
    this.#timers.start(`${this.#name}.retransmit`, this.#interval, () => this.#tick());
    this.#timers.start(`${this.#name}.giveup`, 64 * this.#sip.t1, () => {
      this.stop();
      this.#giveUp();
    });
  }

  /** The ACK arrived: stop re-sending. */
  acked(): void {
    this.stop();
  }

  /** Stops both timers. */
  stop(): void {
    this.#active = false;
    this.#timers.stop(`${this.#name}.retransmit`);
    this.#timers.stop(`${this.#name}.giveup`);
  }

  #tick(): void {
    if (!this.#active) return;
    this.#resend();
    this.#interval = Math.min(2 * this.#interval, this.#sip.t2);
    this.#timers.start(`${this.#name}.retransmit`, this.#interval, () => this.#tick());
  }
}
