/**
 * Options, events and validation of an RTP session (`rtp_session.ts`).
 *
 * @module
 */
import { type AudioCodec, createCodec } from "../codecs/codec.ts";
import { isIpLiteral } from "./rtp_udp.ts";

/** SDP direction of our side of the stream (RFC 3264 §5.1): what we send and expect. */
export type RtpDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

/** Things the session reports up, besides DTMF digits. */
export type RtpSessionEvent =
  /** A valid RTP packet latched the remote address (the first one, or after updateRemote). */
  | "latched"
  /** The latch moved to a new address after the old one went quiet (NAT rebinding, a move). */
  | "relatched"
  /** The peer's SSRC changed (after RFC 3550 §A.1 probation). */
  | "ssrc_changed"
  /** The peer sent an RTCP BYE for its source (RFC 3550 §6.6). */
  | "bye"
  /** A socket kept failing and its receive loop stopped. */
  | "receive_failed";

/** The peer's media address from SDP (c= and m= lines, `a=rtcp`). Hosts are IP literals. */
export interface RtpRemote {
  readonly host: string;
  readonly port: number;
  /** RTCP port without rtcp-mux (default `port + 1`, RFC 3605 when given). */
  readonly rtcpPort?: number;
}

/** Options of {@link RtpSession.open}. */
export interface RtpSessionOptions {
  /** Local address to bind (the SIP media address). */
  readonly bindHost: string;
  /** Even RTP port from the port allocator (0 = ephemeral, for tests). */
  readonly port: number;
  /** RTP and RTCP share the RTP port (RFC 5761). */
  readonly rtcpMux: boolean;
  /** The negotiated audio codec (SDP encoding name) and its payload type. */
  readonly codec: { readonly name: string; readonly payloadType: number };
  /** Negotiated telephone-event payload type (RFC 4733); DTMF is off without it. */
  readonly telephoneEventPt?: number;
  /** The peer's address, when known (an outbound offer learns it from the answer). */
  readonly remote?: RtpRemote;
  /** `SIP_JITTER_BUFFER_MS` (0 = passthrough) and `SIP_JITTER_BUFFER_MAX_MS`. */
  readonly jitter: { readonly targetMs: number; readonly maxMs: number };
  /** Packetization time; only 20 ms frames are supported. */
  readonly ptimeMs?: 20;
  /** Latch the remote address from received RTP (RFC 4961; default true). */
  readonly symmetric?: boolean;
  /** A new DTMF digit from the peer, once per RFC 4733 event. */
  readonly onDtmf?: (digit: string) => void;
  /** Session events (see {@link RtpSessionEvent}). */
  readonly onEvent?: (kind: RtpSessionEvent) => void;
  /** Silence of the latched source after which another source may take over (default 2000 ms). */
  readonly relatchQuietMs?: number;
  /** Mean RTCP report interval (default 5000 ms, RFC 3550 §6.2). */
  readonly rtcpIntervalMs?: number;
  /** RTCP CNAME (RFC 3550 §6.5.1; default a random per-session name). */
  readonly cname?: string;
}

/** `[::1]` → `::1`: `Deno.listenDatagram` wants a bare address. */
export function bareHost(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function checkPt(pt: number, what: string): void {
  if (!Number.isInteger(pt) || pt < 0 || pt > 127) {
    throw new RangeError(`Cannot open RTP session: ${what} payload type ${pt} is outside 0-127`);
  }
}

/** Throws a RangeError unless `remote` is an IP literal with valid ports. */
export function checkRemote(remote: RtpRemote): void {
  if (!isIpLiteral(remote.host)) {
    throw new RangeError(`Cannot use RTP remote ${remote.host}: not an IP address`);
  }
  for (const p of [remote.port, remote.rtcpPort ?? 1]) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) {
      throw new RangeError(`Cannot use RTP remote port ${p}`);
    }
  }
}

/** Validates session options; returns a fresh instance of the codec. Throws a RangeError. */
export function validateOptions(options: RtpSessionOptions): AudioCodec {
  const codec = createCodec(options.codec.name);
  if (!codec) throw new RangeError(`Cannot open RTP session: unknown codec ${options.codec.name}`);
  checkPt(options.codec.payloadType, "codec");
  if (options.telephoneEventPt !== undefined) {
    checkPt(options.telephoneEventPt, "telephone-event");
    if (options.telephoneEventPt === options.codec.payloadType) {
      throw new RangeError("Cannot open RTP session: telephone-event shares the codec's type");
    }
  }
  if ((options.ptimeMs ?? 20) !== 20) {
    throw new RangeError(`Cannot open RTP session: ptime ${options.ptimeMs} ms (only 20 ms)`);
  }
  const port = options.port;
  if (!Number.isInteger(port) || port < 0 || port > (options.rtcpMux ? 65535 : 65534)) {
    throw new RangeError(`Cannot open RTP session: invalid port ${port}`);
  }
  if (options.remote) checkRemote(options.remote);
  return codec;
}
