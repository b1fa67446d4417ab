/**
 * The header fields parsed eagerly, with their value types, grammars and writers. Everything not
 * listed here stays a raw string until someone asks for it.
 */
import { allIn, WORD } from "./_chars.ts";
import { fail } from "./_cursor.ts";
import { type AuthValue, formatAuthValue, readAuthValue } from "./auth_header.ts";
import { formatMediaType, type MediaType, readMediaType } from "./content_type.ts";
import {
  type Contact,
  formatContact,
  formatNameAddr,
  type NameAddr,
  readContact,
  readNameAddr,
} from "./name_addr.ts";
import { formatTokenList, readTokenList } from "./option_tags.ts";
import {
  type CSeq,
  formatCSeq,
  readContentLength,
  readCSeq,
  readDeltaSeconds,
  readMaxForwards,
} from "./scalar_headers.ts";
import {
  formatSessionTimer,
  type MinSe,
  readMinSe,
  readSessionExpires,
  type SessionExpires,
} from "./session_timer.ts";
import { formatSipDate, readSipDate } from "./sip_date.ts";
import { formatVia, readVia, type Via } from "./via.ts";

/** Value type of each eagerly parsed header field, by canonical name. */
export interface KnownHeaders {
  /** RFC 3261 §20.42, one entry per value. */
  "Via": Via;
  /** RFC 3261 §20.20. */
  "From": NameAddr;
  /** RFC 3261 §20.39. */
  "To": NameAddr;
  /** RFC 3261 §20.8. */
  "Call-ID": string;
  /** RFC 3261 §20.16. */
  "CSeq": CSeq;
  /** RFC 3261 §20.22, 0–255. */
  "Max-Forwards": number;
  /** RFC 3261 §20.10, one entry per value. */
  "Contact": Contact;
  /** RFC 3261 §20.14. */
  "Content-Length": number;
  /** RFC 3261 §20.15. */
  "Content-Type": MediaType;
  /** RFC 3261 §20.34, one entry per value. */
  "Route": NameAddr;
  /** RFC 3261 §20.30, one entry per value. */
  "Record-Route": NameAddr;
  /** RFC 3261 §20.19; malformed values are tolerated as absent. */
  "Expires": number;
  /** RFC 3261 §20.37 option tags of one line. */
  "Supported": readonly string[];
  /** RFC 3261 §20.32 option tags of one line. */
  "Require": readonly string[];
  /** RFC 3261 §20.29 option tags of one line. */
  "Proxy-Require": readonly string[];
  /** RFC 3261 §20.40 option tags of one line. */
  "Unsupported": readonly string[];
  /** RFC 3261 §20.5 methods of one line. */
  "Allow": readonly string[];
  /** RFC 4028 §4. */
  "Session-Expires": SessionExpires;
  /** RFC 4028 §5. */
  "Min-SE": MinSe;
  /** RFC 3261 §20.7. */
  "Authorization": AuthValue;
  /** RFC 3261 §20.28. */
  "Proxy-Authorization": AuthValue;
  /** RFC 3261 §20.44. */
  "WWW-Authenticate": AuthValue;
  /** RFC 3261 §20.27. */
  "Proxy-Authenticate": AuthValue;
  /** RFC 3261 §20.17, GMT only. */
  "Date": Date;
}

/** Canonical name of an eagerly parsed header field. */
export type KnownHeaderName = keyof KnownHeaders;

/** How one known header field is read and written. Internal. */
export interface Codec<T> {
  readonly name: KnownHeaderName;
  /** Read one value; throws a `SyntaxFault`. */
  readonly read: (raw: string) => T;
  readonly format: (value: T) => string;
  /** A list header whose comma-separated elements become one entry each (RFC 3261 §7.3.1). */
  readonly split?: boolean;
  /** At most one value per message (RFC 4475 §3.3.8, §3.3.9). */
  readonly single?: boolean;
  /** A malformed value is kept raw rather than failing the message (RFC 4475 §3.1.2.4). */
  readonly lenient?: boolean;
  /** Check the elements of one split line together; returns an error or `undefined`. */
  readonly checkLine?: (values: readonly T[]) => string | undefined;
}

