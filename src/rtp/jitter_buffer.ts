/**
 * The SIP ingress jitter buffer (upstream `SIP_JITTER_BUFFER_MS` /
 * `SIP_JITTER_BUFFER_MAX_MS`): one {@link JitterBuffer.push} per received packet,
 * one {@link JitterBuffer.pop} per 20 ms tick, all storage preallocated.
 *
 * - `targetMs > 0`: packets are put back in sequence order (RFC 3550 §5.1
 *   sequence numbers, wrap-aware) and playout starts once `targetMs` of audio
 *   spans the buffer. A frame still missing when its turn comes is reported as a
 *   gap (the caller conceals it: repeat, fade or silence); a packet arriving after
 *   its turn is dropped as late. An empty buffer (a delay spike or silence
 *   suppression) reports `none` without advancing, so a late burst restores the
 *   depth by itself. A talkspurt start (marker bit, RFC 3551 §4.1, or a timestamp
 *   jump) arriving at an empty buffer re-anchors playout and re-fills to target.
 * - `targetMs === 0` (passthrough, the upstream default): frames are emitted in
 *   arrival order, at most one per tick, with no reordering and no gaps. A frame
 *   left over after every pop for a whole second (a standing queue: one late
 *   packet followed by a double, or a sender clock slightly fast) is discarded, so
 *   the added delay returns to under one frame instead of growing toward `maxMs`.
 *
 * In both modes at most `maxMs` of audio is held; beyond it the oldest frames are
 * dropped. A new SSRC resets the buffer. One packet is assumed to carry one
 * `frameMs` frame.
 *
 * @module
 */

import { extendSeq, tsDiff } from "./sequence.ts";
import type { RtpPacket } from "./packet.ts";

/** {@link JitterBuffer.pop} result: nothing to play this tick (warming, underrun, empty). */
export const JB_NONE = 0;
/** {@link JitterBuffer.pop} result: {@link JitterBuffer.frame} holds the next frame. */
export const JB_FRAME = 1;
/** {@link JitterBuffer.pop} result: the next frame is missing; conceal one frame. */
export const JB_GAP = 2;
/** What {@link JitterBuffer.pop} returns. */
export type JitterPopResult = typeof JB_NONE | typeof JB_FRAME | typeof JB_GAP;

/** Options of {@link JitterBuffer}. */
export interface JitterBufferOptions {
  /** Playout delay to build before playing, ms; 0 = passthrough. */
  targetMs: number;
  /** Most audio held, ms (≥ one frame); older frames beyond it are dropped. */
  maxMs: number;
  /** Audio per packet, ms (default 20). */
  frameMs?: number;
  /** RTP timestamp units per frame, for timestamp-jump detection (default 160). */
  timestampsPerFrame?: number;
  /** Largest payload accepted, octets (default 1500); preallocated per slot. */
  maxPayloadBytes?: number;
}

/**
 * One preallocated slot. The frame {@link JitterBuffer.frame} points at after a
 * pop is valid until the next push or pop.
 */
export class JitterFrame {
  /** RTP sequence number of the packet. */
  seq = 0;
  /** RTP timestamp of the packet. */
  timestamp = 0;
  /** Marker bit of the packet (talkspurt start for audio). */
  marker = false;
  /** Payload type of the packet. */
  payloadType = 0;
  /** Payload octets: a view into {@link storage}, reused while the size repeats. */
  payload: Uint8Array;
  /** The slot's preallocated payload storage. */
  readonly storage: Uint8Array;
  /** Extended sequence number while buffered (ordered mode). */
  ext = 0;
  /** Whether the slot holds a frame. */
  used = false;

  /** Allocates a slot for payloads up to `capacity` octets. */
  constructor(capacity: number) {
    this.storage = new Uint8Array(capacity);
    this.payload = this.storage.subarray(0, 0);
  }

  /** Copies the packet's payload and header fields into the slot. */
  copyFrom(pkt: RtpPacket): void {
    const n = pkt.payload.length;
    this.storage.set(pkt.payload);
    if (this.payload.length !== n) this.payload = this.storage.subarray(0, n);
    this.seq = pkt.sequenceNumber;
    this.timestamp = pkt.timestamp;
    this.marker = pkt.marker;
    this.payloadType = pkt.payloadType;
  }
}

