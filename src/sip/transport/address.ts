/**
 * Address helpers shared by the transports: socket-form hosts, the connection index of RFC 3261
 * §18 (remote address, port and transport) and connection ids.
 */
import { formatIp, parseIp, unmapIp } from "../../config/ip_cidr.ts";
import { bareHost } from "../message/mod.ts";
import type { HostPort, TransportProto } from "./types.ts";

let lastConnectionId = 0;

/** A process-unique connection id. */
export function nextConnectionId(): number {
  return ++lastConnectionId;
}

/** The host as SIP writes it (RFC 3261 §25.1 `host`): IPv6 references in brackets. */
export function sipHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** Address family of an IP literal: 6 when it holds a colon, else 4. */
export function ipFamily(host: string): 4 | 6 {
  return bareHost(host).includes(":") ? 6 : 4;
}

/** An IP literal in canonical form (RFC 5952 for IPv6, unbracketed); names lower-cased. */
export function canonicalHost(host: string): string {
  const ip = parseIp(host);
  return ip ? formatIp(ip) : bareHost(host).toLowerCase();
}

/**
 * The connection index of RFC 3261 §18: far-end address, port and transport, with the address
 * canonical so that `[2001:DB8::1]` and `2001:db8:0::1` find the same connection.
 */
export function connectionKey(transport: TransportProto, remote: HostPort): string {
  return `${transport}|${canonicalHost(remote.host)}|${remote.port}`;
}

/**
 * An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack `::` socket reports for
 * IPv4 peers) as plain IPv4, so Via `received` and connection keys use one form; others unchanged.
 */
export function unmapHost(host: string): string {
  if (!host.includes(".") || !host.includes(":")) return host;
  const ip = parseIp(host);
  return ip && ip.family === 6 && unmapIp(ip).family === 4 ? formatIp(unmapIp(ip)) : host;
}
