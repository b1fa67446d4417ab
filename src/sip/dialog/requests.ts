/**
 * Header fields the UA core adds to what it sends: the Via of a new client transaction
 * (RFC 3261 §8.1.1.7, RFC 3581 rport), Contact (§8.1.1.8), the capabilities it advertises
 * (§20.5 Allow, §20.37 Supported), SDP bodies (RFC 3264), and request preparation for a
 * transaction.
 */
import {
  formatHostPort,
  generateBranch,
  type NameAddr,
  nameAddr,
  type SipMessage,
  type SipRequest,
  sipUri,
  via,
} from "../message/mod.ts";
import {
  type Destination,
  type HostPort,
  type TransportProto,
  viaTransportToken,
} from "../transport/mod.ts";
import { sipHost } from "../transport/mod.ts";

/** Methods a dialog of ours accepts (RFC 3261 §20.5 Allow). */
export const ALLOWED_METHODS: readonly string[] = Object.freeze([
  "INVITE",
  "ACK",
  "CANCEL",
  "BYE",
  "OPTIONS",
  "UPDATE",
  "INFO",
]);

/** The Allow value. */
export const ALLOW = ALLOWED_METHODS.join(", ");

/** The SDP media type (RFC 4566 §8.1). */
export const SDP_TYPE = "application/sdp";

/** Adds a fresh top Via for `to`, sent by `local` with a new branch and `rport` (RFC 3581 §3). */
export function addVia(request: SipRequest, to: Destination, local: HostPort): void {
  request.headers.prepend(
    "Via",
    via({
      transport: viaTransportToken(to.transport),
      host: sipHost(local.host),
      port: local.port,
      params: [{ name: "branch", value: generateBranch() }, { name: "rport", value: null }],
    }),
  );
}

/** A Contact address for `local` over `transport`; `sips:` for a secure dialog (§12.1.1). */
export function contactAddress(
  local: HostPort,
  transport: TransportProto,
  options: { user?: string; secure?: boolean } = {},
): NameAddr {
  const params = transport === "udp" || options.secure
    ? []
    : [{ name: "transport", value: transport }];
  return nameAddr({
    uri: sipUri({
      scheme: options.secure ? "sips" : "sip",
      user: options.user,
      host: sipHost(local.host),
      port: local.port,
      params,
    }),
  });
}

/** `host:port` of a local address, for logs. */
export function hostPort(local: HostPort): string {
  return formatHostPort(sipHost(local.host), local.port);
}

/** Sets an SDP body (RFC 3261 §20.15 Content-Type) or leaves the message without one. */
export function setSdp(msg: SipMessage, sdp: string | undefined): void {
  if (sdp === undefined) return;
  msg.headers.set("Content-Type", SDP_TYPE);
  msg.body = new TextEncoder().encode(sdp);
}

/** The SDP body of a message, if it carries one. */
export function sdpOf(msg: SipMessage): string | undefined {
  const type = msg.contentType;
  if (msg.body.length === 0 || !type) return undefined;
  return `${type.type}/${type.subtype}`.toLowerCase() === SDP_TYPE ? msg.bodyText : undefined;
}
