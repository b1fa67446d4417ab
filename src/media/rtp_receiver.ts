/**
 * The receive half of an RTP session: per-packet accounting, jitter buffering and DTMF
 * detection ({@link RtpReceiver.ingest}, called from the socket loop), and one decoded frame
 * per 20 ms tick ({@link RtpReceiver.pull}). Nothing here allocates in steady state.
 *
 * Telephone-event packets go into the jitter buffer too: they share the audio stream's SSRC and
 * sequence numbers (RFC 4733 §2.1), so buffering them keeps the sequence contiguous and the
 * ordered buffer does not mistake a digit for lost audio. Their ticks play as silence.
 *
 * Concealment is deliberately simple: the first missing frame after audio repeats the last
 * frame at −6 dB, further ones are silence (a repeated frame beyond 20 ms buzzes).
 *
 * @module
 */
import type { AudioCodec } from "../codecs/codec.ts";
import { dtmfDigit, DtmfReceiver } from "../rtp/dtmf.ts";
import { JB_FRAME, JitterBuffer, type JitterBufferStats } from "../rtp/jitter_buffer.ts";
import type { RtpPacket } from "../rtp/packet.ts";
import { ReceiverStats } from "../rtp/receiver_stats.ts";

/** {@link RtpReceiver.ingest}: the packet was not counted (duplicate, SSRC probation, jump). */
export const INGEST_IGNORED = 0;
/** {@link RtpReceiver.ingest}: the packet was accepted. */
export const INGEST_OK = 1;
/** {@link RtpReceiver.ingest}: accepted, and it is the first of a new remote SSRC. */
export const INGEST_NEW_SSRC = 2;

/** Options of {@link RtpReceiver}. */
export interface RtpReceiverOptions {
  readonly codec: AudioCodec;
  /** Negotiated audio payload type. */
  readonly payloadType: number;
  /** Negotiated telephone-event payload type, if any. */
  readonly telephoneEventPt?: number;
  /** `SIP_JITTER_BUFFER_MS` / `SIP_JITTER_BUFFER_MAX_MS`. */
  readonly jitter: { readonly targetMs: number; readonly maxMs: number };
  readonly ptimeMs: number;
  /** A new DTMF digit (RFC 4733), reported once per event. */
  readonly onDtmf?: (digit: string) => void;
}

/** Counters of the receive half. */
export interface RtpReceiverCounters {
  /** Frames decoded from packets. */
  decoded: number;
  /** Missing frames replaced by the attenuated last frame. */
  concealed: number;
  /** Ticks with no audio to play (warming, gaps after concealment, silence, DTMF). */
  silent: number;
  /** Digits reported to `onDtmf`. */
  dtmfDigits: number;
}

/** Decodes and conceals one peer's stream (see the module doc). */
export class RtpReceiver {
  /** RFC 3550 §6.4.1 reception statistics; also the CDR quality source. */
  readonly stats: ReceiverStats;
  readonly counters: RtpReceiverCounters = { decoded: 0, concealed: 0, silent: 0, dtmfDigits: 0 };
  /** False while the session's direction excludes receiving: packets are counted, not played. */
  receiving = true;
  readonly #codec: AudioCodec;
  readonly #pt: number;
  readonly #tePt: number;
  readonly #jb: JitterBuffer;
  readonly #dtmf = new DtmfReceiver();
  readonly #onDtmf: ((digit: string) => void) | undefined;
  readonly #last: Int16Array;
  #haveLast = false;
  #concealRun = 0;
  #tick = 0;
  #ssrc = -1;

  constructor(options: RtpReceiverOptions) {
    const codec = options.codec;
    this.#codec = codec;
    this.#pt = options.payloadType;
    this.#tePt = options.telephoneEventPt ?? -1;
    this.#onDtmf = options.onDtmf;
    this.stats = new ReceiverStats({ clockRate: codec.clockRate });
    this.#jb = new JitterBuffer({
      targetMs: options.jitter.targetMs,
      maxMs: options.jitter.maxMs,
      frameMs: options.ptimeMs,
      timestampsPerFrame: (codec.clockRate * options.ptimeMs) / 1000,
    });
    this.#last = new Int16Array(codec.frameSamples);
  }

  /** Jitter buffer counters (live object). */
  get jitterStats(): JitterBufferStats {
    return this.#jb.stats;
  }

  /** Frames waiting in the jitter buffer. */
  get buffered(): number {
    return this.#jb.depth;
  }

  /**
   * Accounts one RTP packet of an expected payload type from the accepted source: statistics
   * (RFC 3550 §A.1, §A.8), then — when receiving — DTMF detection and the jitter buffer (which
   * copies the payload, so `pkt` may be overwritten afterwards).
   */
  ingest(pkt: RtpPacket, arrivalMs: number): number {
    const event = pkt.payloadType === this.#tePt;
    // RFC 4733 §2.5.1.1: event packets repeat one timestamp; they would inflate the jitter.
    if (!this.stats.update(pkt.ssrc, pkt.sequenceNumber, pkt.timestamp, arrivalMs, !event)) {
      return INGEST_IGNORED;
    }
    let result = INGEST_OK;
    if (this.stats.ssrc !== this.#ssrc) {
      if (this.#ssrc !== -1) result = INGEST_NEW_SSRC;
      this.#ssrc = this.stats.ssrc;
      this.#dtmf.reset();
    }
    if (!this.receiving) return result;
    if (event) {
      const code = this.#dtmf.receive(pkt);
      if (code >= 0 && this.#onDtmf) {
        this.counters.dtmfDigits++;
        try {
          this.#onDtmf(dtmfDigit(code));
        } catch {
          // a failing listener must not stop the receive loop
        }
      }
    }
    this.#jb.push(pkt);
    return result;
  }

  /**
   * The tick's frame into `out` (at the codec's sample rate, `frameSamples` long): true when it
   * holds audio (decoded or concealed), false when it is silence (zeroed).
   */
  pull(out: Int16Array): boolean {
    const n = Math.min(out.length, this.#codec.frameSamples);
    const r = this.#jb.pop(this.#tick++);
    if (r === JB_FRAME) {
      const frame = this.#jb.frame;
      if (frame.payloadType === this.#pt) {
        const got = this.#codec.decode(frame.payload, out);
        if (got < n) out.fill(0, got, n);
        const last = this.#last;
        for (let i = 0; i < n; i++) last[i] = out[i];
        this.#haveLast = true;
        this.#concealRun = 0;
        this.counters.decoded++;
        return true;
      }
      this.#haveLast = false; // a DTMF tick: what follows is a new talkspurt, not a loss
    } else if (this.#haveLast && this.#concealRun === 0) {
      // JB_GAP (a hole in the sequence) or JB_NONE right after audio (late or lost in
      // passthrough mode): one attenuated repeat, then silence.
      const last = this.#last;
      for (let i = 0; i < n; i++) out[i] = last[i] >> 1;
      this.#concealRun = 1;
      this.counters.concealed++;
      return true;
    }
    out.fill(0, 0, n);
    this.counters.silent++;
    return false;
  }

  /** Drops buffered audio (direction change back to receiving, codec restart). */
  flush(): void {
    this.#jb.reset();
    this.#haveLast = false;
  }
}
