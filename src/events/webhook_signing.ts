/**
 * Webhook body signing (compat-notes §2.3): `X-Signature-256: sha256=<hex>` where hex is the
 * lowercase HMAC-SHA256 of the raw body bytes keyed with the secret, the scheme GitHub uses, so
 * receivers can reuse existing verification code.
 */

/** Most recently used imported keys, bounded so a stream of distinct per-leg secrets cannot grow it. */
const KEY_CACHE_LIMIT = 256;
const keyCache = new Map<string, Promise<CryptoKey>>();

const encoder = new TextEncoder();
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function importKey(secret: string): Promise<CryptoKey> {
  const cached = keyCache.get(secret);
  if (cached) {
    // Re-insert to mark as most recently used; Map iteration order is insertion order.
    keyCache.delete(secret);
    keyCache.set(secret, cached);
    return cached;
  }
  const key = crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  // Caching the promise lets concurrent deliveries with one secret share a single import.
  keyCache.set(secret, key);
  key.catch(() => {
    if (keyCache.get(secret) === key) keyCache.delete(secret);
  });
  if (keyCache.size > KEY_CACHE_LIMIT) {
    keyCache.delete(keyCache.keys().next().value!);
  }
  return key;
}

/**
 * Returns the `X-Signature-256` header value for `body`: `sha256=` plus the lowercase hex
 * HMAC-SHA256 keyed with the UTF-8 bytes of `secret`. Rejects for an empty secret (WebCrypto
 * refuses zero-length HMAC keys); callers send no signature when the secret is empty.
 */
export async function signBody(secret: string, body: string): Promise<string> {
  const key = await importKey(secret);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  let hex = "sha256=";
  for (let i = 0; i < mac.length; i++) hex += HEX[mac[i]];
  return hex;
}

/** Number of cached imported keys (for tests of the cache bound). */
export function signingKeyCacheSize(): number {
  return keyCache.size;
}
