/**
 * The Via header field (RFC 3261 §20.42, §18.2.1; RFC 3581 rport; RFC 5118 §4.5 IPv6
 * `received`): sent-protocol, sent-by and parameters, with branch, received and rport lifted out.
 */
import { isToken } from "./_chars.ts";
import { attempt, Cursor, fail } from "./_cursor.ts";
import { formatHostPort, isIPv4, isIPv6, isValidHost, parsePort } from "./host.ts";
import { formatParams, getParam, type Param, type Parsed, readGenericParams } from "./params.ts";

/** The RFC 3261 §8.1.1.7 magic cookie that starts every RFC 3261 branch. */
export const BRANCH_MAGIC_COOKIE = "z9hG4bK";

/**
 * One Via value. `host` keeps IPv6 brackets; `params` is the full ordered list (the source of
 * truth on the wire); `branch`, `received` (without brackets) and `rport` (`true` when present
 * without a value) are read from it.
 */
export interface Via {
  /** Protocol name, `SIP`. */
  readonly protocol: string;
  /** Protocol version, `2.0`. */
  readonly version: string;
  /** Transport as written (`UDP`, `TCP`, `TLS`, `WS`, …); compare case-insensitively. */
  readonly transport: string;
  /** sent-by host: hostname, IPv4 or bracketed IPv6. */
  readonly host: string;
  /** sent-by port, when written. */
  readonly port?: number;
  /** All parameters in order, values raw. */
  readonly params: readonly Param[];
  /** Transaction id (RFC 3261 §17.2.3). */
  readonly branch?: string;
  /** Source address stamped by the receiver (RFC 3261 §18.2.1), without brackets. */
  readonly received?: string;
  /** Source port (RFC 3581), or `true` when requested but not yet filled in. */
  readonly rport?: number | true;
}

/** Fields for `via()`. */
export interface ViaInit {
  /** Transport, e.g. `UDP`. */
  readonly transport: string;
  /** sent-by host. */
  readonly host: string;
  /** sent-by port. */
  readonly port?: number;
  /** Parameters, `branch` first by convention. */
  readonly params: readonly Param[];
  /** Protocol name (default `SIP`). */
  readonly protocol?: string;
  /** Protocol version (default `2.0`). */
  readonly version?: string;
}

/**
 * Build a `Via`, deriving `branch`/`received`/`rport` from `params`; throws `TypeError` when a
 * well-known parameter is malformed (a bug in the caller, not a wire error).
 */
export function via(init: ViaInit): Via {
  const r = attempt(() => finishVia(init));
  if (!r.ok) throw new TypeError(`Cannot build Via header: ${r.error}`);
  return r.value;
}

function finishVia(init: ViaInit): Via {
  const v: { -readonly [K in keyof Via]: Via[K] } = {
    protocol: init.protocol ?? "SIP",
    version: init.version ?? "2.0",
    transport: init.transport,
    host: init.host,
    params: init.params,
  };
  if (!isToken(v.protocol) || !isToken(v.version) || !isToken(v.transport)) {
    fail("malformed sent-protocol");
  }
  if (!isValidHost(v.host)) fail("invalid sent-by host");
  if (init.port !== undefined) v.port = init.port;
  const branch = getParam(init.params, "branch");
  if (branch !== undefined) {
    if (branch === null || !isToken(branch)) fail("malformed branch");
    v.branch = branch;
  }
  const received = getParam(init.params, "received");
  if (received !== undefined) {
    const bare = received !== null && received.startsWith("[") && received.endsWith("]")
      ? received.slice(1, -1)
      : received;
    if (bare === null || !(isIPv4(bare) || isIPv6(bare))) fail("malformed received");
    v.received = bare;
  }
  const rport = getParam(init.params, "rport");
  if (rport !== undefined) {
    if (rport === null) v.rport = true;
    else {
      const port = parsePort(rport);
      if (port === undefined) fail("malformed rport");
      v.rport = port;
    }
  }
  const ttl = getParam(init.params, "ttl");
  if (ttl !== undefined && (ttl === null || !/^\d{1,3}$/.test(ttl) || Number(ttl) > 255)) {
    fail("malformed ttl");
  }
  const maddr = getParam(init.params, "maddr");
  if (maddr !== undefined && (maddr === null || !isValidHost(maddr))) fail("malformed maddr");
  return v;
}

