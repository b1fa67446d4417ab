/**
 * Per-source RTP reception statistics (RFC 3550 §6.4.1, §A.1, §A.3, §A.8) and the
 * CDR `quality` block of `leg.disconnected` (compat-notes §2.6).
 *
 * Differences from the RFC's sample code, all deliberate:
 * - Duplicates are recognised within the MAX_MISORDER window and not counted as received,
 *   so `lost` is not pulled negative by a peer that duplicates packets (§A.3 notes
 *   the RFC's counter can go negative).
 * - The first source is accepted on its first packet (signalling announced it);
 *   a *new* SSRC must pass §A.1 probation (two packets in sequence) before the
 *   statistics restart, so a stray packet cannot reset them. Probation packets are
 *   counted in both `received` and `expected`, so a clean stream of N packets
 *   reports N received, 0 lost.
 * - A packet older than the first one lowers the base, so it counts as received
 *   and expected rather than making `lost` negative.
 *
 * @module
 */

import { extendSeq, tsDiff } from "./sequence.ts";
import type { ReportBlock } from "./rtcp.ts";

/** The CDR quality block (compat-notes §2.6), field names as on the wire. */
export interface RtpQuality {
  mos_score: number;
  rtp_packets_received: number;
  rtp_packets_lost: number;
  rtp_jitter_ms: number;
}

/** Options of {@link ReceiverStats}. */
export interface ReceiverStatsOptions {
  /** RTP clock rate of the stream (8000 for PCMU/PCMA/G.722, 48000 for Opus). */
  clockRate: number;
  /** RFC 3550 §A.1 MIN_SEQUENTIAL for a new SSRC (default 2). */
  minSequential?: number;
}

/** RFC 3550 §A.1: MAX_DROPOUT and MAX_MISORDER. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const WINDOW = 128; // duplicate-detection window ≥ MAX_MISORDER, packets (power of two)

/**
 * Simplified E-model MOS (compat-notes §2.6, same as upstream `calculateMOS`):
 * eff = 2·jitter + 10; R = 93.2 − eff/40, −10 more if eff ≥ 160, − loss%·2.5;
 * R clamped to 0–100; MOS = 1 + 0.035R + 7e-6·R(R−60)(100−R), clamped to 1–5 and
 * rounded to 2 decimals. `lossFraction` is 0–1, `jitterMs` in milliseconds.
 */
export function mosScore(lossFraction: number, jitterMs: number): number {
  const eff = jitterMs * 2 + 10;
  let r = 93.2 - eff / 40;
  if (eff >= 160) r -= 10;
  r -= lossFraction * 100 * 2.5;
  r = Math.max(0, Math.min(100, r));
  const mos = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
  return Math.round(Math.max(1, Math.min(5, mos)) * 100) / 100;
}

/**
 * Receive statistics of one RTP stream, following the current SSRC. Call
 * {@link update} once per received packet; nothing allocates.
 */
export class ReceiverStats {
  readonly clockRate: number;
  readonly #minSequential: number;
  // current source (RFC 3550 §A.1 "source" structure, extended sequence numbers)
  #ssrc = 0;
  #active = false;
  #baseExt = 0;
  #maxExt = 0;
  #received = 0;
  #duplicates = 0;
  #badSeq = -1;
  #expectedPrior = 0;
  #receivedPrior = 0;
  readonly #seen = new Uint32Array(WINDOW / 32);
  // §A.8 jitter, in timestamp units
  #jitter = 0;
  #haveTransit = false;
  #lastArrival = 0;
  #lastTs = 0;
  // candidate new SSRC in probation
  #candSsrc = 0;
  #candSeq = -1;
  #candCount = 0;
  // totals of earlier sources / sequence restarts
  #prevReceived = 0;
  #prevLost = 0;
  #packets = 0;
  // last sender report, for LSR/DLSR (§6.4.1)
  #lsr = 0;
  #lsrArrivalMs = 0;

