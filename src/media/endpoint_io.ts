/**
 * How an endpoint's audio enters and leaves a media worker. A WebSocket leg's audio arrives
 * through shared-memory rings filled by the main thread ({@link RingIO}); a SIP leg's arrives on
 * an RTP socket the worker owns ({@link RtpIO}). The engine sees only this interface.
 */
import { PcmRing } from "./pcm_ring.ts";
import type { RtpSession } from "./rtp_session.ts";

/** One endpoint's transport as the 20 ms loop uses it: one frame in, one frame out per tick. */
export interface EndpointIO {
  /** Fills `out` (a 20 ms frame at the endpoint's rate) and returns true, or false when none. */
  read(out: Int16Array): boolean;
  /** Sends one 20 ms frame at the endpoint's rate. */
  write(frame: Int16Array): void;
  /** Releases sockets; resolves when they are closed. */
  close?(): Promise<void>;
}

/**
 * Ticks over which the minimum ingress fill is watched for clock drift (0.5 s). One frame may be
 * dropped per window, so up to 4 % of clock difference is absorbed — consumer-grade sound cards
 * drift well under 1 %, a sender pacing with a drifting timer a few percent.
 */
const DRIFT_WINDOW_TICKS = 25;
/** A minimum fill of this many frames over a whole window means the sender runs fast. */
const DRIFT_EXCESS_FRAMES = 3;

/** Audio through a pair of SharedArrayBuffer rings (the main thread owns the socket). */
export class RingIO implements EndpointIO {
  readonly ingress: PcmRing;
  readonly egress: PcmRing;
  readonly #frameBytes: number;
  #minFill = Number.MAX_SAFE_INTEGER;
  #windowTicks = 0;
  /** Frames discarded to correct a fast sender's clock. */
  driftSkips = 0;

  constructor(ingress: SharedArrayBuffer, egress: SharedArrayBuffer, frameBytes: number) {
    this.ingress = new PcmRing(ingress);
    this.egress = new PcmRing(egress);
    this.#frameBytes = frameBytes;
  }

  /**
   * Takes one 20 ms frame from the ingress ring. Also corrects slow clock drift of a fast sender
   * by dropping a frame when the ring never drained below a few frames for a whole window —
   * bursty senders, whose fill regularly reaches zero, are left alone. Latency is bounded by the
   * ring (1 s).
   */
  read(out: Int16Array): boolean {
    const n = this.#frameBytes;
    const avail = this.ingress.available();
    if (avail < this.#minFill) this.#minFill = avail;
    if (++this.#windowTicks >= DRIFT_WINDOW_TICKS) {
      if (this.#minFill >= n * DRIFT_EXCESS_FRAMES) {
        this.ingress.skip(n);
        this.driftSkips++;
      }
      this.#minFill = Number.MAX_SAFE_INTEGER;
      this.#windowTicks = 0;
    }
    return this.ingress.read(this.#bytesOf(out), n);
  }

  write(frame: Int16Array): void {
    this.egress.write(this.#bytesOf(frame));
  }

  // The engine always passes the same two frame buffers, so their byte views are made once and
  // reused: no allocation per tick.
  #views: [Int16Array, Uint8Array][] = [];

  #bytesOf(frame: Int16Array): Uint8Array {
    for (const [f, v] of this.#views) if (f === frame) return v;
    const v = new Uint8Array(frame.buffer, frame.byteOffset, this.#frameBytes);
    if (this.#views.length < 4) this.#views.push([frame, v]);
    return v;
  }
}

/** Audio through an RTP session whose sockets live in this worker. */
export class RtpIO implements EndpointIO {
  readonly session: RtpSession;
  #timedOut = false;

  constructor(session: RtpSession) {
    this.session = session;
  }

  read(out: Int16Array): boolean {
    return this.session.pullFrame(out);
  }

  write(frame: Int16Array): void {
    this.session.sendFrame(frame);
  }

  /** True once, the first time no RTP arrived for `limitMs` (paused while on hold). */
  checkTimeout(now: number, limitMs: number): boolean {
    if (this.#timedOut || now - this.session.lastPacketAt < limitMs) return false;
    this.#timedOut = true;
    return true;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/**
 * Frames kept queued toward a relayed leg before the oldest are dropped: the other worker's tick
 * and this one's run on the same clock, so more than this means this worker fell behind.
 */
const RELAY_MAX_QUEUED_FRAMES = 3;

/**
 * The owning worker's side of a leg whose socket lives here while its room is mixed on another
 * worker (Deno cannot move a socket between workers). Each tick copies the leg's frame into the
 * `toRoom` ring and the room's frame for the leg out of `fromRoom`; the other worker sees the same
 * two rings as a {@link RingIO} endpoint. One copy each way, no message per frame.
 */
export class RelayRings {
  readonly toRoom: PcmRing;
  readonly fromRoom: PcmRing;
  readonly #frameBytes: number;
  readonly #inBytes: Uint8Array;
  readonly #outBytes: Uint8Array;

  constructor(
    ingress: SharedArrayBuffer,
    egress: SharedArrayBuffer,
    legIn: Int16Array,
    legOut: Int16Array,
  ) {
    this.toRoom = new PcmRing(ingress);
    this.fromRoom = new PcmRing(egress);
    this.#frameBytes = legIn.byteLength;
    this.#inBytes = new Uint8Array(legIn.buffer, legIn.byteOffset, legIn.byteLength);
    this.#outBytes = new Uint8Array(legOut.buffer, legOut.byteOffset, legOut.byteLength);
  }

  /** Queues the frame the leg sent (`legIn`) for the mixing worker. */
  forward(): void {
    this.toRoom.write(this.#inBytes);
  }

  /** Fills `legOut` with the mixing worker's next frame for the leg; false (silence) when none. */
  receive(legOut: Int16Array): boolean {
    const n = this.#frameBytes;
    while (this.fromRoom.available() > n * RELAY_MAX_QUEUED_FRAMES) this.fromRoom.skip(n);
    if (this.fromRoom.read(this.#outBytes, n)) return true;
    legOut.fill(0);
    return false;
  }
}
