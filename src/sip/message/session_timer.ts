/**
 * Session timer header fields (RFC 4028 §4): Session-Expires (compact `x`) with its refresher,
 * and Min-SE.
 */
import { unquote } from "./_chars.ts";
import { attempt, Cursor, fail } from "./_cursor.ts";
import { formatParams, getParam, type Param, type Parsed, readGenericParams } from "./params.ts";
import { readDeltaSeconds } from "./scalar_headers.ts";

/** Min-SE (RFC 4028 §5): the smallest acceptable session interval, with any parameters. */
export interface MinSe {
  /** Interval in seconds. */
  readonly seconds: number;
  /** All parameters in order, values raw. */
  readonly params: readonly Param[];
}

/** Session-Expires (RFC 4028 §4): interval, who refreshes, and all parameters in order. */
export interface SessionExpires extends MinSe {
  /** Who refreshes the session, from the `refresher` parameter. */
  readonly refresher?: "uac" | "uas";
}

function readSecondsAndParams(text: string): MinSe {
  const cur = new Cursor(text);
  cur.skipWs();
  const start = cur.pos;
  while (!cur.done && cur.peek() >= 48 && cur.peek() <= 57) cur.pos++;
  const seconds = readDeltaSeconds(text.slice(start, cur.pos));
  const params = readGenericParams(cur);
  cur.end("session timer");
  return { seconds, params };
}

/** Internal: read Session-Expires, or throw a `SyntaxFault`. */
export function readSessionExpires(text: string): SessionExpires {
  const { seconds, params } = readSecondsAndParams(text);
  const refresher = getParam(params, "refresher");
  if (refresher === undefined) return { seconds, params };
  const who = refresher === null ? "" : unquote(refresher).toLowerCase();
  if (who !== "uac" && who !== "uas") fail("malformed refresher");
  return { seconds, params, refresher: who };
}

/** Internal: read Min-SE, or throw a `SyntaxFault`. */
export function readMinSe(text: string): MinSe {
  return readSecondsAndParams(text);
}

/** Parse a Session-Expires value such as `1800;refresher=uac` (RFC 4028 §4). */
export function parseSessionExpires(text: string): Parsed<SessionExpires> {
  return attempt(() => readSessionExpires(text));
}

/** Parse a Min-SE value (RFC 4028 §5). */
export function parseMinSe(text: string): Parsed<MinSe> {
  return attempt(() => readMinSe(text));
}

/** Build a Session-Expires value, writing the refresher as a parameter. */
export function sessionExpires(seconds: number, refresher?: "uac" | "uas"): SessionExpires {
  return refresher === undefined
    ? { seconds, params: [] }
    : { seconds, params: [{ name: "refresher", value: refresher }], refresher };
}

/** Write a Session-Expires or Min-SE value. */
export function formatSessionTimer(v: MinSe): string {
  return `${v.seconds}${formatParams(v.params)}`;
}
