/**
 * The in-memory model of an SDP session description (RFC 8866, which obsoletes RFC 4566).
 *
 * Attributes this server acts on (rtpmap, fmtp, ptime, maxptime, direction, rtcp, rtcp-mux) are
 * lifted into typed fields; every other attribute stays in `attributes`, in the order it arrived,
 * so a description survives a parse → serialize round trip without losing what we do not use.
 */

/** RFC 8866 §5.7 address types we understand. */
export type AddressFamily = "IP4" | "IP6";

/** RFC 3264 §5.1 / RFC 8866 §6.7: the media direction attributes. */
export type Direction = "sendrecv" | "sendonly" | "recvonly" | "inactive";

/** All four direction attribute names, for membership tests. */
export const DIRECTIONS: readonly Direction[] = ["sendrecv", "sendonly", "recvonly", "inactive"];

/** RFC 8866 §5.2 `o=`: the originator and the session's identity and version. */
export interface Origin {
  /** `-` when the originator has no user id. */
  readonly username: string;
  /** Decimal digits; kept as text because real offers use 64-bit NTP-style values. */
  readonly sessionId: string;
  /** Decimal digits; RFC 3264 §8 requires +1 on every changed re-offer. */
  readonly sessionVersion: string;
  readonly family: AddressFamily;
  readonly address: string;
}

/** RFC 8866 §5.7 `c=` (network type is always `IN`). */
export interface Connection {
  readonly family: AddressFamily;
  /** Unicast address or FQDN, without any multicast `/ttl/count` suffix. */
  readonly address: string;
  /** Multicast TTL (IP4) from an `address/ttl` suffix. */
  readonly ttl?: number;
  /** Multicast address count from an `address/ttl/count` (IP4) or `address/count` (IP6) suffix. */
  readonly count?: number;
}

/** RFC 8866 §5.8 `b=<bwtype>:<bandwidth>`. */
export interface Bandwidth {
  readonly type: string;
  readonly value: number;
}

/** RFC 8866 §5.9/§5.10: one `t=` line and the `r=` lines that follow it (kept verbatim). */
export interface Timing {
  readonly start: number;
  readonly stop: number;
  readonly repeats: readonly string[];
}

/** RFC 8866 §6.6 `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`. */
export interface RtpMap {
  readonly payloadType: number;
  /** As written by the peer; compare case-insensitively (RFC 4855 §3). */
  readonly encodingName: string;
  readonly clockRate: number;
  readonly channels?: number;
}

/** RFC 8866 §6.15 `a=fmtp:<format> <parameters>`; the parameter text is kept verbatim. */
export interface Fmtp {
  readonly format: string;
  readonly parameters: string;
}

/** RFC 3605 `a=rtcp:<port> [IN <family> <address>]`. */
export interface RtcpAttribute {
  readonly port: number;
  readonly connection?: Connection;
}

/** Any attribute not lifted into a typed field; `value` is absent for property attributes. */
export interface Attribute {
  readonly name: string;
  readonly value?: string;
}

/** RFC 8866 §5.14: one `m=` section and everything up to the next `m=`. */
export interface MediaDescription {
  /** `audio`, `text`, `video`, `application`, … */
  readonly media: string;
  /** 0 marks a disabled or rejected stream (RFC 3264 §6). */
  readonly port: number;
  readonly portCount?: number;
  /** `RTP/AVP`, `RTP/SAVP`, `RTP/AVPF`, `UDP/TLS/RTP/SAVPF`, … */
  readonly proto: string;
  /** Payload type numbers for RTP protocols, opaque tokens otherwise; in the sender's order. */
  readonly formats: readonly string[];
  readonly info?: string;
  readonly connection?: Connection;
  readonly bandwidths: readonly Bandwidth[];
  readonly key?: string;
  /** In m= format order; only for formats the m= line lists, one per payload type. */
  readonly rtpmaps: readonly RtpMap[];
  /** In m= format order, one per format. */
  readonly fmtps: readonly Fmtp[];
  /** RFC 8866 §6.4, milliseconds. */
  readonly ptime?: number;
  /** RFC 8866 §6.5, milliseconds. */
  readonly maxptime?: number;
  /** Media-level direction; absent means "inherit the session's, else sendrecv". */
  readonly direction?: Direction;
  readonly rtcp?: RtcpAttribute;
  /** RFC 5761 §5.1.1 `a=rtcp-mux`. */
  readonly rtcpMux: boolean;
  readonly attributes: readonly Attribute[];
}

/** A whole session description. */
export interface SessionDescription {
  readonly origin: Origin;
  readonly sessionName: string;
  readonly info?: string;
  readonly uri?: string;
  readonly emails: readonly string[];
  readonly phones: readonly string[];
  readonly connection?: Connection;
  readonly bandwidths: readonly Bandwidth[];
  readonly timing: readonly Timing[];
  /** RFC 8866 §5.11 `z=`, verbatim. */
  readonly timeZones?: string;
  readonly key?: string;
  /** Session-level direction, the default for every media section (RFC 8866 §6.7). */
  readonly direction?: Direction;
  readonly attributes: readonly Attribute[];
  readonly media: readonly MediaDescription[];
}
