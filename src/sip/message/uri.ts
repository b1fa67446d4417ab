/**
 * URIs in SIP messages: `sip:`/`sips:` (RFC 3261 §19.1), `tel:` (RFC 3966) and any other
 * absoluteURI kept opaque (RFC 3261 §25.1, for a 416 by the application). Components are stored
 * unescaped and re-escaped canonically on output.
 */
import {
  escapeComponent,
  HNV,
  isIn,
  PARAM,
  PASSWORD,
  unescapeComponent,
  URIC,
  USER,
} from "./_chars.ts";
import { attempt, fail } from "./_cursor.ts";
import { formatHostPort, isValidHost, parsePort } from "./host.ts";
import { getParam, type Param, type Parsed } from "./params.ts";

/**
 * A SIP or SIPS URI (RFC 3261 §19.1.1). `host` keeps IPv6 brackets; `user`, `password`,
 * parameters and headers are unescaped; a flag parameter such as `lr` has value `null`.
 */
export interface SipUri {
  /** Discriminant of `Uri`. */
  readonly kind: "sip";
  /** `sips` asks for TLS on every hop (RFC 3261 §19.1). */
  readonly scheme: "sip" | "sips";
  /** User part, unescaped. */
  readonly user?: string;
  /** Password, unescaped (NOT RECOMMENDED by RFC 3261 §19.1.1). */
  readonly password?: string;
  /** Hostname, IPv4 address or bracketed IPv6 reference. */
  readonly host: string;
  /** Port, when written. */
  readonly port?: number;
  /** URI parameters in order (`transport`, `lr`, `maddr`, `user`, …), unescaped. */
  readonly params: readonly Param[];
  /** The `?name=value&…` headers component (RFC 3261 §19.1.1), values unescaped. */
  readonly headers: readonly Param[];
}

/** A `tel:` URI (RFC 3966 §3): the number as written and its parameters. */
export interface TelUri {
  /** Discriminant of `Uri`. */
  readonly kind: "tel";
  /** Always `tel`. */
  readonly scheme: "tel";
  /** Global (`+…`) or local number, visual separators kept. */
  readonly number: string;
  /** Parameters such as `phone-context` and `ext`, unescaped. */
  readonly params: readonly Param[];
}

/** Any other absoluteURI (RFC 3261 §25.1), kept opaque; the application answers 416. */
export interface OtherUri {
  /** Discriminant of `Uri`. */
  readonly kind: "other";
  /** Scheme as written. */
  readonly scheme: string;
  /** Everything after `scheme:`. */
  readonly value: string;
}

/** A URI as found in a Request-URI or an address header. */
export type Uri = SipUri | TelUri | OtherUri;

const SCHEME = /^([A-Za-z][A-Za-z0-9+.\-]*):/;

/** Parse a URI; components may not contain whitespace (RFC 3261 §25.1). */
export function parseUri(text: string): Parsed<Uri> {
  return attempt(() => readUri(text));
}

/**
 * Parse a Request-URI (RFC 3261 §19.1.1 Table 1): a SIP URI there may not carry headers, as
 * RFC 4475 §3.1.2.11 tests.
 */
export function parseRequestUri(text: string): Parsed<Uri> {
  return attempt(() => readRequestUri(text));
}

/** Internal: parse a Request-URI or throw a `SyntaxFault`. */
export function readRequestUri(text: string): Uri {
  const uri = readUri(text);
  if (uri.kind === "sip" && uri.headers.length > 0) {
    fail("headers are not allowed in a Request-URI");
  }
  return uri;
}

/** Internal: parse a URI or throw a `SyntaxFault`. */
export function readUri(text: string): Uri {
  const m = SCHEME.exec(text);
  if (!m) fail("missing URI scheme");
  const scheme = m[1].toLowerCase();
  const rest = text.slice(m[0].length);
  if (scheme === "sip" || scheme === "sips") return readSipUri(scheme, rest);
  if (scheme === "tel") return readTelUri(rest);
  if (rest.length === 0) fail("empty URI");
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c < 128 && !isIn(c, URIC)) fail("invalid character in URI");
  }
  return { kind: "other", scheme: m[1], value: rest };
}

function decode(s: string, flag: number, what: string): string {
  const v = unescapeComponent(s, flag);
  if (v === undefined) fail(`invalid character in URI ${what}`);
  return v;
}

function readUriParams(text: string): Param[] {
  const params: Param[] = [];
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    const name = decode(eq < 0 ? part : part.slice(0, eq), PARAM, "parameter");
    if (name.length === 0) fail("empty URI parameter");
    params.push({ name, value: eq < 0 ? null : decode(part.slice(eq + 1), PARAM, "parameter") });
  }
  return params;
}

