/**
 * Message framing on TCP/TLS (RFC 3261 §18.3): the header section ends at the first empty line
 * and Content-Length, mandatory on streams, gives the body. CRLFs between messages are RFC 5626
 * §4.4.1 keep-alives (double CRLF ping, single CRLF pong). Size limits guard the buffer.
 */
import { headerKey } from "./header_names.ts";
import type { SipMessage } from "./message.ts";
import { type ParseError, silentError } from "./parse_error.ts";
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_HEADERS,
  parseSections,
} from "./parser.ts";

/** Limits for a `StreamFramer`. */
export interface StreamFramerOptions {
  /** Largest header section (default 64 KiB). */
  readonly maxHeaderBytes?: number;
  /** Largest body (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Most header field values per message (default 256). */
  readonly maxHeaders?: number;
}

/**
 * What a chunk produced. `message`: a complete message. `invalid`: a well-framed message that
 * did not parse (answer with `buildErrorResponse`; the connection stays usable). `ping`: a
 * double CRLF, answer with a single CRLF. `pong`: a single CRLF, reported as soon as it is
 * seen (a ping cut after its first CRLF thus reads as two pongs). `fatal`: framing is lost (no or bad Content-Length, size limit); close the
 * connection.
 */
export type FrameEvent =
  | { readonly type: "message"; readonly message: SipMessage }
  | { readonly type: "invalid"; readonly error: ParseError }
  | { readonly type: "ping" }
  | { readonly type: "pong" }
  | { readonly type: "fatal"; readonly error: ParseError };

const decoder = new TextDecoder();

/** Splits a byte stream into SIP messages; feed it chunks in arrival order. */
export class StreamFramer {
  #buf = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  /** Where the search for the empty line resumes. */
  #scan = 0;
  #phase: "boundary" | "headers" | "body" = "boundary";
  #headerText = "";
  #bodyStart = 0;
  #bodyLength = 0;
  #failed = false;
  readonly #maxHeaderBytes: number;
  readonly #maxBodyBytes: number;
  readonly #maxHeaders: number;

