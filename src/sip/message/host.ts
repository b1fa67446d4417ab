/**
 * Hosts as SIP writes them (RFC 3261 §25.1 `host`): hostnames, IPv4 addresses and bracketed IPv6
 * references, validated per RFC 5118 (no bare IPv6, no `:::`).
 */
import { parseIp } from "../../config/ip_cidr.ts";
import { HOST, isIn } from "./_chars.ts";

/** Whether `s` is an IPv4address (RFC 3261 §25.1: four decimal octets, each at most 255). */
export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3) return false;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      if (c < 48 || c > 57) return false;
    }
    if (Number(p) > 255) return false;
  }
  return true;
}

/** Whether `s` is an IPv6address without brackets (RFC 3261 §25.1, RFC 5118 §4.8). */
export function isIPv6(s: string): boolean {
  if (s.indexOf(":") < 0 || s.indexOf("%") >= 0) return false;
  return parseIp(s)?.family === 6;
}

/** Whether `s` is a hostname (RFC 3261 §25.1; `_` tolerated): labels of alphanum and `-`. */
export function isHostname(s: string): boolean {
  const body = s.endsWith(".") ? s.slice(0, -1) : s;
  if (body.length === 0 || body.length > 255) return false;
  const labels = body.split(".");
  for (const label of labels) {
    if (label.length === 0 || label.length > 63) return false;
    for (let i = 0; i < label.length; i++) if (!isIn(label.charCodeAt(i), HOST)) return false;
    if (label.charCodeAt(0) === 45 || label.charCodeAt(label.length - 1) === 45) return false;
  }
  // toplabel starts with ALPHA; an all-numeric name must be a dotted quad.
  const top = labels[labels.length - 1].charCodeAt(0);
  if (top >= 48 && top <= 57) return isIPv4(body);
  return true;
}

/** Whether `s` is a valid `host`: hostname, IPv4address or `[` IPv6address `]`. */
export function isValidHost(s: string): boolean {
  if (s.startsWith("[")) return s.endsWith("]") && isIPv6(s.slice(1, -1));
  return isHostname(s);
}

/** Whether `host` is an IP literal (IPv4 or bracketed IPv6). */
export function isIpLiteral(host: string): boolean {
  return host.startsWith("[") || isIPv4(host);
}

/** The host without IPv6 brackets, as a socket API wants it. */
export function bareHost(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/**
 * Host comparison: case-insensitive for names (RFC 3261 §19.1.4), by address for IP literals
 * so that `[2001:DB8::1]` equals `[2001:db8:0::1]`.
 */
export function hostsEqual(a: string, b: string): boolean {
  if (a.toLowerCase() === b.toLowerCase()) return true;
  if (!isIpLiteral(a) || !isIpLiteral(b)) return false;
  const x = parseIp(bareHost(a));
  const y = parseIp(bareHost(b));
  if (!x || !y || x.family !== y.family) return false;
  for (let i = 0; i < x.bytes.length; i++) if (x.bytes[i] !== y.bytes[i]) return false;
  return true;
}

/** Parse a `port` (1*DIGIT, at most 65535); `undefined` when invalid. */
export function parsePort(s: string): number | undefined {
  if (s.length === 0 || s.length > 5) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

/** `host[:port]` as written in URIs and Via sent-by. */
export function formatHostPort(host: string, port?: number): string {
  return port === undefined ? host : `${host}:${port}`;
}
