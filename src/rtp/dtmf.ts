/**
 * DTMF as RFC 4733 telephone-events: payload codec, a per-tick sender and a
 * receiver that reports each digit once.
 *
 * Sender (compat-notes §1 "DTMF": PT 101, 4 packets plus 3 end packets per digit,
 * volume 10): every packet of one event carries the same RTP timestamp, the event
 * start (RFC 4733 §2.5.1.1); the first has the marker bit; each reports the
 * duration so far (§2.5.1.2); the end is sent three times (§2.5.1.4). With the
 * default 100 ms event, 20 ms packets at 8 kHz give durations 160, 320, 480, 640,
 * then 800 three times with the E bit. (Upstream Go sends 160…640 and then 640
 * three times: an 80 ms event whose last update already reports the full
 * duration. Both are 4 + 3 packets per digit, one per 20 ms tick.)
 *
 * @module
 */

import { RtpPacket } from "./packet.ts";
import { tsDiff } from "./sequence.ts";

/** The payload type compat-notes §1 uses for telephone-event (RFC 4733 §7.1 is dynamic). */
export const TELEPHONE_EVENT_PT = 101;

/** RFC 4733 §3.2: event codes 0–9, 10 = *, 11 = #, 12–15 = A–D. */
const DIGITS = "0123456789*#ABCD";

/** One telephone-event payload (RFC 4733 §2.3). */
export interface TelephoneEvent {
  /** Event code (§3.2 for DTMF). */
  event: number;
  /** E bit: this packet reports the end of the event. */
  end: boolean;
  /** Power level, 0 to −63 dBm0 expressed as 0–63 (§2.3.4). */
  volume: number;
  /** Duration so far, in RTP timestamp units (§2.3.5). */
  duration: number;
}

/*
 * RFC 4733 §2.3 payload format:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     event     |E|R| volume    |          duration             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

/** Writes the 4-octet payload (RFC 4733 §2.3) at `offset`; returns 4. */
export function encodeTelephoneEvent(ev: TelephoneEvent, out: Uint8Array, offset = 0): number {
  out[offset] = ev.event & 0xff;
  out[offset + 1] = (ev.end ? 0x80 : 0) | (ev.volume & 0x3f);
  out[offset + 2] = (ev.duration >> 8) & 0xff;
  out[offset + 3] = ev.duration & 0xff;
  return 4;
}

/** Reads a telephone-event payload (RFC 4733 §2.3); false if shorter than 4 octets. */
export function decodeTelephoneEvent(payload: Uint8Array, into: TelephoneEvent): boolean {
  if (payload.length < 4) return false;
  into.event = payload[0];
  into.end = (payload[1] & 0x80) !== 0;
  into.volume = payload[1] & 0x3f;
  into.duration = (payload[2] << 8) | payload[3];
  return true;
}

/** RFC 4733 §3.2 event code of a DTMF digit (0-9 * # A-D, a-d accepted), or -1. */
export function dtmfEventCode(digit: string): number {
  return digit.length === 1 ? DIGITS.indexOf(digit.toUpperCase()) : -1;
}

/** The DTMF digit of an RFC 4733 §3.2 event code, or "" for other events. */
export function dtmfDigit(event: number): string {
  return event >= 0 && event < 16 ? DIGITS[event] : "";
}

/** Options of {@link DtmfSender}. */
export interface DtmfSenderOptions {
  /** Event duration, ms (default 100). */
  durationMs?: number;
  /** Volume field, 0–63 (default 10, i.e. −10 dBm0). */
  volume?: number;
  /** Telephone-event clock rate (default 8000; 16000 with AMR-WB). */
  clockRate?: number;
  /** Packet interval, ms (default 20: one packet per media tick). */
  packetMs?: number;
  /** Times the end packet is sent (default 3, RFC 4733 §2.5.1.4). */
  endPackets?: number;
  /** Payload type (default 101). */
  payloadType?: number;
}

/**
 * Turns queued digits into telephone-event packets, one per media tick. The
 * caller owns the RTP stream: it calls {@link next} each tick with the timestamp
 * the tick's audio packet would carry and, when it answers true, sends `pkt`
 * (with its own SSRC and next sequence number) instead of audio.
 */
export class DtmfSender {
  readonly #durationUnits: number;
  readonly #packetUnits: number;
  readonly #progressPackets: number;
  readonly #endPackets: number;
  readonly #volume: number;
  readonly #pt: number;
  readonly #payload = new Uint8Array(4);
  readonly #ev: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 };
  #queue = "";
  #index = 0; // packet index within the current event, -1 when idle
  #eventTs = 0;

  constructor(options: DtmfSenderOptions = {}) {
    const clockRate = options.clockRate ?? 8000;
    this.#packetUnits = Math.round((clockRate * (options.packetMs ?? 20)) / 1000);
    this.#durationUnits = Math.min(
      0xffff,
      Math.max(this.#packetUnits, Math.round((clockRate * (options.durationMs ?? 100)) / 1000)),
    );
    this.#progressPackets = Math.max(1, Math.ceil(this.#durationUnits / this.#packetUnits) - 1);
    this.#endPackets = Math.max(1, options.endPackets ?? 3);
    this.#volume = options.volume ?? 10;
    this.#pt = options.payloadType ?? TELEPHONE_EVENT_PT;
    this.#index = -1;
  }

