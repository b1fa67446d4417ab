/**
 * Address checks shared by the parser and the builders: which family a literal belongs to, and
 * whether a `c=` address is the RFC 2543-style "do not send to me" null address.
 */

import type { AddressFamily } from "./types.ts";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;
// RFC 8866 §9 `FQDN`: letters, digits, hyphens and dots; at least 4 characters in the grammar,
// relaxed here to one label because lab setups use single-label host names.
const HOSTNAME =
  /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;

/** True for a dotted-quad IPv4 literal. */
export function isIpv4(s: string): boolean {
  return IPV4.test(s);
}

/** True for an IPv6 literal (RFC 4291 §2.2 text forms, including an embedded IPv4 tail). */
export function isIpv6(s: string): boolean {
  if (!s.includes(":") || !IPV6_CHARS.test(s)) return false;
  try {
    // The WHATWG URL parser implements the RFC 4291 grammar exactly; reuse it, not a regex.
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}

/** True for a syntactically valid host name (not an IP literal). */
export function isHostname(s: string): boolean {
  return s.length <= 253 && HOSTNAME.test(s) && !/^[\d.]+$/.test(s);
}

/** Whether `address` may appear after `IN <family>` (a literal of that family or an FQDN). */
export function isValidAddress(family: AddressFamily, address: string): boolean {
  return family === "IP4"
    ? isIpv4(address) || isHostname(address)
    : isIpv6(address) || isHostname(address);
}

/** The family of an IP literal, or undefined for anything else. */
export function familyOf(address: string): AddressFamily | undefined {
  if (isIpv4(address)) return "IP4";
  if (isIpv6(address)) return "IP6";
  return undefined;
}

/**
 * RFC 3264 §8.4: an older (RFC 2543) way to put a stream on hold is `c=IN IP4 0.0.0.0`. Some
 * IPv6 stacks send the unspecified address `::` with the same intent.
 */
export function isNullAddress(address: string): boolean {
  return address === "0.0.0.0" || address === "::";
}
