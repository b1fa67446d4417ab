/**
 * Responses built from requests (RFC 3261 §8.2.6) and from requests that failed to parse
 * (RFC 4475 §3.1.2: a 400 whenever one can be formed).
 */
import { isToken } from "./_chars.ts";
import { type HeaderEntry, SipHeaders } from "./headers.ts";
import { type SipRequest, SipResponse } from "./message.ts";
import { type NameAddr, tagOf, withTag } from "./name_addr.ts";
import type { ParseError } from "./parse_error.ts";
import { reasonPhrase } from "./status.ts";

/** Options for `buildResponse`. */
export interface ResponseOptions {
  /** Tag to add to To when it has none (RFC 3261 §8.2.6.2; use `generateTag()`). */
  readonly toTag?: string;
  /** Extra header fields appended after the copied ones. */
  readonly headers?: Iterable<readonly [string, string]>;
  /** Response body; text is encoded as UTF-8. */
  readonly body?: Uint8Array | string;
}

function tagged(entry: HeaderEntry, toTag: string | undefined): HeaderEntry {
  if (toTag === undefined || !entry.ok) return entry;
  const to = entry.parsed as NameAddr;
  if (tagOf(to) !== undefined) return entry;
  if (!isToken(toTag)) throw new TypeError(`Invalid To tag "${toTag}"`);
  // Append to the raw value so the rest of the To field is echoed exactly as received.
  return { ...entry, value: `${entry.value};tag=${toTag}`, parsed: withTag(to, toTag) };
}

function copyCore(entries: Iterable<HeaderEntry>, toTag: string | undefined): SipHeaders {
  const headers = new SipHeaders();
  for (const e of entries) headers.appendEntries([e.key === "to" ? tagged(e, toTag) : e]);
  return headers;
}

/**
 * A response to `request` (RFC 3261 §8.2.6.2): Via values in order, From, To (plus `toTag` if it
 * had none), Call-ID and CSeq are copied; a 100 also copies Timestamp (§8.2.6.1). The reason
 * defaults to the standard phrase.
 */
export function buildResponse(
  request: SipRequest,
  status: number,
  reason?: string,
  opts: ResponseOptions = {},
): SipResponse {
  const h = request.headers;
  const core = [
    ...h.entriesOf("Via"),
    ...h.entriesOf("From").slice(0, 1),
    ...h.entriesOf("To").slice(0, 1),
    ...h.entriesOf("Call-ID").slice(0, 1),
    ...h.entriesOf("CSeq").slice(0, 1),
  ];
  if (status === 100) core.push(...h.entriesOf("Timestamp"));
  const headers = copyCore(core, opts.toTag);
  for (const [name, value] of opts.headers ?? []) headers.append(name, value);
  return new SipResponse({
    status,
    reason: reason ?? reasonPhrase(status),
    headers,
    body: opts.body,
  });
}

/**
 * The response a failed parse asks for (400 `Bad Request - Malformed Via`, 505, …), with the
 * salvaged Via, From, To, Call-ID and CSeq copied verbatim; `undefined` when `error.canRespond`
 * is false (responses, ACKs, unreadable Via).
 */
export function buildErrorResponse(
  error: ParseError,
  opts: { readonly toTag?: string } = {},
): SipResponse | undefined {
  if (!error.canRespond) return undefined;
  return new SipResponse({
    status: error.status,
    reason: error.reason,
    headers: copyCore(error.salvaged, opts.toTag),
  });
}