  /**
   * Queues digits (0-9 * # A-D). Throws RangeError, queueing nothing, when a
   * character is not a DTMF digit.
   */
  enqueue(digits: string): void {
    for (const d of digits) {
      if (dtmfEventCode(d) < 0) throw new RangeError(`Cannot send DTMF: invalid digit "${d}"`);
    }
    this.#queue += digits.toUpperCase();
  }

  /** True while a digit is being sent or queued. */
  get busy(): boolean {
    return this.#index >= 0 || this.#queue.length > 0;
  }

  /** Drops the queue; a digit in progress is ended (its end packets still go out). */
  cancel(): void {
    this.#queue = "";
    if (this.#index >= 0 && this.#index < this.#progressPackets) {
      this.#index = this.#progressPackets;
    }
  }

  /**
   * Fills `pkt` (payload type, marker, timestamp, payload) with this tick's DTMF
   * packet and returns true, or returns false when no digit is being sent. The
   * payload view stays valid until the next call.
   */
  next(pkt: RtpPacket, timestamp: number): boolean {
    if (this.#index < 0) {
      if (this.#queue.length === 0) return false;
      this.#ev.event = dtmfEventCode(this.#queue[0]);
      this.#queue = this.#queue.slice(1);
      this.#index = 0;
      this.#eventTs = timestamp >>> 0;
    }
    const i = this.#index;
    const end = i >= this.#progressPackets;
    this.#ev.end = end;
    this.#ev.volume = this.#volume;
    this.#ev.duration = end ? this.#durationUnits : (i + 1) * this.#packetUnits;
    encodeTelephoneEvent(this.#ev, this.#payload);
    pkt.payloadType = this.#pt;
    pkt.marker = i === 0;
    pkt.timestamp = this.#eventTs;
    pkt.payload = this.#payload;
    pkt.paddingSize = 0;
    this.#index = i + 1 >= this.#progressPackets + this.#endPackets ? -1 : i + 1;
    return true;
  }
}

/**
 * The whole packet sequence for `digits`, one packet per `packetMs` tick, with
 * consecutive sequence numbers from `sequenceNumber` and the media timestamp
 * advancing one packet interval per tick from `timestamp`. Allocates; for tests
 * and tools, not the 20 ms loop.
 */
export function dtmfPackets(
  digits: string,
  stream: { ssrc: number; sequenceNumber: number; timestamp: number },
  options: DtmfSenderOptions = {},
): RtpPacket[] {
  const sender = new DtmfSender(options);
  sender.enqueue(digits);
  const step = Math.round(((options.clockRate ?? 8000) * (options.packetMs ?? 20)) / 1000);
  const out: RtpPacket[] = [];
  let seq = stream.sequenceNumber;
  let ts = stream.timestamp;
  for (;;) {
    const pkt = new RtpPacket();
    if (!sender.next(pkt, ts)) break;
    pkt.payload = pkt.payload.slice();
    pkt.ssrc = stream.ssrc;
    pkt.sequenceNumber = seq;
    seq = (seq + 1) & 0xffff;
    ts = (ts + step) >>> 0;
    out.push(pkt);
  }
  return out;
}

/**
 * Reports each received DTMF digit once (RFC 4733 §2.5.2): a digit is reported
 * on the first packet of its event that arrives, whichever it is, so a lost start
 * packet or lost end packets cost no digit and the end retransmissions are not
 * reported again. Events are told apart by RTP timestamp (§2.5.1.1); a packet of
 * an event older than the last one reported is ignored, as is the continuation
 * segment of an event longer than 0xFFFF units (§2.5.1.3). Non-DTMF events
 * (code > 15) are ignored.
 */
export class DtmfReceiver {
  readonly #ev: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 };
  #have = false;
  #lastTs = 0;
  #lastEvent = -1;
  #lastEnded = false;

  /** Forgets the last event (new SSRC or re-INVITE). */
  reset(): void {
    this.#have = false;
    this.#lastEvent = -1;
  }

  /**
   * Offers one telephone-event packet; returns the event code (0–15) when it
   * starts a new digit, otherwise -1. Use {@link dtmfDigit} for the character.
   */
  receive(pkt: RtpPacket): number {
    const ev = this.#ev;
    if (!decodeTelephoneEvent(pkt.payload, ev) || ev.event > 15) return -1;
    const ts = pkt.timestamp >>> 0;
    if (this.#have) {
      const d = tsDiff(this.#lastTs, ts);
      if (d === 0 && ev.event === this.#lastEvent) {
        if (ev.end) this.#lastEnded = true;
        return -1; // the same event: a later update or an end retransmission
      }
      if (d < 0 && d > -0x40000000) return -1; // straggler from an earlier event
      const continuation = !this.#lastEnded && !pkt.marker && ev.event === this.#lastEvent &&
        d >= 0xffff - 0x800 && d <= 0xffff + 0x800;
      this.#lastTs = ts;
      this.#lastEnded = ev.end;
      if (continuation) return -1;
    }
    this.#have = true;
    this.#lastTs = ts;
    this.#lastEvent = ev.event;
    this.#lastEnded = ev.end;
    return ev.event;
  }
}