  constructor(options: ReceiverStatsOptions) {
    if (!(options.clockRate > 0)) throw new RangeError("clockRate must be positive");
    this.clockRate = options.clockRate;
    this.#minSequential = Math.max(1, options.minSequential ?? 2);
  }

  /**
   * Accounts one packet that arrived at `arrivalMs` (any monotonic ms clock).
   * Set `sampleJitter` false for packets whose timestamp does not advance with
   * media (RFC 4733 events repeat one timestamp). Returns true when the packet
   * counted for the current source, false for a duplicate, a probation packet of
   * another SSRC or a packet after a large sequence jump (§A.1).
   */
  update(
    ssrc: number,
    seq: number,
    timestamp: number,
    arrivalMs: number,
    sampleJitter = true,
  ): boolean {
    this.#packets++;
    if (!this.#active) {
      this.#start(ssrc, seq, 1);
    } else if (ssrc !== this.#ssrc) {
      if (ssrc !== this.#candSsrc || ((this.#candSeq + 1) & 0xffff) !== seq) {
        this.#candSsrc = ssrc;
        this.#candCount = 0;
      }
      this.#candSeq = seq;
      if (++this.#candCount < this.#minSequential) return false;
      this.#retire();
      this.#start(ssrc, seq, this.#candCount);
      this.#candSeq = -1;
    } else if (!this.#countSeq(seq)) {
      return false;
    }
    if (sampleJitter) this.#sampleJitter(timestamp, arrivalMs);
    return true;
  }

  #start(ssrc: number, seq: number, probationPackets: number): void {
    this.#ssrc = ssrc;
    this.#active = true;
    this.#maxExt = seq;
    this.#baseExt = seq - (probationPackets - 1);
    this.#received = probationPackets;
    this.#duplicates = 0;
    this.#badSeq = -1;
    this.#expectedPrior = 0;
    this.#receivedPrior = 0;
    this.#seen.fill(0);
    for (let e = this.#baseExt; e <= seq; e++) this.#mark(e);
    this.#jitter = 0;
    this.#haveTransit = false;
  }

  /** Folds the current source into the totals before a restart. */
  #retire(): void {
    this.#prevReceived += this.#received;
    this.#prevLost += Math.max(0, this.#maxExt - this.#baseExt + 1 - this.#received);
  }

