/**
 * Authentication header fields: WWW-Authenticate and Proxy-Authenticate challenges, Authorization
 * and Proxy-Authorization credentials (RFC 3261 §20.7, §20.27, §20.28, §20.44, §25.1; digest
 * parameters per RFC 2617 / RFC 8760). Unknown schemes parse generically (RFC 4475 §3.3.7).
 */
import { quote, unquote } from "./_chars.ts";
import { attempt, Cursor, fail } from "./_cursor.ts";
import type { Parsed } from "./params.ts";

/** One `name=value` auth-param; `value` is unquoted, `quoted` says how it was (or is) written. */
export interface AuthParam {
  /** Parameter name, e.g. `realm`; compared case-insensitively. */
  readonly name: string;
  /** Value without quotes or escapes. */
  readonly value: string;
  /** Whether the value is (to be) written as a quoted-string. */
  readonly quoted: boolean;
}

/**
 * A challenge or credentials: the scheme (`Digest`, …) and its parameters in order, or a bare
 * token68 for schemes such as `Bearer` that use one.
 */
export interface AuthValue {
  /** The auth-scheme, e.g. `Digest`; compared case-insensitively. */
  readonly scheme: string;
  /** The auth-params in order (empty when `token68` is used). */
  readonly params: readonly AuthParam[];
  /** A bare token68 credential (RFC 7235 §2.1), for schemes like `Bearer`. */
  readonly token68?: string;
}

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

function isLooseValueChar(c: number): boolean {
  // Deployed clients send unquoted values such as uri=sip:bob@host; accept anything but the
  // list and quoting delimiters.
  return c > 32 && c !== 44 && c !== 34 && c !== 127;
}

function readParams(cur: Cursor): AuthParam[] {
  const params: AuthParam[] = [];
  do {
    const name = cur.token("auth-param name");
    if (!cur.eatSep(61)) fail(`missing = after ${name}`);
    if (cur.peek() === 34) {
      params.push({ name, value: unquote(cur.quotedRaw()), quoted: true });
    } else {
      const start = cur.pos;
      while (!cur.done && isLooseValueChar(cur.peek())) cur.pos++;
      const value = cur.text.slice(start, cur.pos);
      if (value.length === 0) fail(`empty value for ${name}`);
      params.push({ name, value, quoted: false });
    }
  } while (cur.eatSep(44));
  cur.end("auth parameters");
  return params;
}

/** Internal: read a challenge or credentials value, or throw a `SyntaxFault`. */
export function readAuthValue(text: string): AuthValue {
  const cur = new Cursor(text);
  cur.skipWs();
  const scheme = cur.token("auth scheme");
  if (cur.skipWs() === 0 || cur.done) fail("missing auth parameters");
  const start = cur.pos;
  const r = attempt(() => readParams(cur));
  if (r.ok) return { scheme, params: r.value };
  const rest = text.slice(start).trim();
  if (TOKEN68.test(rest)) return { scheme, params: [], token68: rest };
  return fail(r.error);
}

/** Parse a WWW-Authenticate/Proxy-Authenticate/Authorization/Proxy-Authorization value. */
export function parseAuthValue(text: string): Parsed<AuthValue> {
  return attempt(() => readAuthValue(text));
}

/** Write a challenge or credentials value: `Digest realm="x", nonce="y", algorithm=MD5`. */
export function formatAuthValue(v: AuthValue): string {
  if (v.token68 !== undefined) return `${v.scheme} ${v.token68}`;
  const params = v.params.map((p) => {
    const plain = !p.quoted && p.value.length > 0 &&
      [...p.value].every((ch) => isLooseValueChar(ch.charCodeAt(0)));
    return `${p.name}=${plain ? p.value : quote(p.value)}`;
  });
  return `${v.scheme} ${params.join(", ")}`;
}

/** The value of auth-param `name` (case-insensitive), unquoted; `undefined` when absent. */
export function authParam(v: AuthValue, name: string): string | undefined {
  const lower = name.toLowerCase();
  return v.params.find((p) => p.name.toLowerCase() === lower)?.value;
}
