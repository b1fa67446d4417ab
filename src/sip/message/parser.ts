/**
 * Parse one SIP message (RFC 3261 §7, §18.3, §25). Never throws: every input ends as a message or
 * a `ParseError` saying whether and how to answer (RFC 4475 lists the cases).
 */
import { hasBadControl, hasControl, isToken } from "./_chars.ts";
import { attempt } from "./_cursor.ts";
import { codecFor } from "./header_codec.ts";
import { canonicalHeaderName } from "./header_names.ts";
import { type HeaderEntry, readField, SipHeaders, TOO_MANY_VALUES } from "./headers.ts";
import { type SipMessage, SipRequest, SipResponse } from "./message.ts";
import { type ParseError, type ParseResult, silentError } from "./parse_error.ts";
import type { CSeq } from "./scalar_headers.ts";
import { readRequestUri, type Uri } from "./uri.ts";
import { salvageVia, type Via } from "./via.ts";

/** Default limit on the header section (start line and header fields). */
export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;
/** Default limit on a body. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Default limit on header field values (list elements counted one by one). */
export const DEFAULT_MAX_HEADERS = 256;

/** Limits for `parseMessage`; exceeding one gives status 513 (RFC 3261 §21.5.14) or 400. */
export interface ParseOptions {
  /** Largest whole message accepted (default: header limit + body limit). */
  readonly maxBytes?: number;
  /** Largest header section (default 64 KiB). */
  readonly maxHeaderBytes?: number;
  /** Most header field values (default 256). */
  readonly maxHeaders?: number;
}

const MANDATORY = ["via", "from", "to", "call-id", "cseq"];
const decoder = new TextDecoder();

type StartLine =
  | { readonly kind: "request"; readonly method: string; readonly uri: Uri }
  | { readonly kind: "response"; readonly status: number; readonly reason: string };

interface Problem {
  readonly status: number;
  readonly reason: string;
  readonly message: string;
}

interface BadStartLine extends Problem {
  readonly kind: "bad";
  /** The method, when the line starts like a request. */
  readonly method?: string;
}

function bad(reason: string, message: string, method?: string, status = 400): BadStartLine {
  const b = { kind: "bad" as const, status, reason, message };
  return method === undefined ? b : { ...b, method };
}

const VERSION = /^SIP\/(\d+)\.(\d+)$/i;

function readStartLine(line: string): StartLine | BadStartLine {
  if (hasControl(line)) {
    return bad("Bad Request - Malformed Start-Line", "Cannot parse start line: control character");
  }
  if (/^SIP\//i.test(line)) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2)
    const m = /^(SIP\/\d+\.\d+) (\d{3})(?: (.*))?$/i.exec(line);
    if (!m || m[1].toUpperCase() !== "SIP/2.0" || Number(m[2]) < 100 || Number(m[2]) > 699) {
      return bad("Bad Request - Malformed Status-Line", "Cannot parse Status-Line");
    }
    return { kind: "response", status: Number(m[2]), reason: m[3] ?? "" };
  }
  // Request-Line = Method SP Request-URI SP SIP-Version (RFC 3261 §7.1): exactly one SP between
  // elements (RFC 4475 §3.1.2.9); trailing SP is tolerated (RFC 4475 §3.1.2.10 allows either).
  const sp = line.indexOf(" ");
  const method = sp < 0 ? line : line.slice(0, sp);
  if (!isToken(method)) {
    return bad("Bad Request - Malformed Request-Line", "Cannot parse Request-Line: bad method");
  }
  const rest = line.slice(sp + 1).replace(/[ \t]+$/, "");
  const sp2 = rest.indexOf(" ");
  const version = rest.slice(sp2 + 1);
  if (sp < 0 || sp2 <= 0 || /[ \t]/.test(version) || /\t/.test(rest.slice(0, sp2))) {
    const msg = "Cannot parse Request-Line: expected Method SP Request-URI SP SIP-Version";
    return bad("Bad Request - Malformed Request-Line", msg, method);
  }
  const v = VERSION.exec(version);
  if (!v) {
    return bad(
      "Bad Request - Malformed Request-Line",
      "Cannot parse Request-Line: version",
      method,
    );
  }
  if (`${Number(v[1])}.${Number(v[2])}` !== "2.0") {
    // RFC 3261 §8.2.2 / RFC 4475 §3.1.2.16
    return bad("Version Not Supported", `Unsupported SIP version ${version}`, method, 505);
  }
  const uri = attempt(() => readRequestUri(rest.slice(0, sp2)));
  if (!uri.ok) {
    const msg = `Cannot parse Request-URI: ${uri.error}`;
    return bad("Bad Request - Malformed Request-URI", msg, method);
  }
  return { kind: "request", method, uri: uri.value };
}

