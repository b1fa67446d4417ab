/**
 * The ordered header fields of a SIP message (RFC 3261 §7.3). Every entry keeps its raw value,
 * the single source of truth written on the wire; the header fields in `KnownHeaders` also carry
 * the parsed value, checked when the entry is made.
 */
import { hasBadControl, isToken } from "./_chars.ts";
import { attempt, splitList } from "./_cursor.ts";
import { codecFor, type KnownHeaderName, type KnownHeaders } from "./header_codec.ts";
import { canonicalHeaderName, headerKey } from "./header_names.ts";

/** A header field as written: name and raw (unfolded) value. */
export interface HeaderField {
  /** The name as written: canonical for known headers (`Call-ID`), else as received. */
  readonly name: string;
  /** The unfolded value without surrounding whitespace. */
  readonly value: string;
}

/**
 * One stored header field value. `key` is the lower-case long name; `parsed` holds the typed value
 * of a known header, and `ok` is false when a tolerated (or salvaged) value did not parse.
 */
export interface HeaderEntry extends HeaderField {
  /** Lower-case long name used for lookups (`i` → `call-id`). */
  readonly key: string;
  /** The typed value of a known header; see `KnownHeaders`. */
  readonly parsed?: unknown;
  /** False when a known header's value did not parse. */
  readonly ok: boolean;
}

/** Outcome of reading one header line: its entries, and the grammar error if any. */
export interface FieldRead {
  readonly entries: HeaderEntry[];
  readonly error?: string;
}

/** `readField` error when a line holds more values than allowed. */
export const TOO_MANY_VALUES = "too many values";

/**
 * Read one header line's value into entries (RFC 3261 §7.3.1): list headers are split at commas
 * outside quotes and `<…>`; known headers are parsed. Entries are returned even on error (with
 * `ok: false`) so that a 400 can still copy them.
 */
export function readField(name: string, value: string, maxValues = Infinity): FieldRead {
  const key = headerKey(name);
  const canonical = canonicalHeaderName(name);
  const codec = codecFor(key);
  if (!codec) return { entries: [{ name: canonical, key, value, ok: true }] };
  const parts = codec.split ? splitList(value) : [value];
  // Bound the work one line can cause before the caller's header limit applies.
  if (parts.length > maxValues) {
    return { entries: [{ name: canonical, key, value, ok: false }], error: TOO_MANY_VALUES };
  }
  const entries: HeaderEntry[] = [];
  for (const part of parts) {
    const r = attempt(() => codec.read(part));
    if (r.ok) entries.push({ name: canonical, key, value: part, parsed: r.value, ok: true });
    else if (codec.lenient) entries.push({ name: canonical, key, value: part, ok: false });
    else {
      // Keep the whole line, unsplit, so that a 400 can copy it verbatim.
      return { entries: [{ name: canonical, key, value, ok: false }], error: r.error };
    }
  }
  const problem = codec.checkLine?.(entries.map((e) => e.parsed));
  if (problem !== undefined) {
    return { entries: [{ name: canonical, key, value, ok: false }], error: problem };
  }
  return { entries };
}

function makeEntries(name: string, value: unknown): HeaderEntry[] {
  if (!isToken(name)) throw new TypeError(`Cannot add header: invalid name "${name}"`);
  let raw: string;
  if (typeof value === "string") raw = value.replace(/^[ \t]+|[ \t]+$/g, "");
  else {
    const codec = codecFor(headerKey(name));
    if (!codec) throw new TypeError(`Cannot add ${name} header: value must be a string`);
    raw = codec.format(value);
  }
  // Header injection guard: no CR, LF or stray control characters (RFC 3261 §25.1).
  if (hasBadControl(raw)) {
    throw new TypeError(`Cannot add ${name} header: control characters in value`);
  }
  const r = readField(name, raw);
  if (r.error !== undefined) throw new TypeError(`Cannot parse ${name} header: ${r.error}`);
  return r.entries;
}

/** Ordered, case-insensitive header fields with typed access to the known ones. */
export class SipHeaders implements Iterable<HeaderEntry> {
  private readonly entries: HeaderEntry[];

