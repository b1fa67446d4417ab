/**
 * Header fields holding one number: CSeq (RFC 3261 §20.16), Max-Forwards (§20.22),
 * Content-Length (§20.14), Expires and other delta-seconds (§20.19, §25.1).
 */
import { isToken } from "./_chars.ts";
import { attempt, fail } from "./_cursor.ts";
import type { Parsed } from "./params.ts";

/** The CSeq header field: sequence number and method (RFC 3261 §20.16). */
export interface CSeq {
  /** Sequence number, 0 to 2**32-1. */
  readonly seq: number;
  /** Method, matching the request's (RFC 3261 §8.1.1.5). */
  readonly method: string;
}

/** Largest CSeq number: "expressible as a 32-bit unsigned integer" (RFC 3261 §20.16). */
export const MAX_CSEQ = 0xffffffff;

/** Largest delta-seconds value: 2**32 - 1 (RFC 3261 §20.19). */
export const MAX_DELTA_SECONDS = 0xffffffff;

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Read `1*DIGIT` no larger than `max`, or throw a `SyntaxFault` naming `what`. */
function readNumber(s: string, max: number, what: string): number {
  if (!isDigits(s)) fail(`malformed ${what}`);
  const n = Number(s);
  if (n > max) fail(`${what} out of range`);
  return n;
}

/** Internal: read a CSeq value, or throw a `SyntaxFault` (RFC 4475 §3.1.2.4 overlarge). */
export function readCSeq(text: string): CSeq {
  const m = /^\s*(\d+)[ \t]+(\S+)\s*$/.exec(text);
  if (!m) fail("malformed CSeq");
  const seq = readNumber(m[1], MAX_CSEQ, "CSeq number");
  if (!isToken(m[2])) fail("malformed CSeq method");
  return { seq, method: m[2] };
}

/** Parse a CSeq value such as `4711 INVITE` (RFC 3261 §20.16). */
export function parseCSeq(text: string): Parsed<CSeq> {
  return attempt(() => readCSeq(text));
}

/** Write a CSeq value. */
export function formatCSeq(c: CSeq): string {
  return `${c.seq} ${c.method}`;
}

/** Internal: read Max-Forwards, 0–255 (RFC 3261 §20.22), or throw a `SyntaxFault`. */
export function readMaxForwards(text: string): number {
  return readNumber(text.trim(), 255, "Max-Forwards");
}

/** Internal: read Content-Length (RFC 3261 §20.14), or throw a `SyntaxFault`. */
export function readContentLength(text: string): number {
  return readNumber(text.trim(), Number.MAX_SAFE_INTEGER, "Content-Length");
}

/** Internal: read delta-seconds up to 2**32-1 (RFC 3261 §25.1), or throw a `SyntaxFault`. */
export function readDeltaSeconds(text: string): number {
  return readNumber(text.trim(), MAX_DELTA_SECONDS, "delta-seconds");
}

/**
 * Parse delta-seconds (RFC 3261 §20.19); `undefined` for anything else, including values above
 * 2**32-1, which RFC 4475 §3.1.2.4 lets a receiver treat as if absent.
 */
export function parseDeltaSeconds(text: string | null | undefined): number | undefined {
  if (typeof text !== "string") return undefined;
  const r = attempt(() => readDeltaSeconds(text));
  return r.ok ? r.value : undefined;
}