function indexOfBlankLine(bytes: Uint8Array, from: number): number {
  for (
    let i = bytes.indexOf(13, from);
    i >= 0 && i + 3 < bytes.length;
    i = bytes.indexOf(13, i + 1)
  ) {
    if (bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

/** Number of CRLF keep-alive bytes before the start line (RFC 3261 §7.5, RFC 5626 §4.4.1). */
export function leadingCrlfBytes(bytes: Uint8Array, from = 0): number {
  let i = from;
  while (i + 1 < bytes.length && bytes[i] === 13 && bytes[i + 1] === 10) i += 2;
  return i - from;
}

/** Whether a datagram is only CRLFs: a keep-alive, not a message (RFC 5626 §4.4.1, §3.5.1). */
export function isKeepAlive(bytes: Uint8Array): boolean {
  return bytes.length > 0 && leadingCrlfBytes(bytes) === bytes.length;
}

/**
 * Parse one message from a datagram (RFC 3261 §18.3): without Content-Length the rest of the
 * datagram is the body; a Content-Length beyond the datagram is an error; a smaller one drops
 * the extra octets (RFC 4475 §3.1.1.8). Never throws.
 */
export function parseMessage(
  bytes: Uint8Array,
  opts: ParseOptions = {},
): ParseResult<SipMessage> {
  try {
    return parseDatagram(bytes, opts);
  } catch (e) {
    // Defensive: a bug must not take the transport down; report it as unparseable.
    const msg = `Cannot parse message: ${e instanceof Error ? e.message : String(e)}`;
    return { ok: false, error: silentError(400, "Bad Request", msg) };
  }
}

function parseDatagram(bytes: Uint8Array, opts: ParseOptions): ParseResult<SipMessage> {
  const maxHeaderBytes = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const maxBytes = opts.maxBytes ?? maxHeaderBytes + DEFAULT_MAX_BODY_BYTES;
  if (bytes.length > maxBytes) {
    const msg = `Cannot parse message: ${bytes.length} bytes exceed the ${maxBytes} limit`;
    return { ok: false, error: silentError(513, "Message Too Large", msg) };
  }
  const start = leadingCrlfBytes(bytes);
  if (start >= bytes.length) {
    return { ok: false, error: silentError(400, "Bad Request", "Cannot parse message: empty") };
  }
  const end = indexOfBlankLine(bytes, start);
  if ((end < 0 ? bytes.length : end) - start > maxHeaderBytes) {
    const msg = `Cannot parse message: header section exceeds ${maxHeaderBytes} bytes`;
    return { ok: false, error: silentError(513, "Message Too Large", msg) };
  }
  if (end < 0) {
    const msg = "Cannot parse message: no empty line after the header fields";
    return { ok: false, error: silentError(400, "Bad Request - Truncated message", msg) };
  }
  return parseSections(
    decoder.decode(bytes.subarray(start, end)),
    bytes.subarray(end + 4),
    opts.maxHeaders ?? DEFAULT_MAX_HEADERS,
  );
}

function trimWs(s: string): string {
  return s.replace(/^[ \t]+|[ \t]+$/g, "");
}

/**
 * Internal: parse a header section (without its final CRLF CRLF) and the octets after it. The
 * body is cut to Content-Length, which may not exceed what is there.
 */
export function parseSections(
  text: string,
  available: Uint8Array,
  maxHeaders: number,
): ParseResult<SipMessage> {
  const lines = text.split("\r\n");
  const startLine = readStartLine(lines[0]);
  const entries: HeaderEntry[] = [];
  let problem: Problem | undefined = startLine.kind === "bad" ? startLine : undefined;
  const note = (reason: string, message: string) => {
    problem ??= { status: 400, reason: `Bad Request - ${reason}`, message };
  };
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i];
    if (line.startsWith(" ") || line.startsWith("\t")) {
      note("Malformed header line", "Cannot parse message: folded line without a header");
      continue;
    }
    // Unfold LWS: CRLF followed by whitespace is one SP (RFC 3261 §7.3.1).
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1])) line += " " + trimWs(lines[++i]);
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon).replace(/[ \t]+$/, "");
    if (!isToken(name)) {
      note(
        "Malformed header line",
        `Cannot parse header line ${JSON.stringify(line.slice(0, 40))}`,
      );
      continue;
    }
    const value = trimWs(line.slice(colon + 1));
    if (hasBadControl(value)) {
      const canonical = canonicalHeaderName(name);
      note(`Malformed ${canonical}`, `Cannot parse ${canonical} header: control character`);
      continue;
    }
    const r = readField(name, value, maxHeaders - entries.length);
    entries.push(...r.entries);
    if (r.error === TOO_MANY_VALUES) {
      note("Too many headers", `Cannot parse message: more than ${maxHeaders} header values`);
      break;
    }
    if (r.error !== undefined) {
      const canonical = canonicalHeaderName(name);
      note(`Malformed ${canonical}`, `Cannot parse ${canonical} header: ${r.error}`);
    }
    if (entries.length > maxHeaders) {
      note("Too many headers", `Cannot parse message: more than ${maxHeaders} header values`);
      break;
    }
  }
  if (problem === undefined) problem = checkSemantics(startLine as StartLine, entries);
  let body = available;
  if (problem === undefined) {
    const cl = entries.find((e) => e.key === "content-length");
    if (cl !== undefined) {
      const n = cl.parsed as number;
      if (n > available.length) {
        // RFC 3261 §18.3: a datagram ending before the body does is an error (RFC 4475 §3.1.2.2).
        problem = {
          status: 400,
          reason: "Bad Request - Content-Length exceeds body",
          message:
            `Cannot parse message: Content-Length ${n} exceeds the ${available.length} body bytes`,
        };
      } else body = available.subarray(0, n);
    }
  }
  if (problem !== undefined) return { ok: false, error: explain(problem, startLine, entries) };
  const headers = SipHeaders.fromEntries(entries);
  const sl = startLine as StartLine;
  const message = sl.kind === "request"
    ? new SipRequest({ method: sl.method, uri: sl.uri, headers, body: body.slice() })
    : new SipResponse({ status: sl.status, reason: sl.reason, headers, body: body.slice() });
  return { ok: true, message };
}