  /**
   * Build from `[name, value]` pairs; known headers are parsed and a malformed one throws a
   * `TypeError` (as does a value carrying CR or LF).
   */
  constructor(fields: Iterable<readonly [string, string]> = []) {
    this.entries = [];
    for (const [name, value] of fields) this.append(name, value);
  }

  /** Wrap already-read entries (the parser's path); they are not re-validated. */
  static fromEntries(entries: readonly HeaderEntry[]): SipHeaders {
    const h = new SipHeaders();
    h.entries.push(...entries);
    return h;
  }

  /** Number of entries (a split list header counts once per element). */
  get size(): number {
    return this.entries.length;
  }

  /** Entries in wire order. */
  [Symbol.iterator](): Iterator<HeaderEntry> {
    return this.entries[Symbol.iterator]();
  }

  /** Whether a header named `name` (any case, compact or long) is present. */
  has(name: string): boolean {
    const key = headerKey(name);
    return this.entries.some((e) => e.key === key);
  }

  /** Raw value of the first `name` header. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    return this.entries.find((e) => e.key === key)?.value;
  }

  /** Raw values of every `name` header, in order. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    return this.entries.filter((e) => e.key === key).map((e) => e.value);
  }

  /** Parsed value of the first well-formed `name` header. */
  first<K extends KnownHeaderName>(name: K): KnownHeaders[K] | undefined {
    const key = headerKey(name);
    const e = this.entries.find((x) => x.key === key && x.ok);
    return e?.parsed as KnownHeaders[K] | undefined;
  }

  /** Parsed values of every well-formed `name` header, in order. */
  all<K extends KnownHeaderName>(name: K): KnownHeaders[K][] {
    const key = headerKey(name);
    return this.entries.filter((x) => x.key === key && x.ok).map((x) =>
      x.parsed as KnownHeaders[K]
    );
  }

  /** Append a header; known headers take a typed value or a raw string to be parsed. */
  append<K extends KnownHeaderName>(name: K, value: KnownHeaders[K] | string): this;
  /** Append any header from its raw value. */
  append(name: string, value: string): this;
  append(name: string, value: unknown): this {
    this.entries.push(...makeEntries(name, value));
    return this;
  }

  /** Insert a header before all others (e.g. a new top Via, RFC 3261 §16.6 step 8). */
  prepend<K extends KnownHeaderName>(name: K, value: KnownHeaders[K] | string): this;
  /** Insert any header, from its raw value, before all others. */
  prepend(name: string, value: string): this;
  prepend(name: string, value: unknown): this {
    this.entries.unshift(...makeEntries(name, value));
    return this;
  }

  /** Replace every `name` header by `value`, at the position of the first one (else at the end). */
  set<K extends KnownHeaderName>(name: K, value: KnownHeaders[K] | string): this;
  /** Replace every `name` header by one raw value. */
  set(name: string, value: string): this;
  set(name: string, value: unknown): this {
    const fresh = makeEntries(name, value);
    const key = headerKey(name);
    const at = this.entries.findIndex((e) => e.key === key);
    this.delete(name);
    this.entries.splice(at < 0 ? this.entries.length : at, 0, ...fresh);
    return this;
  }

  /** Remove every `name` header; returns how many entries went. */
  delete(name: string): number {
    const key = headerKey(name);
    let removed = 0;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].key === key) {
        this.entries.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  /** Remove the first `name` entry (e.g. the top Via of a response, RFC 3261 §18.1.2). */
  removeFirst(name: string): boolean {
    const key = headerKey(name);
    const i = this.entries.findIndex((e) => e.key === key);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    return true;
  }

  /** Append entries read elsewhere (e.g. copied from a request), keeping their raw values. */
  appendEntries(entries: Iterable<HeaderEntry>): this {
    this.entries.push(...entries);
    return this;
  }

  /** Entries named `name`, as stored. */
  entriesOf(name: string): HeaderEntry[] {
    const key = headerKey(name);
    return this.entries.filter((e) => e.key === key);
  }

  /** An independent copy (entries are immutable, so they are shared). */
  clone(): SipHeaders {
    return SipHeaders.fromEntries(this.entries);
  }
}