function readSipUri(scheme: "sip" | "sips", rest: string): SipUri {
  // RFC 3261 §25.1: "@" cannot appear in host, parameters or headers, so the first one ends
  // the userinfo (which may itself hold ";" and "?", RFC 4475 §3.1.1.9).
  const at = rest.indexOf("@");
  let user: string | undefined;
  let password: string | undefined;
  let hp = rest;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(":");
    const rawUser = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (rawUser.length === 0) fail("empty user in URI");
    user = decode(rawUser, USER, "user");
    if (colon >= 0) password = decode(userinfo.slice(colon + 1), PASSWORD, "password");
    hp = rest.slice(at + 1);
  }
  let i = 0;
  let host: string;
  if (hp.startsWith("[")) {
    const close = hp.indexOf("]");
    if (close < 0) fail("unterminated IPv6 reference");
    host = hp.slice(0, close + 1);
    i = close + 1;
  } else {
    while (i < hp.length && !":;?".includes(hp[i])) i++;
    host = hp.slice(0, i);
  }
  if (!isValidHost(host)) fail(host.length === 0 ? "missing host in URI" : "invalid host in URI");
  let port: number | undefined;
  if (hp[i] === ":") {
    let j = i + 1;
    while (j < hp.length && hp[j] !== ";" && hp[j] !== "?") j++;
    port = parsePort(hp.slice(i + 1, j));
    if (port === undefined) fail("invalid port in URI");
    i = j;
  }
  let params: Param[] = [];
  if (hp[i] === ";") {
    const q = hp.indexOf("?", i);
    const end = q < 0 ? hp.length : q;
    params = readUriParams(hp.slice(i + 1, end));
    i = end;
  }
  const headers: Param[] = [];
  if (hp[i] === "?") {
    for (const part of hp.slice(i + 1).split("&")) {
      const eq = part.indexOf("=");
      if (eq <= 0) fail("malformed URI header");
      headers.push({
        name: decode(part.slice(0, eq), HNV, "header"),
        value: decode(part.slice(eq + 1), HNV, "header"),
      });
    }
  } else if (i < hp.length) fail("invalid character in URI");
  return sipUri({ scheme, user, password, host, port, params, headers });
}

const TEL_NUMBER =
  /^(\+[0-9\-.()]*[0-9][0-9\-.()]*|[0-9A-Fa-f*#\-.()]*[0-9A-Fa-f*#][0-9A-Fa-f*#\-.()]*)$/;

function readTelUri(rest: string): TelUri {
  const semi = rest.indexOf(";");
  const number = semi < 0 ? rest : rest.slice(0, semi);
  if (!TEL_NUMBER.test(number)) fail("invalid telephone number");
  const params = semi < 0 ? [] : readUriParams(rest.slice(semi + 1));
  return { kind: "tel", scheme: "tel", number, params };
}

/** Fields for `sipUri()`; absent optional fields stay absent on the result. */
export interface SipUriInit {
  /** `sip` (default) or `sips`. */
  readonly scheme?: "sip" | "sips";
  /** User part, unescaped. */
  readonly user?: string;
  /** Password, unescaped. */
  readonly password?: string;
  /** Hostname, IPv4 address or bracketed IPv6 reference. */
  readonly host: string;
  /** Port. */
  readonly port?: number;
  /** URI parameters, unescaped. */
  readonly params?: readonly Param[];
  /** URI headers, unescaped. */
  readonly headers?: readonly Param[];
}

/** Build a `SipUri` (scheme defaults to `sip`), leaving unset optional fields absent. */
export function sipUri(init: SipUriInit): SipUri {
  const uri: { -readonly [K in keyof SipUri]: SipUri[K] } = {
    kind: "sip",
    scheme: init.scheme ?? "sip",
    host: init.host,
    params: init.params ?? [],
    headers: init.headers ?? [],
  };
  if (init.user !== undefined) uri.user = init.user;
  if (init.password !== undefined) uri.password = init.password;
  if (init.port !== undefined) uri.port = init.port;
  return uri;
}

function formatUriParams(params: readonly Param[]): string {
  let out = "";
  for (const p of params) {
    out += ";" + escapeComponent(p.name, PARAM);
    if (p.value !== null) out += "=" + escapeComponent(p.value, PARAM);
  }
  return out;
}

/** Write a URI with canonical %-escaping (RFC 3261 §19.1.2); `parseUri` reads it back equal. */
export function formatUri(uri: Uri): string {
  switch (uri.kind) {
    case "other":
      return `${uri.scheme}:${uri.value}`;
    case "tel":
      return `tel:${uri.number}${formatUriParams(uri.params)}`;
    case "sip": {
      let out = uri.scheme + ":";
      if (uri.user !== undefined) {
        out += escapeComponent(uri.user, USER);
        if (uri.password !== undefined) out += ":" + escapeComponent(uri.password, PASSWORD);
        out += "@";
      }
      out += formatHostPort(uri.host, uri.port) + formatUriParams(uri.params);
      if (uri.headers.length > 0) {
        out += "?" +
          uri.headers.map((h) =>
            `${escapeComponent(h.name, HNV)}=${escapeComponent(h.value ?? "", HNV)}`
          ).join("&");
      }
      return out;
    }
  }
}

/**
 * A URI parameter such as `transport`, `lr`, `maddr` (RFC 3261 §19.1.1): the string value,
 * `null` for a flag, `undefined` when absent or for schemes without parameters.
 */
export function uriParam(uri: Uri, name: string): string | null | undefined {
  return uri.kind === "other" ? undefined : getParam(uri.params, name);
}
