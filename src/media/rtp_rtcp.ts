/**
 * The RTCP side of an RTP session (RFC 3550 §6): a compound SR or RR plus SDES CNAME every
 * ≈5 s, driven by the 20 ms tick (no timer of its own), and the handling of the peer's reports.
 *
 * - §6.2/§6.3.1: the interval is 5 s randomized over [0.5, 1.5]×; the first report goes out
 *   after half of it.
 * - §6.4: an SR while we sent RTP since the previous report, an RR otherwise; either carries a
 *   report block from {@link ReceiverStats} once the peer has sent RTP.
 * - §6.4.1: the peer's SR fills LSR/DLSR of our next block; a block about our SSRC in the peer's
 *   SR/RR gives the round-trip time (A − LSR − DLSR) and its view of our loss and jitter.
 * - §6.6: a BYE from the peer's SSRC is reported; {@link RtcpAgent.sendBye} says goodbye.
 *
 * @module
 */
import {
  marshalRtcpTo,
  parseRtcp,
  type ReceiverReport,
  type ReportBlock,
  SDES_CNAME,
  type SenderReport,
  type SourceDescription,
} from "../rtp/rtcp.ts";
import { ntpFraction, ntpMiddle32, ntpSeconds } from "../rtp/ntp_time.ts";
import type { ReceiverStats } from "../rtp/receiver_stats.ts";
import type { UdpSender } from "./rtp_udp.ts";

/** {@link RtcpAgent.handle}: the datagram was not valid RTCP. */
export const RTCP_INVALID = 0;
/** {@link RtcpAgent.handle}: valid RTCP. */
export const RTCP_OK = 1;
/** {@link RtcpAgent.handle}: valid RTCP carrying a BYE for the peer's source. */
export const RTCP_BYE_RECEIVED = 2;

/** What the agent needs from the send half at report time. */
export interface RtcpSenderInfo {
  /** RTP packets sent so far. */
  readonly packets: number;
  /** RTP payload octets sent so far. */
  readonly octets: number;
}

/** Options of {@link RtcpAgent}. */
export interface RtcpAgentOptions {
  readonly ssrc: number;
  readonly cname: string;
  readonly stats: ReceiverStats;
  /** Mean report interval, ms (default 5000, RFC 3550 §6.2 minimum). */
  readonly intervalMs?: number;
  /** Tick period, ms. */
  readonly ptimeMs: number;
  readonly random?: () => number;
}

/** Counters and the peer's view of our stream. */
export interface RtcpCounters {
  /** Compound packets sent. */
  sent: number;
  /** Valid compound packets received. */
  received: number;
  /** Datagrams rejected by the parser. */
  malformed: number;
  /** Round-trip time from the last block about us with an LSR, ms (−1 unknown). */
  rttMs: number;
  /** The peer's fraction lost of our stream, 0–255 (−1 unknown). */
  remoteFractionLost: number;
  /** The peer's cumulative count of our lost packets (−1 unknown). */
  remoteCumulativeLost: number;
  /** The peer's interarrival jitter of our stream, timestamp units (−1 unknown). */
  remoteJitter: number;
}

