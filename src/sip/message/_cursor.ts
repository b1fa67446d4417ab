/**
 * A small scanner over one unfolded header value, shared by the header grammars. Internal: its
 * failures are `SyntaxFault`s that the public parse functions turn into results.
 */
import { isIn, TOKEN } from "./_chars.ts";

/** A grammar violation found while scanning; never escapes the message layer. */
export class SyntaxFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SyntaxFault";
  }
}

/** Throw a `SyntaxFault`. */
export function fail(message: string): never {
  throw new SyntaxFault(message);
}

/** Run `fn`, turning a `SyntaxFault` into `{ok: false}`; other errors propagate. */
export function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: string } {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (e instanceof SyntaxFault) return { ok: false, error: e.message };
    throw e;
  }
}

/** Cursor over a string; LWS has been unfolded, so whitespace is only SP and HTAB. */
export class Cursor {
  pos: number;
  readonly text: string;

  constructor(text: string, pos = 0) {
    this.text = text;
    this.pos = pos;
  }

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  /** Skip SP/HTAB; returns how many were skipped. */
  skipWs(): number {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 32 && c !== 9) break;
      this.pos++;
    }
    return this.pos - start;
  }

  /** Consume `ch` if it is next. */
  eat(ch: number): boolean {
    if (this.peek() !== ch) return false;
    this.pos++;
    return true;
  }

  /** Consume SWS `ch` SWS (RFC 3261 §25.1 SEMI, COMMA, EQUAL, SLASH, COLON); restores on miss. */
  eatSep(ch: number): boolean {
    const start = this.pos;
    this.skipWs();
    if (this.eat(ch)) {
      this.skipWs();
      return true;
    }
    this.pos = start;
    return false;
  }

  /** Take the longest run of ASCII characters carrying `flag`. */
  takeSet(flag: number): string {
    const start = this.pos;
    while (this.pos < this.text.length && isIn(this.text.charCodeAt(this.pos), flag)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** Take a non-empty token or fail with `expected <what>`. */
  token(what: string): string {
    const t = this.takeSet(TOKEN);
    if (t.length === 0) fail(`expected ${what}`);
    return t;
  }

  /** Take a quoted-string at the cursor; returns it raw, quotes and escapes included. */
  quotedRaw(): string {
    const start = this.pos;
    if (!this.eat(34)) fail("expected a quoted string");
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 34) {
        this.pos++;
        return this.text.slice(start, this.pos);
      }
      if (c === 92) {
        const next = this.text.charCodeAt(this.pos + 1);
        if (Number.isNaN(next) || next === 10 || next === 13 || next > 127) {
          fail("bad escape in quoted string");
        }
        this.pos += 2;
        continue;
      }
      if ((c < 32 && c !== 9) || c === 127) fail("control character in quoted string");
      this.pos++;
    }
    return fail("unterminated quoted string");
  }

  /** Take everything up to the end. */
  rest(): string {
    const r = this.text.slice(this.pos);
    this.pos = this.text.length;
    return r;
  }

  /** Fail unless only whitespace remains. */
  end(what: string): void {
    this.skipWs();
    if (!this.done) fail(`unexpected "${this.text[this.pos]}" in ${what}`);
  }
}

/**
 * Split a header value at commas that are outside quoted strings and `<…>` (RFC 3261 §7.3.1).
 * Parts are trimmed; empty parts are kept so that grammars can reject them.
 */
export function splitList(value: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let angle = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 92) i++;
      else if (c === 34) quoted = false;
    } else if (c === 34) quoted = true;
    else if (c === 60) angle = true;
    else if (c === 62) angle = false;
    else if (c === 44 && !angle) {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts;
}
