/**
 * Where a media section's packets go: the RTP address and port, and the RTCP port — from
 * `a=rtcp` (RFC 3605), else the RTP port when RTCP is multiplexed (RFC 5761), else RTP + 1
 * (RFC 3550 §11).
 */

import type { AddressFamily, MediaDescription, SessionDescription } from "./types.ts";

/** The transport address of one remote media stream. */
export interface RemoteEndpoint {
  readonly address: string;
  readonly family: AddressFamily;
  readonly port: number;
  readonly rtcpPort: number;
  /** RTCP address when `a=rtcp` names one (RFC 3605 §2.1), else `address`. */
  readonly rtcpAddress: string;
}

/**
 * The endpoint `m` asks to receive on. `rtcpMux` is whether multiplexing was agreed (offered
 * by one side and echoed by the other), not merely offered.
 */
export function remoteEndpoint(
  sd: SessionDescription,
  m: MediaDescription,
  rtcpMux: boolean,
): RemoteEndpoint {
  // parseSdp guarantees a c= line for every section whose port is not 0.
  const c = m.connection ?? sd.connection ?? { family: "IP4" as const, address: "0.0.0.0" };
  const rtcpPort = rtcpMux ? m.port : m.rtcp?.port ?? (m.port === 0 ? 0 : m.port + 1);
  const rtcpAddress = rtcpMux ? c.address : m.rtcp?.connection?.address ?? c.address;
  return { address: c.address, family: c.family, port: m.port, rtcpPort, rtcpAddress };
}

/** Whether `proto` is plain RTP we can carry on a SIP leg (no SRTP, no DTLS). */
export function isPlainRtp(proto: string): boolean {
  return proto === "RTP/AVP" || proto === "RTP/AVPF";
}