/** Builds, schedules and interprets RTCP for one session (see the module doc). */
export class RtcpAgent {
  readonly counters: RtcpCounters = {
    sent: 0,
    received: 0,
    malformed: 0,
    rttMs: -1,
    remoteFractionLost: -1,
    remoteCumulativeLost: -1,
    remoteJitter: -1,
  };
  readonly #ssrc: number;
  readonly #stats: ReceiverStats;
  readonly #intervalTicks: number;
  readonly #random: () => number;
  readonly #block: ReportBlock = {
    ssrc: 0,
    fractionLost: 0,
    cumulativeLost: 0,
    extendedHighestSeq: 0,
    jitter: 0,
    lastSr: 0,
    delaySinceLastSr: 0,
  };
  readonly #one: ReportBlock[] = [this.#block];
  readonly #none: ReportBlock[] = [];
  readonly #sr: SenderReport;
  readonly #rr: ReceiverReport;
  readonly #sdes: SourceDescription;
  #ticksLeft: number;
  #packetsAtLastReport = -1;

  constructor(options: RtcpAgentOptions) {
    this.#ssrc = options.ssrc >>> 0;
    this.#stats = options.stats;
    this.#random = options.random ?? Math.random;
    this.#intervalTicks = Math.max(1, (options.intervalMs ?? 5000) / options.ptimeMs);
    this.#sr = {
      type: "sr",
      ssrc: this.#ssrc,
      ntpSeconds: 0,
      ntpFraction: 0,
      rtpTimestamp: 0,
      packetCount: 0,
      octetCount: 0,
      reports: this.#none,
    };
    this.#rr = { type: "rr", ssrc: this.#ssrc, reports: this.#none };
    this.#sdes = {
      type: "sdes",
      chunks: [{ source: this.#ssrc, items: [{ type: SDES_CNAME, text: options.cname }] }],
    };
    this.#ticksLeft = this.#draw(0.5);
  }

  /**
   * Counts one tick; when a report is due, writes the compound into a buffer of `udp` and sends
   * it to `target` (skipped without a target). `rtpTimestamp` is the tick's media timestamp.
   */
  tick(
    udp: UdpSender,
    target: Deno.NetAddr | null,
    sender: RtcpSenderInfo,
    rtpTimestamp: number,
  ): void {
    if (--this.#ticksLeft > 0) return;
    this.#ticksLeft = this.#draw(1);
    if (target === null) return;
    const buf = udp.acquire();
    if (buf === null) return;
    const len = this.#writeReport(buf, 0, sender, rtpTimestamp, performance.now(), Date.now());
    udp.send(len + this.#writeSdes(buf, len), target);
    this.counters.sent++;
  }

  /** Sends a final report with a BYE (RFC 3550 §6.6); false when it could not be queued. */
  sendBye(
    udp: UdpSender,
    target: Deno.NetAddr,
    sender: RtcpSenderInfo,
    rtpTimestamp: number,
  ): boolean {
    const buf = udp.acquire();
    if (buf === null) return false;
    let o = this.#writeReport(buf, 0, sender, rtpTimestamp, performance.now(), Date.now());
    o += this.#writeSdes(buf, o);
    o += marshalRtcpTo({ type: "bye", sources: [this.#ssrc] }, buf, o);
    udp.send(o, target);
    this.counters.sent++;
    return true;
  }

  /** Interprets one received RTCP compound; `nowMs` is on the `performance.now()` clock. */
  handle(buf: Uint8Array, nowMs: number): number {
    const parsed = parseRtcp(buf);
    if (!parsed.ok) {
      this.counters.malformed++;
      return RTCP_INVALID;
    }
    this.counters.received++;
    let result = RTCP_OK;
    const peer = this.#stats.ssrc;
    for (const p of parsed.packets) {
      if (p.type === "sr" || p.type === "rr") {
        if (p.type === "sr") {
          this.#stats.onSenderReport(ntpMiddle32(p.ntpSeconds, p.ntpFraction), nowMs);
        }
        for (const b of p.reports) if (b.ssrc === this.#ssrc) this.#aboutUs(b);
      } else if (p.type === "bye" && (peer === 0 || p.sources.includes(peer))) {
        result = RTCP_BYE_RECEIVED;
      }
    }
    return result;
  }

  #aboutUs(b: ReportBlock): void {
    this.counters.remoteFractionLost = b.fractionLost;
    this.counters.remoteCumulativeLost = b.cumulativeLost;
    this.counters.remoteJitter = b.jitter;
    if (b.lastSr === 0) return;
    // §6.4.1: RTT = A − LSR − DLSR in 1/65536 s, A the middle 32 bits of the arrival time.
    const now = Date.now();
    const a = ntpMiddle32(ntpSeconds(now), ntpFraction(now));
    const rtt = (a - b.lastSr - b.delaySinceLastSr) >>> 0;
    if (rtt < 0x80000000) this.counters.rttMs = Math.round((rtt * 1000) / 65536);
  }

  #writeReport(
    buf: Uint8Array,
    offset: number,
    sender: RtcpSenderInfo,
    rtpTimestamp: number,
    nowMs: number,
    wallMs: number,
  ): number {
    const reports = this.#stats.fillReportBlock(this.#block, nowMs) ? this.#one : this.#none;
    const sending = sender.packets !== this.#packetsAtLastReport && sender.packets > 0;
    this.#packetsAtLastReport = sender.packets;
    if (!sending) {
      this.#rr.reports = reports;
      return marshalRtcpTo(this.#rr, buf, offset);
    }
    const sr = this.#sr;
    sr.ntpSeconds = ntpSeconds(wallMs);
    sr.ntpFraction = ntpFraction(wallMs);
    sr.rtpTimestamp = rtpTimestamp >>> 0;
    sr.packetCount = sender.packets >>> 0;
    sr.octetCount = sender.octets >>> 0;
    sr.reports = reports;
    return marshalRtcpTo(sr, buf, offset);
  }

  #writeSdes(buf: Uint8Array, offset: number): number {
    return marshalRtcpTo(this.#sdes, buf, offset);
  }

  /** Ticks until the next report: `scale` × interval × a uniform draw in [0.5, 1.5]. */
  #draw(scale: number): number {
    return Math.max(1, Math.round(this.#intervalTicks * scale * (0.5 + this.#random())));
  }
}
