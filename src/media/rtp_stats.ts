/**
 * The counters snapshot of an RTP session ({@link RtpSessionStats}), assembled from its parts
 * on demand — for metrics, logs and tests, never on the 20 ms path.
 *
 * @module
 */
import type { JitterBufferStats } from "../rtp/jitter_buffer.ts";
import type { RtcpCounters } from "./rtp_rtcp.ts";
import type { RtpReceiver, RtpReceiverCounters } from "./rtp_receiver.ts";
import type { RtpSenderCounters } from "./rtp_sender.ts";
import type { UdpSendStats } from "./rtp_udp.ts";

/** Everything an RTP session counts. */
export interface RtpSessionStats {
  readonly localPort: number;
  readonly localRtcpPort: number;
  /** Our SSRC. */
  readonly ssrc: number;
  /** Current send target, if any. */
  readonly remote: { host: string; port: number; rtcpPort?: number } | null;
  /** Whether symmetric RTP latched the peer's address. */
  readonly latched: boolean;
  /** Times the latch moved to another address. */
  readonly relatches: number;
  readonly direction: string;
  readonly received: {
    /** RTP packets accepted from the peer (any SSRC, duplicates included). */
    readonly packets: number;
    /** Their payload octets. */
    readonly octets: number;
    /** Accepted but not counted by the statistics (duplicate, new-SSRC probation, jump). */
    readonly ignored: number;
    /** The peer's current SSRC (0 before any packet). */
    readonly remoteSsrc: number;
    /** RFC 3550 §A.3 over the whole call. */
    readonly lost: number;
    readonly expected: number;
    readonly duplicates: number;
    /** RFC 3550 §A.8 interarrival jitter, ms. */
    readonly jitterMs: number;
  };
  /** Datagrams dropped on arrival, by reason. */
  readonly dropped: {
    readonly malformed: number;
    readonly oversize: number;
    readonly unknownPayloadType: number;
    readonly foreignSource: number;
  };
  readonly playout: RtpReceiverCounters & { readonly jitterBuffer: JitterBufferStats };
  readonly sent: RtpSenderCounters & {
    /** Sends that failed (counted when the send settles). */
    readonly failed: number;
    /** Packets not sent because every send buffer was still in flight. */
    readonly overruns: number;
    readonly lastError: string;
  };
  readonly rtcp: RtcpCounters & { readonly sendFailed: number };
}

/** The parts {@link buildStats} reads. */
export interface StatsSources {
  localPort: number;
  localRtcpPort: number;
  ssrc: number;
  latched: boolean;
  relatches: number;
  remote: RtpSessionStats["remote"];
  direction: string;
  received: { packets: number; octets: number; ignored: number };
  dropped: RtpSessionStats["dropped"];
  receiver: RtpReceiver;
  sender: RtpSenderCounters;
  rtpUdp: { readonly stats: UdpSendStats; readonly lastError: string };
  rtcpUdp: UdpSendStats | null;
  rtcp: RtcpCounters;
}

/** Copies the live counters into one plain snapshot. */
export function buildStats(s: StatsSources): RtpSessionStats {
  const rs = s.receiver.stats;
  return {
    localPort: s.localPort,
    localRtcpPort: s.localRtcpPort,
    ssrc: s.ssrc,
    remote: s.remote,
    latched: s.latched,
    relatches: s.relatches,
    direction: s.direction,
    received: {
      ...s.received,
      remoteSsrc: rs.ssrc,
      lost: rs.totalLost,
      expected: rs.totalLost + rs.totalReceived,
      duplicates: rs.duplicates,
      jitterMs: rs.jitterMs,
    },
    dropped: { ...s.dropped },
    playout: { ...s.receiver.counters, jitterBuffer: { ...s.receiver.jitterStats } },
    sent: {
      ...s.sender,
      failed: s.rtpUdp.stats.failed,
      overruns: s.rtpUdp.stats.overruns,
      lastError: s.rtpUdp.lastError,
    },
    rtcp: { ...s.rtcp, sendFailed: s.rtcpUdp ? s.rtcpUdp.failed : 0 },
  };
}
