/**
 * A media endpoint inside a worker: one leg (or room WebSocket slot) with its transport
 * ({@link EndpointIO}: shared-memory rings or an RTP session) and the resamplers between its
 * transport rate and its room's rate. All buffers are preallocated; the per-tick methods
 * allocate nothing.
 */
import type { EndpointIO } from "./endpoint_io.ts";
import type { LegRate } from "./protocol.ts";
import { Resampler } from "./resampler.ts";

/** One leg's media state in a worker. */
export class Endpoint {
  readonly id: string;
  /** Transport sample rate (a WebSocket leg's `sample_rate`, a codec's audio rate). */
  readonly rate: LegRate;
  readonly io: EndpointIO;
  readonly speech: boolean;
  /** The frame most recently pulled, at the transport rate. */
  readonly legIn: Int16Array;
  /** The frame to send, at the transport rate. */
  readonly legOut: Int16Array;
  #roomRate = 0;
  #up: Resampler | undefined;
  #down: Resampler | undefined;

  constructor(id: string, rate: LegRate, io: EndpointIO, speech: boolean) {
    this.id = id;
    this.rate = rate;
    this.io = io;
    this.speech = speech;
    this.legIn = new Int16Array(rate / 50);
    this.legOut = new Int16Array(rate / 50);
  }

  /** Prepares resamplers for a room at `roomRate` (no-op when the rate is unchanged). */
  setRoomRate(roomRate: number): void {
    if (roomRate === this.#roomRate) return;
    this.#roomRate = roomRate;
    this.#up = roomRate === this.rate ? undefined : new Resampler(this.rate, roomRate);
    this.#down = roomRate === this.rate ? undefined : new Resampler(roomRate, this.rate);
  }

  /** Takes one 20 ms frame from the transport into `legIn`; false when none is ready. */
  pull(): boolean {
    return this.io.read(this.legIn);
  }

  /** Converts `legIn` to the room rate into `roomFrame`. */
  toRoom(roomFrame: Int16Array): void {
    if (this.#up) this.#up.process(this.legIn, this.legIn.length, roomFrame);
    else roomFrame.set(this.legIn);
  }

  /** Converts a room-rate frame to the transport rate and sends it. */
  sendFromRoom(roomFrame: Int16Array): void {
    if (this.#down) this.#down.process(roomFrame, roomFrame.length, this.legOut);
    else this.legOut.set(roomFrame);
    this.io.write(this.legOut);
  }

  /** Sends `legOut` as it is (already at the transport rate). */
  sendLegOut(): void {
    this.io.write(this.legOut);
  }

  /** Sends a silent frame (a leg outside any room still gets one frame per tick). */
  sendSilence(): void {
    this.legOut.fill(0);
    this.io.write(this.legOut);
  }
}
