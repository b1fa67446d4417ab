/**
 * Parameters: the `;name=value` lists of URIs (RFC 3261 §19.1.1) and of header fields
 * (RFC 3261 §7.3.1, `generic-param`). Names compare case-insensitively; order is kept.
 */
import { isIn, TOKEN } from "./_chars.ts";
import { type Cursor, fail } from "./_cursor.ts";

/** One parameter; `value` is `null` for a flag such as `;lr` or `;rport`. */
export interface Param {
  /** Parameter name; compared case-insensitively. */
  readonly name: string;
  /** Value, or `null` for a flag. */
  readonly value: string | null;
}

/**
 * Outcome of parsing one header value or URI: the value, or a reason such as
 * `missing branch`. Never thrown.
 */
export type Parsed<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly error: string;
};

/**
 * Value of the first parameter named `name` (case-insensitive): a string, `null` for a flag,
 * or `undefined` when absent. Header parameter values keep their quotes (RFC 3261 §25.1 gen-value).
 */
export function getParam(params: readonly Param[], name: string): string | null | undefined {
  const lower = name.toLowerCase();
  for (const p of params) if (p.name.toLowerCase() === lower) return p.value;
  return undefined;
}

/** Whether a parameter named `name` is present (case-insensitive). */
export function hasParam(params: readonly Param[], name: string): boolean {
  return getParam(params, name) !== undefined;
}

/** A copy of `params` with `name` set to `value`, in place when present, else appended. */
export function withParam(params: readonly Param[], name: string, value: string | null): Param[] {
  const lower = name.toLowerCase();
  let found = false;
  const out: Param[] = [];
  for (const p of params) {
    if (p.name.toLowerCase() !== lower) out.push(p);
    else if (!found) {
      out.push({ name: p.name, value });
      found = true;
    }
  }
  if (!found) out.push({ name, value });
  return out;
}

/** A copy of `params` without any parameter named `name`. */
export function withoutParam(params: readonly Param[], name: string): Param[] {
  const lower = name.toLowerCase();
  return params.filter((p) => p.name.toLowerCase() !== lower);
}

/** `;name=value;flag` as written on the wire for header parameters (values kept raw). */
export function formatParams(params: readonly Param[]): string {
  let out = "";
  for (const p of params) out += p.value === null ? `;${p.name}` : `;${p.name}=${p.value}`;
  return out;
}

function isGenValueChar(c: number): boolean {
  // gen-value = token / host / quoted-string; host adds ":" "[" "]" for IPv6 references, and
  // RFC 5118 §4.5 asks receivers to accept an unbracketed IPv6 `received`.
  return isIn(c, TOKEN) || c === 58 || c === 91 || c === 93;
}

/**
 * Read `*( SEMI generic-param )` (RFC 3261 §25.1) at the cursor, allowing SWS around `;` and
 * `=`. Quoted values keep their quotes. Stops before anything that is not `;`.
 */
export function readGenericParams(cur: Cursor): Param[] {
  const params: Param[] = [];
  while (cur.eatSep(59)) {
    const name = cur.takeSet(TOKEN);
    if (name.length === 0) fail("empty parameter");
    if (cur.eatSep(61)) {
      let value: string;
      if (cur.peek() === 34) value = cur.quotedRaw();
      else {
        const start = cur.pos;
        while (!cur.done && isGenValueChar(cur.peek())) cur.pos++;
        value = cur.text.slice(start, cur.pos);
        if (value.length === 0) fail(`empty value for parameter ${name}`);
      }
      params.push({ name, value });
    } else {
      params.push({ name, value: null });
    }
  }
  return params;
}
