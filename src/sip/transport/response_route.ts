/**
 * Where responses go (RFC 3261 §18.2.2, RFC 3581 §4) and the Via fill-in on inbound requests
 * that makes it possible (RFC 3261 §18.2.1, RFC 3581 §4).
 */
import {
  bareHost,
  getParam,
  hostsEqual,
  isIpLiteral,
  type Via,
  withViaParam,
} from "../message/mod.ts";
import { sipHost } from "./address.ts";
import {
  type Connection,
  defaultPort,
  type Destination,
  type HostPort,
  isReliable,
} from "./types.ts";

/**
 * RFC 3261 §18.2.1: add `received` when sent-by is a name or differs from the packet's source;
 * RFC 3581 §4: fill an empty `rport` with the source port, and then always add `received`.
 * Returns the same Via when nothing changes.
 */
export function stampVia(via: Via, source: HostPort): Via {
  const sourceHost = bareHost(source.host);
  const rportAsked = via.rport === true;
  const differs = !isIpLiteral(via.host) || !hostsEqual(via.host, sipHost(sourceHost));
  let out = via;
  // RFC 3261 §25.1: received = IPv4address / IPv6address — written without brackets.
  if (differs || rportAsked) out = withViaParam(out, "received", sourceHost);
  if (rportAsked) out = withViaParam(out, "rport", String(source.port));
  return out;
}

/** How a response leaves: the connection to use while it is open, else the destination. */
export interface ResponseRoute {
  /** The path the request came in on (RFC 3261 §18.2.2 bullet 1; for UDP, the same socket). */
  readonly connection?: Connection;
  /** Where to send when the connection is gone, or for UDP. */
  readonly destination: Destination;
}

/** Options for `responseRoute`. */
export interface ResponseRouteOptions {
  /**
   * `SIP_USE_SOURCE_SOCKET`: reply to the packet's source address and port whatever Via says —
   * for peers whose sent-by is unroutable (private addresses behind NAT, names that do not resolve).
   */
  readonly useSourceSocket?: boolean;
}

/**
 * RFC 3261 §18.2.2 with RFC 3581 §4: the route for responses to a request whose (stamped) top
 * Via is `via`, received from `source` on `connection`. The transport is the one the request
 * arrived on: a Via whose sent-protocol names another (a TCP Via in a UDP datagram, a UDP Via on
 * a TCP connection) is not followed, since §18.2.2 assumes the two agree and only the arrival
 * path is known to reach the client.
 *
 * - reliable: the request's connection; if closed, `received` (else sent-by host) at the sent-by
 *   port or the transport default;
 * - `maddr`: that address at the sent-by port (5060 by default);
 * - `rport` filled in: `received` at the `rport` port (RFC 3581 §4);
 * - `received`: that address at the sent-by port (5060 by default);
 * - otherwise sent-by itself.
 */
export function responseRoute(
  via: Via,
  source: Destination,
  connection: Connection,
  options: ResponseRouteOptions = {},
): ResponseRoute {
  const transport = source.transport;
  if (options.useSourceSocket) {
    return { connection, destination: { ...source, transport: source.transport } };
  }
  const sentByPort = via.port ?? defaultPort(transport);
  if (isReliable(transport)) {
    const host = via.received ?? bareHost(via.host);
    return { connection, destination: { host, port: sentByPort, transport } };
  }
  const maddr = getParam(via.params, "maddr");
  if (typeof maddr === "string") {
    return { destination: { host: bareHost(maddr), port: via.port ?? 5060, transport } };
  }
  if (typeof via.rport === "number") {
    const host = via.received ?? bareHost(source.host);
    return { connection, destination: { host, port: via.rport, transport } };
  }
  if (via.received !== undefined) {
    return { connection, destination: { host: via.received, port: via.port ?? 5060, transport } };
  }
  return { connection, destination: { host: bareHost(via.host), port: sentByPort, transport } };
}
