/**
 * Comma-separated token lists: Supported, Require, Proxy-Require, Unsupported (RFC 3261 §20.37,
 * §20.32, §20.29, §20.40 option-tags) and Allow (§20.5 methods).
 */
import { isToken } from "./_chars.ts";
import { attempt, fail, splitList } from "./_cursor.ts";
import type { Parsed } from "./params.ts";

/** Internal: read `[token *(COMMA token)]`, or throw a `SyntaxFault`. */
export function readTokenList(text: string): string[] {
  if (text.trim().length === 0) return [];
  const out: string[] = [];
  for (const part of splitList(text)) {
    if (!isToken(part)) fail(part.length === 0 ? "empty list element" : `malformed token ${part}`);
    out.push(part);
  }
  return out;
}

/** Parse an option-tag list such as `timer, 100rel` (RFC 3261 §20.37). */
export function parseTokenList(text: string): Parsed<readonly string[]> {
  return attempt(() => readTokenList(text));
}

/** Write a token list as `a, b`. */
export function formatTokenList(tags: readonly string[]): string {
  return tags.join(", ");
}
