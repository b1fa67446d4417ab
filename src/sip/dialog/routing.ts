/**
 * Where a request goes: the next hop's URI (RFC 3261 §8.1.2, §12.2.1.1 loose and strict routing)
 * and the transport destination for it. Locating a server by DNS (RFC 3263) is the resolver's job;
 * the default one takes the URI literally.
 */
import {
  bareHost,
  type NameAddr,
  nameAddr,
  type SipUri,
  sipUri,
  type Uri,
  uriParam,
  withParam,
} from "../message/mod.ts";
import { defaultPort, type Destination, transportFromToken } from "../transport/mod.ts";

/** Turns a next-hop URI into an address, port and transport (RFC 3263 in a real deployment). */
export type Resolver = (uri: SipUri) => Destination | Promise<Destination>;

/**
 * The literal resolver: host as written, the URI's port or the transport default, the
 * `transport` parameter or TLS for `sips:` (RFC 3263 §4.1 without the DNS lookups).
 */
export function literalResolver(uri: SipUri): Destination {
  const param = uriParam(uri, "transport");
  let transport = typeof param === "string" ? transportFromToken(param) : undefined;
  if (transport === undefined) transport = uri.scheme === "sips" ? "tls" : "udp";
  return { host: bareHost(uri.host), port: uri.port ?? defaultPort(transport), transport };
}

/** Whether a route entry is a loose router (RFC 3261 §19.1.1 `lr`). */
export function isLooseRoute(route: NameAddr): boolean {
  return route.uri.kind === "sip" && uriParam(route.uri, "lr") !== undefined;
}

/** A Route entry for an outbound proxy, marked loose (RFC 3261 §8.1.2 pre-loaded route). */
export function outboundProxyRoute(proxy: SipUri): NameAddr {
  return nameAddr({ uri: { ...proxy, params: withParam(proxy.params, "lr", null) } });
}

/**
 * The parameters RFC 3261 §19.1.1 Table 1 forbids in a Request-URI (`method`) and the URI headers
 * are stripped when a strict router's URI becomes the Request-URI (§12.2.1.1).
 */
export function asRequestUri(uri: Uri): Uri {
  if (uri.kind !== "sip") return uri;
  return sipUri({
    ...uri,
    params: uri.params.filter((p) => p.name.toLowerCase() !== "method"),
    headers: [],
  });
}

/** Narrows a URI to SIP/SIPS, or throws: only those can be a next hop for us. */
export function sipOnly(uri: Uri, what: string): SipUri {
  if (uri.kind !== "sip") throw new TypeError(`Cannot route to ${what}: not a SIP URI`);
  return uri;
}