/** Counters for metrics and tests. */
export interface JitterBufferStats {
  pushed: number;
  played: number;
  gaps: number;
  underruns: number;
  late: number;
  duplicates: number;
  overflowDropped: number;
  oversize: number;
  resets: number;
  /** Passthrough: standing-queue frames discarded to keep the delay under one frame. */
  drained: number;
}

/** Passthrough: ticks over which the queue left after each pop is watched (1 s). */
const DRAIN_WINDOW_TICKS = 50;

/** Reorders RTP packets into a steady one-frame-per-tick stream (see module doc). */
export class JitterBuffer {
  /** Frames to build before playing (0 = passthrough). */
  readonly targetFrames: number;
  /** Most frames held. */
  readonly maxFrames: number;
  /** Counters since construction. */
  readonly stats: JitterBufferStats = {
    pushed: 0,
    played: 0,
    gaps: 0,
    underruns: 0,
    late: 0,
    duplicates: 0,
    overflowDropped: 0,
    oversize: 0,
    resets: 0,
    drained: 0,
  };
  /** The frame returned by the last {@link pop} that answered {@link JB_FRAME}. */
  frame: JitterFrame;

  readonly #slots: JitterFrame[];
  readonly #mask: number;
  readonly #tsPerFrame: number;
  readonly #maxPayload: number;
  #ssrc = 0;
  #started = false;
  #playing = false;
  #cursor = 0; // adaptive: next extended seq to play; passthrough: FIFO head index
  #highest = 0; // adaptive: highest extended seq buffered or played
  #count = 0;
  #lastTick = Number.NaN;
  #lastExt = 0; // adaptive: ext seq and timestamp of the latest packet pushed
  #lastTs = 0;
  #minLeft = Number.MAX_SAFE_INTEGER; // passthrough: fewest frames left after a pop this window
  #windowTicks = 0;

  constructor(options: JitterBufferOptions) {
    const frameMs = options.frameMs ?? 20;
    if (!(frameMs > 0)) throw new RangeError("frameMs must be positive");
    this.targetFrames = options.targetMs > 0
      ? Math.max(1, Math.ceil(options.targetMs / frameMs))
      : 0;
    this.maxFrames = Math.max(1, this.targetFrames, Math.floor(options.maxMs / frameMs));
    this.#tsPerFrame = options.timestampsPerFrame ?? 160;
    this.#maxPayload = options.maxPayloadBytes ?? 1500;
    let n = 2;
    while (n < this.maxFrames + 1) n *= 2;
    this.#mask = n - 1;
    this.#slots = Array.from({ length: n }, () => new JitterFrame(this.#maxPayload));
    this.frame = this.#slots[0];
  }

  /** Frames currently held. */
  get depth(): number {
    return this.#count;
  }

  /** True in passthrough mode (`targetMs` 0). */
  get passthrough(): boolean {
    return this.targetFrames === 0;
  }

  /** Drops everything and waits for a new stream (SSRC change, re-INVITE). */
  reset(): void {
    for (const s of this.#slots) s.used = false;
    this.#started = false;
    this.#playing = false;
    this.#count = 0;
    this.#cursor = 0;
  }

  /**
   * Offers one received packet; its payload is copied. Returns false when the
   * packet was dropped: late, duplicate or larger than `maxPayloadBytes`.
   */
  push(pkt: RtpPacket): boolean {
    if (pkt.payload.length > this.#maxPayload) {
      this.stats.oversize++;
      return false;
    }
    this.stats.pushed++;
    if (this.#started && pkt.ssrc !== this.#ssrc) {
      this.stats.resets++;
      this.reset();
    }
    if (!this.#started) {
      this.#started = true;
      this.#ssrc = pkt.ssrc;
      this.#cursor = this.targetFrames === 0 ? 0 : pkt.sequenceNumber;
      this.#highest = this.#cursor - 1;
      this.#lastExt = this.#cursor - 1;
      this.#lastTs = (pkt.timestamp - this.#tsPerFrame) >>> 0;
    }
    return this.targetFrames === 0 ? this.#pushFifo(pkt) : this.#pushOrdered(pkt);
  }

  #pushFifo(pkt: RtpPacket): boolean {
    if (this.#count === this.maxFrames) { // drop the oldest
      this.#slots[this.#cursor].used = false;
      this.#cursor = (this.#cursor + 1) & this.#mask;
      this.#count--;
      this.stats.overflowDropped++;
    }
    const slot = this.#slots[(this.#cursor + this.#count) & this.#mask];
    slot.copyFrom(pkt);
    slot.used = true;
    this.#count++;
    return true;
  }