  #mark(ext: number): void {
    const i = ext & (WINDOW - 1);
    this.#seen[i >> 5] |= 1 << (i & 31);
  }

  #countSeq(seq: number): boolean {
    const ext = extendSeq(seq, this.#maxExt);
    const delta = ext - this.#maxExt;
    if (delta > 0 && delta < MAX_DROPOUT) {
      // in order, possibly with a gap: clear the window slots we skip over
      for (let e = Math.max(this.#maxExt + 1, ext - WINDOW + 1); e < ext; e++) {
        const i = e & (WINDOW - 1);
        this.#seen[i >> 5] &= ~(1 << (i & 31));
      }
      this.#maxExt = ext;
    } else if (delta <= 0 && delta >= -MAX_MISORDER) {
      // §A.1: a duplicate or a reordered packet
      const i = ext & (WINDOW - 1);
      if ((this.#seen[i >> 5] & (1 << (i & 31))) !== 0) {
        this.#duplicates++;
        return false;
      }
      if (ext < this.#baseExt) this.#baseExt = ext;
    } else {
      // §A.1: a very large jump; restart only once the next packet confirms it
      if (seq !== this.#badSeq) {
        this.#badSeq = (seq + 1) & 0xffff;
        return false;
      }
      this.#retire();
      this.#start(this.#ssrc, seq, 2); // the packet that set badSeq was the first of the run
      return true;
    }
    this.#mark(ext);
    this.#received++;
    return true;
  }

  #sampleJitter(timestamp: number, arrivalMs: number): void {
    const arrival = arrivalMs * this.clockRate / 1000; // in timestamp units
    if (this.#haveTransit) {
      // §A.8: D = (Rj − Ri) − (Sj − Si), with the RTP timestamp difference wrap-aware
      const d = (arrival - this.#lastArrival) - tsDiff(this.#lastTs, timestamp);
      this.#jitter += (Math.abs(d) - this.#jitter) / 16;
    }
    this.#haveTransit = true;
    this.#lastArrival = arrival;
    this.#lastTs = timestamp >>> 0;
  }

  /** Records a sender report's NTP middle 32 bits and when it arrived (§6.4.1 LSR). */
  onSenderReport(ntpMiddle32: number, arrivalMs: number): void {
    this.#lsr = ntpMiddle32 >>> 0;
    this.#lsrArrivalMs = arrivalMs;
  }

  /** SSRC of the current source (0 before the first packet). */
  get ssrc(): number {
    return this.#ssrc;
  }
  /** Unique packets received from the current source. */
  get packetsReceived(): number {
    return this.#received;
  }
  /** Packets the current source's sequence numbers say were sent (§A.3). */
  get packetsExpected(): number {
    return this.#active ? this.#maxExt - this.#baseExt + 1 : 0;
  }
  /** Packets of the current source never received (≥ 0). */
  get packetsLost(): number {
    return Math.max(0, this.packetsExpected - this.#received);
  }
  /** Duplicates of already-received packets seen from the current source. */
  get duplicates(): number {
    return this.#duplicates;
  }
  /** Extended highest sequence number, cycles << 16 | max seq (§6.4.1). */
  get extendedHighestSeq(): number {
    return this.#maxExt >>> 0;
  }
  /** Interarrival jitter (§A.8) in timestamp units. */
  get jitter(): number {
    return this.#jitter;
  }
  /** Interarrival jitter in milliseconds. */
  get jitterMs(): number {
    return this.#jitter * 1000 / this.clockRate;
  }
  /** Unique packets received over every source of the call. */
  get totalReceived(): number {
    return this.#prevReceived + this.#received;
  }
  /** Packets lost over every source of the call. */
  get totalLost(): number {
    return this.#prevLost + this.packetsLost;
  }

  /**
   * The CDR quality block (compat-notes §2.6), or null when no RTP packet arrived.
   * Packet counts cover every SSRC of the call; jitter is the current source's.
   */
  quality(): RtpQuality | null {
    if (this.#packets === 0) return null;
    const received = this.totalReceived;
    const lost = this.totalLost;
    const expected = received + lost;
    const jitterMs = this.jitterMs;
    return {
      mos_score: mosScore(expected > 0 ? lost / expected : 0, jitterMs),
      rtp_packets_received: received,
      rtp_packets_lost: lost,
      rtp_jitter_ms: Math.round(jitterMs * 100) / 100,
    };
  }

  /**
   * Fills an RTCP reception report block for the current source (§6.4.1, §A.3)
   * and starts the next reporting interval. `nowMs` must be on the clock given to
   * {@link onSenderReport}. Returns false (block untouched) before any packet.
   */
  fillReportBlock(block: ReportBlock, nowMs: number): boolean {
    if (!this.#active) return false;
    const expected = this.packetsExpected;
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.#received - this.#receivedPrior;
    const lostInterval = expectedInterval - receivedInterval;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.#received;
    block.ssrc = this.#ssrc;
    block.fractionLost = expectedInterval === 0 || lostInterval <= 0
      ? 0
      : Math.floor((lostInterval * 256) / expectedInterval);
    block.cumulativeLost = Math.min(0x7fffff, expected - this.#received);
    block.extendedHighestSeq = this.#maxExt >>> 0;
    block.jitter = Math.floor(this.#jitter) >>> 0;
    block.lastSr = this.#lsr;
    block.delaySinceLastSr = this.#lsr === 0
      ? 0
      : Math.max(0, Math.round((nowMs - this.#lsrArrivalMs) * 65.536)) >>> 0;
    return true;
  }
}
