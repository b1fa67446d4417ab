/**
 * The Date header field (RFC 3261 §20.17): an RFC 1123 date restricted to GMT, case-sensitive.
 * A non-GMT zone makes the message invalid (RFC 4475 §3.1.2.12).
 */
import { attempt, fail } from "./_cursor.ts";
import type { Parsed } from "./params.ts";

const SIP_DATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$/;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Internal: read a SIP-date, or throw a `SyntaxFault`. */
export function readSipDate(text: string): Date {
  const m = SIP_DATE.exec(text.trim());
  if (!m) fail("not an RFC 1123 date in GMT");
  const [day, year, hour, min, sec] = [m[2], m[4], m[5], m[6], m[7]].map(Number);
  if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) fail("date out of range");
  return new Date(Date.UTC(year, MONTHS.indexOf(m[3]), day, hour, min, Math.min(sec, 59)));
}

/** Parse a Date value such as `Sat, 13 Nov 2010 23:29:00 GMT`. */
export function parseSipDate(text: string): Parsed<Date> {
  return attempt(() => readSipDate(text));
}

/** Write a Date value (RFC 1123, GMT). */
export function formatSipDate(d: Date): string {
  return d.toUTCString();
}