  #pushOrdered(pkt: RtpPacket): boolean {
    const ext = extendSeq(pkt.sequenceNumber, this.#highest);
    const discontinuity = pkt.marker ||
      Math.abs(tsDiff(this.#lastTs, pkt.timestamp) - (ext - this.#lastExt) * this.#tsPerFrame) >
        2 * this.#tsPerFrame;
    if (ext > this.#lastExt) {
      this.#lastExt = ext;
      this.#lastTs = pkt.timestamp >>> 0;
    }
    if (this.#count === 0 && this.#playing && discontinuity && ext >= this.#cursor) {
      this.#anchor(ext); // talkspurt start at an idle buffer: rebuild the target delay
    }
    if (ext < this.#cursor) {
      if (!this.#playing && this.#highest - ext < this.maxFrames) {
        this.#cursor = ext; // reordered before playout started: nothing was skipped yet
      } else if (this.#cursor - ext > 0x4000 && this.#count === 0) {
        this.#anchor(ext); // a sequence restart far behind: follow it, don't drop forever
      } else {
        this.stats.late++;
        return false;
      }
    }
    if (ext - this.#cursor >= this.maxFrames) {
      // keep at most maxFrames of span: drop from the oldest end
      const newCursor = ext - this.maxFrames + 1;
      for (let e = this.#cursor; e < newCursor && this.#count > 0; e++) {
        const s = this.#slots[e & this.#mask];
        if (s.used && s.ext === e) {
          s.used = false;
          this.#count--;
          this.stats.overflowDropped++;
        }
      }
      if (this.#count === 0) this.#anchor(ext); // an outage or a jump: start afresh here
      else this.#cursor = newCursor;
    }
    const slot = this.#slots[ext & this.#mask];
    if (slot.used && slot.ext === ext) {
      this.stats.duplicates++;
      return false;
    }
    slot.copyFrom(pkt);
    slot.ext = ext;
    slot.used = true;
    this.#count++;
    if (ext > this.#highest) this.#highest = ext;
    if (!this.#playing && this.#highest - this.#cursor + 1 >= this.targetFrames) {
      this.#playing = true;
    }
    return true;
  }

  /**
   * Passthrough: after each tick's pop, notes how many frames are left; when frames were left
   * after every pop of a whole window, the oldest one is discarded (it only adds delay).
   */
  #watchQueue(): void {
    if (this.#count < this.#minLeft) this.#minLeft = this.#count;
    if (++this.#windowTicks < DRAIN_WINDOW_TICKS) return;
    if (this.#minLeft >= 1 && this.#count > 0) {
      this.#slots[this.#cursor].used = false;
      this.#cursor = (this.#cursor + 1) & this.#mask;
      this.#count--;
      this.stats.drained++;
    }
    this.#minLeft = Number.MAX_SAFE_INTEGER;
    this.#windowTicks = 0;
  }

  /** Restarts playout at extended sequence number `ext`, re-filling to target first. */
  #anchor(ext: number): void {
    this.#cursor = ext;
    this.#highest = ext - 1;
    this.#playing = false;
  }

  /**
   * Takes the frame due at media tick `tick`: {@link JB_FRAME} (see {@link frame}),
   * {@link JB_GAP} (conceal one frame) or {@link JB_NONE}. A second call with the
   * same `tick` answers {@link JB_NONE}: at most one frame leaves per tick.
   */
  pop(tick: number): JitterPopResult {
    if (tick === this.#lastTick) return JB_NONE;
    this.#lastTick = tick;
    if (this.#count === 0) {
      if (this.#playing) this.stats.underruns++;
      if (this.targetFrames === 0) this.#watchQueue();
      return JB_NONE;
    }
    if (this.targetFrames === 0) {
      const slot = this.#slots[this.#cursor];
      slot.used = false;
      this.#cursor = (this.#cursor + 1) & this.#mask;
      this.#count--;
      this.frame = slot;
      this.stats.played++;
      this.#watchQueue();
      return JB_FRAME;
    }
    if (!this.#playing) return JB_NONE;
    const slot = this.#slots[this.#cursor & this.#mask];
    const e = this.#cursor;
    this.#cursor++;
    if (slot.used && slot.ext === e) {
      slot.used = false;
      this.#count--;
      this.frame = slot;
      this.stats.played++;
      return JB_FRAME;
    }
    this.stats.gaps++;
    return JB_GAP;
  }
}