function readCallId(raw: string): string {
  // callid = word [ "@" word ] (RFC 3261 §25.1)
  const v = raw.trim();
  const at = v.indexOf("@");
  const ok = at < 0 ? allIn(v, WORD) : allIn(v.slice(0, at), WORD) && allIn(v.slice(at + 1), WORD);
  if (!ok) fail("malformed Call-ID");
  return v;
}

const String_ = (v: string) => v;
const Number_ = (v: number) => String(v);

const CODECS: { readonly [K in KnownHeaderName]: Codec<KnownHeaders[K]> } = {
  "Via": { name: "Via", read: readVia, format: formatVia, split: true },
  "From": { name: "From", read: (r) => readNameAddr(r), format: formatNameAddr, single: true },
  "To": { name: "To", read: (r) => readNameAddr(r), format: formatNameAddr, single: true },
  "Call-ID": { name: "Call-ID", read: readCallId, format: String_, single: true },
  "CSeq": { name: "CSeq", read: readCSeq, format: formatCSeq, single: true },
  "Max-Forwards": { name: "Max-Forwards", read: readMaxForwards, format: Number_, single: true },
  "Contact": {
    name: "Contact",
    read: readContact,
    format: formatContact,
    split: true,
    // RFC 3261 §20.10: STAR stands alone.
    checkLine: (v) => v.length > 1 && v.includes("*") ? "* must be the only Contact" : undefined,
  },
  "Content-Length": {
    name: "Content-Length",
    read: readContentLength,
    format: Number_,
    single: true,
  },
  "Content-Type": {
    name: "Content-Type",
    read: readMediaType,
    format: formatMediaType,
    single: true,
  },
  "Route": {
    name: "Route",
    read: (r) => readNameAddr(r, true),
    format: formatNameAddr,
    split: true,
  },
  "Record-Route": {
    name: "Record-Route",
    read: (r) => readNameAddr(r, true),
    format: formatNameAddr,
    split: true,
  },
  "Expires": {
    name: "Expires",
    read: readDeltaSeconds,
    format: Number_,
    single: true,
    lenient: true,
  },
  "Supported": { name: "Supported", read: readTokenList, format: formatTokenList },
  "Require": { name: "Require", read: readTokenList, format: formatTokenList },
  "Proxy-Require": { name: "Proxy-Require", read: readTokenList, format: formatTokenList },
  "Unsupported": { name: "Unsupported", read: readTokenList, format: formatTokenList },
  "Allow": { name: "Allow", read: readTokenList, format: formatTokenList },
  "Session-Expires": {
    name: "Session-Expires",
    read: readSessionExpires,
    format: formatSessionTimer,
    single: true,
  },
  "Min-SE": { name: "Min-SE", read: readMinSe, format: formatSessionTimer, single: true },
  "Authorization": { name: "Authorization", read: readAuthValue, format: formatAuthValue },
  "Proxy-Authorization": {
    name: "Proxy-Authorization",
    read: readAuthValue,
    format: formatAuthValue,
  },
  "WWW-Authenticate": { name: "WWW-Authenticate", read: readAuthValue, format: formatAuthValue },
  "Proxy-Authenticate": {
    name: "Proxy-Authenticate",
    read: readAuthValue,
    format: formatAuthValue,
  },
  "Date": { name: "Date", read: readSipDate, format: formatSipDate, single: true },
};

const BY_KEY: ReadonlyMap<string, Codec<unknown>> = new Map(
  Object.values(CODECS).map((c) => [c.name.toLowerCase(), c as Codec<unknown>]),
);

/** The codec of a header by its lower-case long name (see `headerKey`), if parsed eagerly. */
export function codecFor(key: string): Codec<unknown> | undefined {
  return BY_KEY.get(key);
}

/** The codec of a known header by canonical name, typed. */
export function codecOf<K extends KnownHeaderName>(name: K): Codec<KnownHeaders[K]> {
  return CODECS[name];
}
