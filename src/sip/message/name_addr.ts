/**
 * Addresses of From, To, Contact, Route and Record-Route (RFC 3261 §20.10, §25.1 `name-addr` /
 * `addr-spec`): an optional display name, a URI and header parameters such as `;tag=`.
 */
import { isIn, quote, TOKEN, unquote } from "./_chars.ts";
import { attempt, Cursor, fail } from "./_cursor.ts";
import { formatParams, getParam, type Param, type Parsed, readGenericParams } from "./params.ts";
import { parseDeltaSeconds } from "./scalar_headers.ts";
import { formatUri, readUri, type Uri } from "./uri.ts";

/**
 * An address (RFC 3261 §20.10). `displayName` is unquoted and unescaped (absent when none was
 * given); `params` are the header parameters after the address, values raw (quotes kept).
 */
export interface NameAddr {
  /** Display name, unquoted; absent when none was written. */
  readonly displayName?: string;
  /** The address. */
  readonly uri: Uri;
  /** Header parameters (`tag`, `expires`, `q`, …) in order, values raw. */
  readonly params: readonly Param[];
}

/** A Contact value: an address, or `*` to remove all bindings (RFC 3261 §10.2.2, §20.10). */
export type Contact = NameAddr | "*";

/** Fields for `nameAddr()`. */
export interface NameAddrInit {
  /** Display name, unquoted. */
  readonly displayName?: string;
  /** The address. */
  readonly uri: Uri;
  /** Header parameters, values raw (quote them yourself). */
  readonly params?: readonly Param[];
}

/** Build a `NameAddr`, leaving an unset display name absent. */
export function nameAddr(init: NameAddrInit): NameAddr {
  const na: { -readonly [K in keyof NameAddr]: NameAddr[K] } = {
    uri: init.uri,
    params: init.params ?? [],
  };
  if (init.displayName !== undefined) na.displayName = init.displayName;
  return na;
}

function isDisplayTokens(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && !isIn(c, TOKEN)) return false;
  }
  return true;
}

/**
 * Internal: read `( name-addr / addr-spec ) *( SEMI generic-param )`, or throw a `SyntaxFault`.
 * `bracketsRequired` enforces name-addr (Route, Record-Route: RFC 3261 §25.1).
 */
export function readNameAddr(text: string, bracketsRequired = false): NameAddr {
  const cur = new Cursor(text);
  cur.skipWs();
  let displayName: string | undefined;
  let bracketed = false;
  if (cur.peek() === 34) {
    displayName = unquote(cur.quotedRaw());
    cur.skipWs();
    if (cur.peek() !== 60) fail("expected <URI> after the display name");
    bracketed = true;
  } else {
    const lt = text.indexOf("<", cur.pos);
    if (lt >= 0 && isDisplayTokens(text.slice(cur.pos, lt))) {
      // display-name = *(token LWS); RFC 4475 §3.1.1.6 allows no LWS before "<".
      const words = text.slice(cur.pos, lt).trim();
      if (words.length > 0) displayName = words.split(/[ \t]+/).join(" ");
      cur.pos = lt;
      bracketed = true;
    }
  }
  let uri: Uri;
  if (bracketed) {
    cur.pos++;
    const gt = text.indexOf(">", cur.pos);
    if (gt < 0) fail("missing > after URI");
    const inner = text.slice(cur.pos, gt);
    // RFC 4475 §3.1.2.14: no whitespace inside <…>.
    if (/[ \t]/.test(inner)) fail("whitespace inside <URI>");
    uri = readUri(inner);
    cur.pos = gt + 1;
  } else {
    if (bracketsRequired) fail("expected <URI>");
    const start = cur.pos;
    while (!cur.done && !";, \t".includes(text[cur.pos])) cur.pos++;
    const spec = text.slice(start, cur.pos);
    if (spec.length === 0) fail("missing URI");
    // RFC 3261 §20: a URI with headers (or ";" / ",") must be written as <URI>
    // (RFC 4475 §3.1.2.13).
    if (spec.includes("?")) fail("a URI with headers must be enclosed in <>");
    uri = readUri(spec);
  }
  const params = readGenericParams(cur);
  cur.end("address");
  return nameAddr({ displayName, uri, params });
}

/** Parse a From/To/Route-style address with its header parameters (RFC 3261 §20.10). */
export function parseNameAddr(text: string): Parsed<NameAddr> {
  return attempt(() => readNameAddr(text));
}

/** Internal: read one Contact value (`*` or an address), or throw a `SyntaxFault`. */
export function readContact(text: string): Contact {
  return text.trim() === "*" ? "*" : readNameAddr(text);
}

/** Parse one Contact value (RFC 3261 §20.10): `*` or an address with contact-params. */
export function parseContact(text: string): Parsed<Contact> {
  return attempt(() => readContact(text));
}

/** Write an address as `"Display" <uri>;params` (always name-addr form, so always safe). */
export function formatNameAddr(na: NameAddr): string {
  const name = na.displayName === undefined ? "" : quote(na.displayName) + " ";
  return `${name}<${formatUri(na.uri)}>${formatParams(na.params)}`;
}

/** Write one Contact value. */
export function formatContact(c: Contact): string {
  return c === "*" ? "*" : formatNameAddr(c);
}

/** The `tag` parameter of a From or To address (RFC 3261 §19.3), if any. */
export function tagOf(na: NameAddr | undefined): string | undefined {
  if (!na) return undefined;
  const v = getParam(na.params, "tag");
  return typeof v === "string" ? unquote(v) : undefined;
}

/**
 * The `expires` parameter of a Contact (RFC 3261 §10.2.1.1, §20.10); `undefined` for `*`, when
 * absent, or when malformed or above 2**32-1 (the registrar then applies its default).
 */
export function contactExpires(c: Contact): number | undefined {
  if (c === "*") return undefined;
  const v = getParam(c.params, "expires");
  return typeof v === "string" ? parseDeltaSeconds(unquote(v)) : undefined;
}

/** A copy of `na` whose `tag` parameter is `tag` (RFC 3261 §8.2.6.2). */
export function withTag(na: NameAddr, tag: string): NameAddr {
  const params = na.params.filter((p) => p.name.toLowerCase() !== "tag");
  params.push({ name: "tag", value: tag });
  return { ...na, params };
}
