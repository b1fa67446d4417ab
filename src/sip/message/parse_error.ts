/**
 * Why a message was refused, and whether the sender can be told (RFC 3261 §8.2.6, §16.3: a
 * malformed request gets a 400 when a response can be formed; responses are dropped).
 */
import type { HeaderEntry } from "./headers.ts";
import type { Via } from "./via.ts";

/**
 * A refused message. `status`/`reason` are the response to send (e.g. 400
 * `Bad Request - Malformed Via`, 505 for RFC 4475 §3.1.2.16); `canRespond` is true for a
 * request (not ACK) whose top Via could be read, and `salvaged` then holds the raw Via, From,
 * To, Call-ID and CSeq fields to copy into that response (see `buildErrorResponse`).
 */
export interface ParseError {
  /** Diagnostic for logs, e.g. `Cannot parse Via header: empty parameter`. */
  readonly message: string;
  /** Status of the response to send: 400, 505 or 513. */
  readonly status: number;
  /** Reason phrase for that response, e.g. `Bad Request - Malformed Via`. */
  readonly reason: string;
  /** Whether a response can and should be sent (`buildErrorResponse`). */
  readonly canRespond: boolean;
  /** The request method, when the Request-Line was readable that far. */
  readonly method?: string;
  /** The top Via as far as it could be read (sent-protocol and sent-by at least). */
  readonly topVia?: Via;
  /** Raw Via, From, To, Call-ID and CSeq entries to echo (empty when `canRespond` is false). */
  readonly salvaged: readonly HeaderEntry[];
}

/** Outcome of `parseMessage`. */
export type ParseResult<M> = { readonly ok: true; readonly message: M } | {
  readonly ok: false;
  readonly error: ParseError;
};

/** A ParseError for input that cannot be answered (responses, garbage, size limits). */
export function silentError(status: number, reason: string, message: string): ParseError {
  return { message, status, reason, canRespond: false, salvaged: [] };
}
