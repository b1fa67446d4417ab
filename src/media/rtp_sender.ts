/**
 * The send half of an RTP session: one packet per 20 ms tick, encoded into a preallocated
 * buffer and sent without awaiting. RFC 4733 telephone-events replace the audio packet of the
 * ticks they occupy (same SSRC and sequence space, their own timestamp per event).
 *
 * RFC 3550 §5.1: SSRC, initial sequence number and initial timestamp are random. The timestamp
 * advances every tick whether or not a packet leaves (hold, no remote yet, DTMF), so the peer
 * sees real elapsed time; RFC 3551 §4.1: the first packet after such a pause carries the marker.
 *
 * @module
 */
import type { AudioCodec } from "../codecs/codec.ts";
import { DtmfSender } from "../rtp/dtmf.ts";
import { marshalRtpTo, RTP_HEADER_SIZE, RtpPacket } from "../rtp/packet.ts";
import type { UdpSender } from "./rtp_udp.ts";

/** A random 32-bit unsigned integer (RFC 3550 §5.1, §8.1: SSRC, initial seq and timestamp). */
export function random32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** Options of {@link RtpSender}. */
export interface RtpSenderOptions {
  readonly codec: AudioCodec;
  readonly payloadType: number;
  readonly telephoneEventPt?: number;
  readonly ssrc: number;
  readonly ptimeMs: number;
  readonly udp: UdpSender;
}

/** Counters of the send half (RFC 3550 §6.4.1 sender info uses the first two). */
export interface RtpSenderCounters {
  /** RTP packets handed to the socket (audio and DTMF). */
  packets: number;
  /** Payload octets of those packets. */
  octets: number;
  /** Telephone-event packets among them. */
  dtmfPackets: number;
  /** Ticks that sent nothing (not sending, no remote, or no free buffer). */
  skipped: number;
}

/** Packetizes one outgoing stream (see the module doc). */
export class RtpSender {
  readonly ssrc: number;
  readonly counters: RtpSenderCounters = { packets: 0, octets: 0, dtmfPackets: 0, skipped: 0 };
  /** Where packets go; null while no remote is known (nothing is sent). */
  target: Deno.NetAddr | null = null;
  /** False while the session's direction excludes sending. */
  sending = true;
  readonly #codec: AudioCodec;
  readonly #udp: UdpSender;
  readonly #tsStep: number;
  readonly #audio = new RtpPacket();
  readonly #event = new RtpPacket();
  readonly #dtmf: DtmfSender | undefined;
  readonly #enc = new Uint8Array(1024);
  #encView: Uint8Array = this.#enc.subarray(0, 0);
  #seq: number;
  #ts: number;
  #marker = true;

  constructor(options: RtpSenderOptions) {
    this.#codec = options.codec;
    this.#udp = options.udp;
    this.ssrc = options.ssrc >>> 0;
    this.#tsStep = (options.codec.clockRate * options.ptimeMs) / 1000;
    this.#seq = random32() & 0xffff;
    this.#ts = random32();
    for (const p of [this.#audio, this.#event]) p.ssrc = this.ssrc;
    this.#audio.payloadType = options.payloadType;
    if (options.telephoneEventPt !== undefined) {
      this.#dtmf = new DtmfSender({
        clockRate: options.codec.clockRate,
        packetMs: options.ptimeMs,
        payloadType: options.telephoneEventPt,
      });
    }
  }

  /** RTP timestamp the next tick's packet carries. */
  get timestamp(): number {
    return this.#ts;
  }

  /** Sequence number of the next packet. */
  get sequenceNumber(): number {
    return this.#seq;
  }

  /** True while DTMF digits are queued or being sent. */
  get dtmfBusy(): boolean {
    return this.#dtmf?.busy ?? false;
  }

  /**
   * Queues RFC 4733 digits (0-9 * # A-D). Throws when telephone-event was not negotiated or a
   * digit is invalid (nothing is queued then).
   */
  queueDtmf(digits: string): void {
    if (!this.#dtmf) throw new Error("Cannot send DTMF: telephone-event was not negotiated");
    this.#dtmf.enqueue(digits);
  }

  /** Sends this tick's packet: a DTMF packet when one is due, else `pcm` encoded. */
  frame(pcm: Int16Array): void {
    const ts = this.#ts;
    this.#ts = (ts + this.#tsStep) >>> 0;
    const target = this.target;
    if (!this.sending || target === null) {
      this.#marker = true;
      this.counters.skipped++;
      return;
    }
    const buf = this.#udp.acquire();
    if (buf === null) {
      this.#marker = true;
      this.counters.skipped++;
      return;
    }
    let pkt = this.#audio;
    if (this.#dtmf !== undefined && this.#dtmf.next(this.#event, ts)) {
      pkt = this.#event;
      this.counters.dtmfPackets++;
      this.#marker = true; // audio resuming after the event starts a new talkspurt
    } else {
      const n = this.#codec.encode(pcm, this.#enc);
      if (this.#encView.length !== n) this.#encView = this.#enc.subarray(0, n);
      pkt.payload = this.#encView;
      pkt.timestamp = ts;
      pkt.marker = this.#marker;
      this.#marker = false;
    }
    pkt.sequenceNumber = this.#seq;
    this.#seq = (this.#seq + 1) & 0xffff;
    const len = marshalRtpTo(pkt, buf, 0);
    this.#udp.send(len, target);
    this.counters.packets++;
    this.counters.octets += len - RTP_HEADER_SIZE;
  }
}
