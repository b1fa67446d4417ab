/**
 * A media endpoint inside a worker: one leg (or room WebSocket slot) with its ingress and egress
 * rings, the playout policy for its incoming audio, and the resamplers between its transport
 * rate and its room's rate. All buffers are preallocated; `pull()`/`push()` allocate nothing.
 */
import { PcmRing } from "./pcm_ring.ts";
import { frameBytes, type LegRate } from "./protocol.ts";
import { Resampler } from "./resampler.ts";

/**
 * Ticks over which the minimum ingress fill is watched for clock drift (0.5 s). One frame may be
 * dropped per window, so up to 4 % of clock difference is absorbed — consumer-grade sound cards
 * drift well under 1 %, a sender pacing with a drifting timer a few percent.
 */
const DRIFT_WINDOW_TICKS = 25;
/** A minimum fill of this many frames over a whole window means the sender runs fast. */
const DRIFT_EXCESS_FRAMES = 3;

/** One leg's media state in a worker. */
export class Endpoint {
  readonly id: string;
  readonly rate: LegRate;
  readonly frameBytes: number;
  readonly ingress: PcmRing;
  readonly egress: PcmRing;
  readonly speech: boolean;
  /** The frame most recently pulled, at the transport rate. */
  readonly legIn: Int16Array;
  readonly #legInBytes: Uint8Array;
  /** The frame to send, at the transport rate. */
  readonly legOut: Int16Array;
  readonly #legOutBytes: Uint8Array;
  #roomRate = 0;
  #up: Resampler | undefined;
  #down: Resampler | undefined;
  #minFill = Number.MAX_SAFE_INTEGER;
  #windowTicks = 0;
  /** Frames discarded to correct a fast sender's clock. */
  driftSkips = 0;

  constructor(
    id: string,
    rate: LegRate,
    ingress: SharedArrayBuffer,
    egress: SharedArrayBuffer,
    speech: boolean,
  ) {
    this.id = id;
    this.rate = rate;
    this.frameBytes = frameBytes(rate);
    this.ingress = new PcmRing(ingress);
    this.egress = new PcmRing(egress);
    this.speech = speech;
    this.#legInBytes = new Uint8Array(this.frameBytes);
    this.legIn = new Int16Array(this.#legInBytes.buffer);
    this.#legOutBytes = new Uint8Array(this.frameBytes);
    this.legOut = new Int16Array(this.#legOutBytes.buffer);
  }

  /** Prepares resamplers for a room at `roomRate` (no-op when the rate is unchanged). */
  setRoomRate(roomRate: number): void {
    if (roomRate === this.#roomRate) return;
    this.#roomRate = roomRate;
    this.#up = roomRate === this.rate ? undefined : new Resampler(this.rate, roomRate);
    this.#down = roomRate === this.rate ? undefined : new Resampler(roomRate, this.rate);
  }

  /**
   * Takes one 20 ms frame from the ingress ring into `legIn`. Returns false when none is ready
   * (the sender is late or silent). Also corrects slow clock drift of a fast sender by dropping a
   * frame when the ring never drained below a few frames for a whole window — bursty senders,
   * whose fill regularly reaches zero, are left alone. Latency is bounded by the ring (1 s).
   */
  pull(): boolean {
    const n = this.frameBytes;
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
    return this.ingress.read(this.#legInBytes, n);
  }

  /** Converts `legIn` to the room rate into `roomFrame`. */
  toRoom(roomFrame: Int16Array): void {
    if (this.#up) this.#up.process(this.legIn, this.legIn.length, roomFrame);
    else roomFrame.set(this.legIn);
  }

  /** Converts a room-rate frame to the transport rate and queues it for sending. */
  sendFromRoom(roomFrame: Int16Array): void {
    if (this.#down) this.#down.process(roomFrame, roomFrame.length, this.legOut);
    else this.legOut.set(roomFrame);
    this.egress.write(this.#legOutBytes);
  }

  /** Queues `legOut` as it is (already at the transport rate). */
  sendLegOut(): void {
    this.egress.write(this.#legOutBytes);
  }

  /** Queues a silent frame (a leg outside any room still gets one frame per tick). */
  sendSilence(): void {
    this.legOut.fill(0);
    this.egress.write(this.#legOutBytes);
  }
}