function readSentProtocol(cur: Cursor): [string, string, string] {
  const protocol = cur.token("sent-protocol");
  if (!cur.eatSep(47)) fail("malformed sent-protocol");
  const version = cur.token("protocol version");
  if (!cur.eatSep(47)) fail("malformed sent-protocol");
  const transport = cur.token("transport");
  return [protocol, version, transport];
}

function readSentBy(cur: Cursor): [string, number | undefined] {
  if (cur.skipWs() === 0) fail("missing sent-by");
  let host: string;
  if (cur.peek() === 91) {
    const close = cur.text.indexOf("]", cur.pos);
    if (close < 0) fail("unterminated IPv6 reference");
    host = cur.text.slice(cur.pos, close + 1);
    cur.pos = close + 1;
  } else {
    const start = cur.pos;
    while (!cur.done && !":; \t".includes(cur.text[cur.pos])) cur.pos++;
    host = cur.text.slice(start, cur.pos);
  }
  if (host.length === 0) fail("missing sent-by");
  if (!isValidHost(host)) fail("invalid sent-by host");
  let port: number | undefined;
  if (cur.eatSep(58)) {
    port = parsePort(digits(cur));
    if (port === undefined) fail("invalid sent-by port");
  }
  return [host, port];
}

function digits(cur: Cursor): string {
  const start = cur.pos;
  while (!cur.done && cur.peek() >= 48 && cur.peek() <= 57) cur.pos++;
  return cur.text.slice(start, cur.pos);
}

/**
 * Internal: read one via-parm (`sent-protocol LWS sent-by *( SEMI via-params )`), or throw a
 * `SyntaxFault`. SWS is allowed around "/", ":", ";" and "=" (RFC 4475 §3.1.1.1).
 */
export function readVia(text: string): Via {
  const cur = new Cursor(text);
  cur.skipWs();
  const [protocol, version, transport] = readSentProtocol(cur);
  const [host, port] = readSentBy(cur);
  const params = readGenericParams(cur);
  cur.end("Via");
  return finishVia({ protocol, version, transport, host, port, params });
}

/** Parse one Via value (RFC 3261 §20.42). */
export function parseVia(text: string): Parsed<Via> {
  return attempt(() => readVia(text));
}

/**
 * Salvage what a response needs from a Via that failed to parse (RFC 3261 §18.2.2: the
 * transport and sent-by), dropping parameters; `undefined` when even that is unreadable.
 */
export function salvageVia(text: string): Via | undefined {
  const r = attempt(() => {
    const cur = new Cursor(text);
    cur.skipWs();
    const [protocol, version, transport] = readSentProtocol(cur);
    const [host, port] = readSentBy(cur);
    return finishVia({ protocol, version, transport, host, port, params: [] });
  });
  return r.ok ? r.value : undefined;
}

/** Write a Via value: `SIP/2.0/UDP host:port;params`. */
export function formatVia(v: Via): string {
  const sentBy = formatHostPort(v.host, v.port);
  return `${v.protocol}/${v.version}/${v.transport} ${sentBy}${formatParams(v.params)}`;
}

/** A copy of `v` with parameter `name` set (e.g. `received`, `rport` per RFC 3581 §4). */
export function withViaParam(v: Via, name: string, value: string | null): Via {
  const lower = name.toLowerCase();
  const params = v.params.map((p) => p.name.toLowerCase() === lower ? { name: p.name, value } : p);
  if (!params.some((p) => p.name.toLowerCase() === lower)) params.push({ name, value });
  return via({ ...v, params });
}

/**
 * Whether `branch` was made by an RFC 3261 element: the magic cookie and at least one more
 * character (RFC 3261 §17.2.3; RFC 4475 §3.2.1 sends the bare cookie).
 */
export function isRfc3261Branch(branch: string | undefined): boolean {
  return branch !== undefined && branch.length > BRANCH_MAGIC_COOKIE.length &&
    branch.startsWith(BRANCH_MAGIC_COOKIE);
}