  /** A framer for one connection. */
  constructor(opts: StreamFramerOptions = {}) {
    this.#maxHeaderBytes = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.#maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#maxHeaders = opts.maxHeaders ?? DEFAULT_MAX_HEADERS;
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Whether a fatal error happened; the framer then ignores further input. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Feed one chunk; returns the events it completes, in order. Never throws. */
  push(chunk: Uint8Array): FrameEvent[] {
    if (this.#failed) return [];
    const events: FrameEvent[] = [];
    try {
      this.#append(chunk);
      while (this.#step(events));
    } catch (e) {
      const msg = `Cannot frame message: ${e instanceof Error ? e.message : String(e)}`;
      this.#fail(events, silentError(400, "Bad Request", msg));
    }
    return events;
  }

  #append(chunk: Uint8Array): void {
    const needed = this.#end + chunk.length;
    if (needed > this.#buf.length) {
      const live = this.#end - this.#start;
      const size = Math.max(this.#buf.length, (live + chunk.length) * 2);
      if (size > this.#buf.length) {
        const next = new Uint8Array(size);
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      } else {
        this.#buf.copyWithin(0, this.#start, this.#end);
      }
      this.#scan -= this.#start;
      this.#bodyStart -= this.#start;
      this.#end = live;
      this.#start = 0;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  #fail(events: FrameEvent[], error: ParseError): void {
    this.#failed = true;
    this.#buf = new Uint8Array(0);
    this.#start = this.#end = 0;
    events.push({ type: "fatal", error });
  }

  /** Advance by one event or phase; false when more input is needed. */
  #step(events: FrameEvent[]): boolean {
    const b = this.#buf;
    const avail = this.#end - this.#start;
    if (this.#phase === "boundary") {
      if (avail === 0) {
        // Idle between messages: rewind, and give back a buffer a large message grew.
        this.#start = this.#end = 0;
        if (this.#buf.length > 65536) this.#buf = new Uint8Array(4096);
        return false;
      }
      const s = this.#start;
      if (b[s] !== 13) {
        this.#phase = "headers";
        this.#scan = s;
        return true;
      }
      if (avail < 2) return false;
      if (b[s + 1] !== 10) {
        this.#phase = "headers";
        this.#scan = s;
        return true;
      }
      if (avail >= 4 && b[s + 2] === 13 && b[s + 3] === 10) {
        this.#start += 4;
        events.push({ type: "ping" });
        return true;
      }
      if (avail === 3 && b[s + 2] === 13) return false;
      // A lone CRLF is a pong even at the end of a chunk: pongs must be seen promptly, and a
      // ping is written in one piece (RFC 5626 §4.4.1), so it is not awaited across reads.
      this.#start += 2;
      events.push({ type: "pong" });
      return true;
    }
    if (this.#phase === "headers") return this.#findHeaderEnd(events);
    if (avail < this.#bodyStart - this.#start + this.#bodyLength) return false;
    const body = b.subarray(this.#bodyStart, this.#bodyStart + this.#bodyLength);
    const r = parseSections(this.#headerText, body, this.#maxHeaders);
    events.push(
      r.ok ? { type: "message", message: r.message } : { type: "invalid", error: r.error },
    );
    this.#start = this.#bodyStart + this.#bodyLength;
    this.#phase = "boundary";
    this.#headerText = "";
    return true;
  }

  #findHeaderEnd(events: FrameEvent[]): boolean {
    const b = this.#buf;
    let found = -1;
    for (let i = Math.max(this.#start, this.#scan - 3); i + 3 < this.#end; i++) {
      if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) {
        found = i;
        break;
      }
    }
    if (found < 0) {
      this.#scan = this.#end;
      if (this.#end - this.#start > this.#maxHeaderBytes) {
        const msg = `Cannot frame message: header section exceeds ${this.#maxHeaderBytes} bytes`;
        this.#fail(events, silentError(513, "Message Too Large", msg));
      }
      return false;
    }
    if (found - this.#start > this.#maxHeaderBytes) {
      const msg = `Cannot frame message: header section exceeds ${this.#maxHeaderBytes} bytes`;
      this.#fail(events, silentError(513, "Message Too Large", msg));
      return false;
    }
    const text = decoder.decode(b.subarray(this.#start, found));
    const length = contentLength(text);
    if (typeof length === "string") {
      this.#fail(events, silentError(400, "Bad Request - Malformed Content-Length", length));
      return false;
    }
    if (length > this.#maxBodyBytes) {
      const msg = `Cannot frame message: body of ${length} bytes exceeds ${this.#maxBodyBytes}`;
      this.#fail(events, silentError(513, "Message Too Large", msg));
      return false;
    }
    this.#headerText = text;
    this.#bodyStart = found + 4;
    this.#bodyLength = length;
    this.#phase = "body";
    return true;
  }
}

/**
 * The Content-Length of a header section, or why it cannot frame a stream message: missing
 * (RFC 3261 §18.3 makes it mandatory on streams), not a number (RFC 4475 §3.1.2.3), or given
 * twice with different values (RFC 4475 §3.3.9).
 */
function contentLength(text: string): number | string {
  const lines = text.split("\r\n");
  let value: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i];
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1])) line += " " + lines[++i].trim();
    const colon = line.indexOf(":");
    if (colon < 0 || headerKey(line.slice(0, colon).trim()) !== "content-length") continue;
    const v = line.slice(colon + 1).trim();
    if (!/^\d{1,15}$/.test(v)) return `Cannot frame message: Content-Length "${v}" is not a number`;
    if (value !== undefined && Number(value) !== Number(v)) {
      return "Cannot frame message: conflicting Content-Length values";
    }
    value = v;
  }
  if (value === undefined) return "Cannot frame message: Content-Length is required on streams";
  return Number(value);
}
