/**
 * Random identifiers: branch (RFC 3261 §8.1.1.7, §17.2.3), tags (§19.3) and Call-IDs (§8.1.1.4),
 * drawn from the platform CSPRNG so they are globally unique and unguessable.
 */
import { BRANCH_MAGIC_COOKIE } from "./via.ts";

const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

function randomToken(length: number): string {
  // 36 symbols from bytes: reject 252–255 to keep the distribution uniform.
  let out = "";
  const buf = new Uint8Array(length * 2);
  while (out.length < length) {
    crypto.getRandomValues(buf);
    for (let i = 0; i < buf.length && out.length < length; i++) {
      if (buf[i] < 252) out += ALPHABET[buf[i] % 36];
    }
  }
  return out;
}

/** A new Via branch: the `z9hG4bK` magic cookie and 22 random characters (≈ 113 bits). */
export function generateBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomToken(22);
}

/** A new From/To tag: 16 random characters (≈ 82 bits, RFC 3261 §19.3 asks for ≥ 32). */
export function generateTag(): string {
  return randomToken(16);
}

/** A new Call-ID: 24 random characters, `@host` appended when given (RFC 3261 §8.1.1.4). */
export function generateCallId(host?: string): string {
  const id = randomToken(24);
  return host ? `${id}@${host}` : id;
}
