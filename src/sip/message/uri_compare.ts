/**
 * URI equivalence: RFC 3261 §19.1.4 for SIP and SIPS URIs, RFC 3966 §4 for tel URIs.
 * Components are compared after unescaping, which the parsed form already is.
 */
import { hostsEqual } from "./host.ts";
import type { Param } from "./params.ts";
import type { SipUri, TelUri, Uri } from "./uri.ts";

/** RFC 3261 §19.1.4: these parameters never match when present in only one URI. */
const MUST_MATCH = ["user", "ttl", "method", "maddr"];

function lowerValue(v: string | null | undefined): string | null | undefined {
  return typeof v === "string" ? v.toLowerCase() : v;
}

function paramMap(params: readonly Param[]): Map<string, string | null> {
  const map = new Map<string, string | null>();
  for (const p of params) {
    const key = p.name.toLowerCase();
    if (!map.has(key)) map.set(key, p.value);
  }
  return map;
}

function sipUrisEqual(a: SipUri, b: SipUri): boolean {
  // Scheme, then userinfo (case-sensitive), then host and port (a default port written out
  // does not match an omitted one).
  if (a.scheme !== b.scheme) return false;
  if (a.user !== b.user || a.password !== b.password) return false;
  if (!hostsEqual(a.host, b.host) || a.port !== b.port) return false;
  const pa = paramMap(a.params);
  const pb = paramMap(b.params);
  for (const name of MUST_MATCH) if (pa.has(name) !== pb.has(name)) return false;
  for (const [name, value] of pa) {
    if (!pb.has(name)) continue;
    const other = pb.get(name);
    if (name === "maddr" && typeof value === "string" && typeof other === "string") {
      if (!hostsEqual(value, other)) return false;
    } else if (lowerValue(value) !== lowerValue(other)) return false;
  }
  // Headers are never ignored: each must be present in both and match.
  if (a.headers.length !== b.headers.length) return false;
  const hb = b.headers.map((h) => ({ name: h.name.toLowerCase(), value: h.value, used: false }));
  for (const h of a.headers) {
    const hit = hb.find((x) => !x.used && x.name === h.name.toLowerCase() && x.value === h.value);
    if (!hit) return false;
    hit.used = true;
  }
  return true;
}

function telDigits(n: string): string {
  return n.replace(/[\-.()]/g, "").toLowerCase();
}

function telUrisEqual(a: TelUri, b: TelUri): boolean {
  // RFC 3966 §4: visual separators are ignored; parameters compare as a set.
  if (telDigits(a.number) !== telDigits(b.number)) return false;
  const pa = paramMap(a.params);
  const pb = paramMap(b.params);
  if (pa.size !== pb.size) return false;
  for (const [name, value] of pa) {
    if (!pb.has(name)) return false;
    const other = pb.get(name);
    const fold = name === "phone-context" || name === "ext" || name === "isub";
    if (fold ? lowerValue(value) !== lowerValue(other) : value !== other) return false;
  }
  return true;
}

/**
 * Whether two URIs are equivalent: RFC 3261 §19.1.4 for SIP/SIPS (userinfo case-sensitive,
 * host case-insensitive, `user`/`ttl`/`method`/`maddr` must match, other parameters only when
 * in both, headers always), RFC 3966 §4 for tel, and exact text for other schemes.
 */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.kind === "sip" && b.kind === "sip") return sipUrisEqual(a, b);
  if (a.kind === "tel" && b.kind === "tel") return telUrisEqual(a, b);
  if (a.kind === "other" && b.kind === "other") {
    return a.scheme.toLowerCase() === b.scheme.toLowerCase() && a.value === b.value;
  }
  return false;
}