function checkSemantics(sl: StartLine, entries: HeaderEntry[]): Problem | undefined {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.key, (counts.get(e.key) ?? 0) + 1);
  for (const [key, n] of counts) {
    // RFC 4475 §3.3.8, §3.3.9: single-valued fields appearing twice.
    if (n > 1 && codecFor(key)?.single) {
      const name = canonicalHeaderName(key);
      return {
        status: 400,
        reason: `Bad Request - Multiple ${name}`,
        message: `Cannot parse message: ${n} ${name} header fields`,
      };
    }
  }
  // RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via are mandatory; Max-Forwards
  // is not enforced so that RFC 2543 requests still parse (RFC 4475 §3.4.1).
  const missing = MANDATORY.filter((key) => !counts.has(key)).map(canonicalHeaderName);
  if (missing.length > 0) {
    return {
      status: 400,
      reason: `Bad Request - Missing ${missing.join(", ")}`,
      message: `Cannot parse message: no ${missing.join(", ")} header`,
    };
  }
  if (sl.kind === "request") {
    const cseq = entries.find((e) => e.key === "cseq")?.parsed as CSeq;
    if (cseq.method !== sl.method) {
      // RFC 4475 §3.1.2.17, §3.1.2.18
      return {
        status: 400,
        reason: "Bad Request - CSeq method mismatch",
        message: `Cannot parse message: CSeq method ${cseq.method} differs from ${sl.method}`,
      };
    }
  }
  return undefined;
}

function explain(
  problem: Problem,
  sl: StartLine | BadStartLine,
  entries: HeaderEntry[],
): ParseError {
  const method = sl.kind === "request" ? sl.method : sl.kind === "bad" ? sl.method : undefined;
  const vias = entries.filter((e) => e.key === "via");
  let topVia: Via | undefined;
  if (vias.length > 0) topVia = vias[0].ok ? vias[0].parsed as Via : salvageVia(vias[0].value);
  // RFC 3261 §17: an ACK is never answered; a response can only be dropped.
  const canRespond = method !== undefined && method !== "ACK" && topVia !== undefined;
  const salvaged: HeaderEntry[] = [];
  if (canRespond) {
    salvaged.push(...vias);
    for (const key of ["from", "to", "call-id", "cseq"]) {
      const e = entries.find((x) => x.key === key);
      if (e) salvaged.push(e);
    }
  }
  const { status, reason, message } = problem;
  const error: ParseError = { message, status, reason, canRespond, salvaged };
  if (method !== undefined) Object.assign(error, { method });
  if (topVia !== undefined) Object.assign(error, { topVia });
  return error;
}
