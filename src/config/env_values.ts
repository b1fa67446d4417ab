/**
 * Pure parsers for the value shapes environment variables use (booleans, integers, listen
 * addresses, Go durations, codec lists). Each returns null on malformed input; `config.ts` turns
 * that into a ConfigError naming the variable.
 */
import { parseIp } from "./ip_cidr.ts";
import type { ListenAddr, SipCodecName } from "./types.ts";

// Maps, not object literals: a key such as "constructor" must not resolve through the prototype.
const BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ["true", true],
  ["false", false],
  ["1", true],
  ["0", false],
  ["yes", true],
  ["no", false],
  ["on", true],
  ["off", false],
]);

/** Parses true/false, 1/0, yes/no or on/off (any case); null for anything else. */
export function parseBool(s: string): boolean | null {
  return BOOLEANS.get(s.toLowerCase()) ?? null;
}

/** Parses a base-10 integer with an optional minus sign; null for anything else. */
export function parseDecimalInt(s: string): number | null {
  if (!/^-?[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** Parses a plain decimal number such as `0.5`, `.25` or `1`; null for anything else. */
export function parseDecimal(s: string): number | null {
  return /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/.test(s) ? Number(s) : null;
}

const HOST_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const HOSTNAME = new RegExp(`^${HOST_LABEL}(?:\\.${HOST_LABEL})*$`);

/**
 * Parses a Go-style listen address: `:8080` (all interfaces), `host:8080`, `1.2.3.4:8080` or
 * `[::1]:8080`, with a port of 0-65535. Null when malformed.
 */
export function parseListenAddr(s: string): ListenAddr | null {
  let host: string;
  let portText: string;
  if (s.startsWith("[")) {
    const end = s.indexOf("]:");
    if (end === -1) return null;
    host = s.slice(1, end);
    portText = s.slice(end + 2);
    if (parseIp(host)?.family !== 6) return null;
  } else {
    const colon = s.lastIndexOf(":");
    if (colon === -1) return null;
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    // An unbracketed IPv6 host is ambiguous with the port separator, as in Go's net.SplitHostPort.
    if (host.includes(":")) return null;
    if (host !== "") {
      const numeric = /^[0-9.]+$/.test(host);
      if (numeric ? parseIp(host) === null : !HOSTNAME.test(host)) return null;
    }
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port > 65535) return null;
  return host === "" ? { port } : { hostname: host, port };
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION_TERM = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/;

/**
 * Parses a Go `time.ParseDuration` string (`6h`, `1h30m`, `1.5s`, `-2m`, `0`) into milliseconds,
 * rounded to the nearest millisecond. Null when malformed.
 */
export function parseGoDuration(s: string): number | null {
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") return null;
  let total = 0;
  while (rest !== "") {
    const m = DURATION_TERM.exec(rest);
    if (!m) return null;
    total += Number(m[1]) * DURATION_UNIT_MS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}

const CODEC_NAMES: ReadonlyMap<string, SipCodecName> = new Map([
  ["pcmu", "PCMU"],
  ["pcma", "PCMA"],
  ["g722", "G722"],
  ["opus", "opus"],
  ["amr-wb", "AMR-WB"],
  ["amr-nb", "AMR-NB"],
  // RFC 4867 §8.1: the media subtype "AMR" is the narrowband codec.
  ["amr", "AMR-NB"],
]);

/**
 * Parses a comma list of SIP codec names (any case) into canonical names in preference order,
 * silently dropping unknown names and repeats. May return an empty list.
 */
export function parseSipCodecs(s: string): SipCodecName[] {
  const out: SipCodecName[] = [];
  for (const entry of s.split(",")) {
    const name = CODEC_NAMES.get(entry.trim().toLowerCase());
    if (name !== undefined && !out.includes(name)) out.push(name);
  }
  return out;
}

/** Splits a comma list, trimming entries and dropping empty ones. */
export function parseList(s: string): string[] {
  return s.split(",").map((e) => e.trim()).filter((e) => e !== "");
}
