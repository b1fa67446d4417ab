/**
 * Media types of Content-Type (RFC 3261 §20.15, compact `c`): `type/subtype;params`.
 */
import { attempt, Cursor, fail } from "./_cursor.ts";
import { formatParams, getParam, type Param, type Parsed, readGenericParams } from "./params.ts";
import { unquote } from "./_chars.ts";

/** A media type; names compare case-insensitively, parameter values are kept raw. */
export interface MediaType {
  /** Top-level type, e.g. `application`. */
  readonly type: string;
  /** Subtype, e.g. `sdp`. */
  readonly subtype: string;
  /** Media type parameters such as `boundary`, values raw. */
  readonly params: readonly Param[];
}

/** Internal: read `m-type SLASH m-subtype *(SEMI m-parameter)`, or throw a `SyntaxFault`. */
export function readMediaType(text: string): MediaType {
  const cur = new Cursor(text);
  cur.skipWs();
  const type = cur.token("media type");
  if (!cur.eatSep(47)) fail("malformed media type");
  const subtype = cur.token("media subtype");
  const params = readGenericParams(cur);
  cur.end("media type");
  return { type, subtype, params };
}

/** Parse a Content-Type value such as `application/sdp`. */
export function parseMediaType(text: string): Parsed<MediaType> {
  return attempt(() => readMediaType(text));
}

/** Write a media type. */
export function formatMediaType(m: MediaType): string {
  return `${m.type}/${m.subtype}${formatParams(m.params)}`;
}

/** Whether `m` is `type/subtype`, compared case-insensitively (e.g. `application/sdp`). */
export function isMediaType(m: MediaType | undefined, essence: string): boolean {
  return m !== undefined && `${m.type}/${m.subtype}`.toLowerCase() === essence.toLowerCase();
}

/** A media type parameter such as `boundary`, unquoted; `undefined` when absent. */
export function mediaTypeParam(m: MediaType, name: string): string | undefined {
  const v = getParam(m.params, name);
  return typeof v === "string" ? unquote(v) : undefined;
}
