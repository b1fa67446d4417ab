/**
 * Character classes of the RFC 3261 §25.1 grammar and the %-escaping rules that go with them.
 * Internal to the message layer.
 */

/** alphanum (RFC 3261 §25.1). */
export const ALNUM = 1;
/** token characters (RFC 3261 §25.1 `token`). */
export const TOKEN = 2;
/** unreserved = alphanum / mark. */
export const UNRESERVED = 4;
/** user = 1*( unreserved / escaped / user-unreserved ). */
export const USER = 8;
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ). */
export const PASSWORD = 16;
/** paramchar = param-unreserved / unreserved / escaped. */
export const PARAM = 32;
/** hname / hvalue characters of URI headers (hnv-unreserved / unreserved / escaped). */
export const HNV = 64;
/** word (Call-ID, RFC 3261 §25.1). */
export const WORD = 128;
/** uric = reserved / unreserved / escaped, plus "[" "]" for IPv6 literals in absolute URIs. */
export const URIC = 256;
/** Characters of a hostname label. `_` is tolerated as many deployed stacks emit it. */
export const HOST = 512;

const TABLE = new Uint16Array(128);

function mark(chars: string, flags: number): void {
  for (let i = 0; i < chars.length; i++) TABLE[chars.charCodeAt(i)] |= flags;
}

(() => {
  const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const unreserved = ALNUM | TOKEN | UNRESERVED | USER | PASSWORD | PARAM | HNV | WORD | URIC |
    HOST;
  mark(alnum, unreserved);
  mark("-_.!~*'", unreserved & ~HOST);
  mark("-_.", HOST);
  mark("()", UNRESERVED | USER | PASSWORD | PARAM | HNV | WORD | URIC);
  mark("%+`", TOKEN | WORD);
  mark("&=+$,;?/", USER);
  mark("&=+$,", PASSWORD);
  mark("[]/:&+$", PARAM);
  mark("[]/?:+$", HNV);
  mark('()<>:\\"/[]?{}', WORD);
  mark(";/?:@&=+$,[]%#", URIC);
})();

/** Whether the UTF-16 code unit `c` is an ASCII character carrying `flag`. */
export function isIn(c: number, flag: number): boolean {
  return c < 128 && (TABLE[c] & flag) !== 0;
}

/** Whether every character of `s` carries `flag` (and `s` is non-empty). */
export function allIn(s: string, flag: number): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isIn(s.charCodeAt(i), flag)) return false;
  return true;
}

/** Whether `s` is a non-empty RFC 3261 token. */
export function isToken(s: string): boolean {
  return allIn(s, TOKEN);
}

const HEX = "0123456789ABCDEF";

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Decode a URI component whose characters must carry `flag` or be `%` HEX HEX escapes
 * (RFC 3261 §19.1.2). Raw non-ASCII characters are tolerated as if escaped. Returns `undefined`
 * on a character outside the set or a broken escape.
 */
export function unescapeComponent(s: string, flag: number): string | undefined {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 || c >= 128) {
      plain = false;
      break;
    }
    if (!isIn(c, flag)) return undefined;
  }
  if (plain) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return undefined;
      bytes.push(hi * 16 + lo);
      i += 2;
    } else if (c < 128) {
      if (!isIn(c, flag)) return undefined;
      bytes.push(c);
    } else {
      const cp = s.codePointAt(i) ?? c;
      if (cp > 0xffff) i++;
      for (const b of encoder.encode(String.fromCodePoint(cp))) bytes.push(b);
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}

/** Encode `s` for a URI component: characters carrying `flag` stay, all others become %HH. */
export function escapeComponent(s: string, flag: number): string {
  let out = "";
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && isIn(c, flag)) {
      out += ch;
      continue;
    }
    for (const b of encoder.encode(ch)) out += "%" + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/**
 * Whether a header value holds a control character outside a quoted-pair (RFC 3261 §25.1:
 * header values are TEXT-UTF8 and LWS; only a quoted-pair may carry %x00-1F or %x7F, and never
 * CR or LF).
 */
export function hasBadControl(value: string): boolean {
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 13 || c === 10) return true;
    if (c === 34) quoted = !quoted;
    else if (c === 92 && quoted) {
      const next = value.charCodeAt(i + 1);
      if (next === 13 || next === 10) return true;
      i++;
    } else if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}

/** Whether `s` holds any control character other than HTAB (start lines, reason phrases). */
export function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}

/** Quote `s` as an RFC 3261 quoted-string, escaping `"` and `\` (CR and LF become spaces). */
export function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 13 || c === 10) out += " ";
    else if (c === 34 || c === 92 || (c < 32 && c !== 9) || c === 127) out += "\\" + s[i];
    else out += s[i];
  }
  return out + '"';
}

/** Remove the quotes and quoted-pair escapes of a quoted-string; other text is returned as is. */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 34 || s.charCodeAt(s.length - 1) !== 34) return s;
  let out = "";
  for (let i = 1; i < s.length - 1; i++) {
    if (s.charCodeAt(i) === 92 && i + 1 < s.length - 1) i++;
    out += s[i];
  }
  return out;
}
