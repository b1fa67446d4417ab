/**
 * Symmetric RTP source latching (RFC 4961 §3: send to the address the peer sends from).
 *
 * The peer's real address is often not the one its SDP announced (NAT, a media relay), so the
 * first valid RTP packet of an expected payload type fixes ("latches") the remote address.
 * From then on packets from any other address are dropped, so a third party cannot inject audio
 * or steal the outgoing stream by spraying packets. A re-latch to a new address is accepted only
 * after the latched source has been quiet for `quietMs` (a NAT rebinding or a media server that
 * moved): the legitimate peer, still talking, can never be displaced.
 *
 * @module
 */

/** {@link SourceLatch.check}: the packet comes from the latched source. */
export const LATCH_ACCEPT = 0;
/** {@link SourceLatch.check}: the packet latched the first remote address. */
export const LATCH_FIRST = 1;
/** {@link SourceLatch.check}: the packet moved the latch after the quiet period. */
export const LATCH_MOVED = 2;
/** {@link SourceLatch.check}: the packet comes from another address; drop it. */
export const LATCH_REJECT = -1;

/** What {@link SourceLatch.check} answers. */
export type LatchResult =
  | typeof LATCH_ACCEPT
  | typeof LATCH_FIRST
  | typeof LATCH_MOVED
  | typeof LATCH_REJECT;

/** The latched remote address of one media stream. */
export class SourceLatch {
  /** Latched host as the socket reports it ("" before latching). */
  host = "";
  /** Latched port (0 before latching). */
  port = 0;
  /** Times the latch moved to a new address. */
  moves = 0;
  readonly #symmetric: boolean;
  readonly #quietMs: number;
  #latched = false;
  #lastAcceptAt = 0;
  #retiredHost = "";
  #retiredPort = 0;
  #retiredUntil = 0;

  /** `symmetric` false accepts every source and never latches (send to the SDP address). */
  constructor(options: { symmetric: boolean; quietMs: number }) {
    this.#symmetric = options.symmetric;
    this.#quietMs = options.quietMs;
  }

  /** Whether a remote address is latched. */
  get latched(): boolean {
    return this.#latched;
  }

  /**
   * Forgets the latch (re-INVITE with a new address): the next valid packet latches again —
   * except one from the address just forgotten during the next `quietMs`, so stragglers of the
   * old stream cannot win the race against the new one (and a source that did not really move
   * is back after at most `quietMs`).
   */
  reset(nowMs: number): void {
    if (this.#latched) {
      this.#retiredHost = this.host;
      this.#retiredPort = this.port;
      this.#retiredUntil = nowMs + this.#quietMs;
    }
    this.#latched = false;
    this.host = "";
    this.port = 0;
  }

  /** Decides about a valid packet from `host:port` arriving at `nowMs`. Allocates nothing. */
  check(host: string, port: number, nowMs: number): LatchResult {
    if (!this.#symmetric) return LATCH_ACCEPT;
    if (this.#latched && port === this.port && host === this.host) {
      this.#lastAcceptAt = nowMs;
      return LATCH_ACCEPT;
    }
    if (this.#latched && nowMs - this.#lastAcceptAt < this.#quietMs) return LATCH_REJECT;
    if (
      !this.#latched && nowMs < this.#retiredUntil && port === this.#retiredPort &&
      host === this.#retiredHost
    ) {
      return LATCH_REJECT;
    }
    const first = !this.#latched;
    this.#latched = true;
    this.host = host;
    this.port = port;
    this.#lastAcceptAt = nowMs;
    if (first) return LATCH_FIRST;
    this.moves++;
    return LATCH_MOVED;
  }
}
