/**
 * HTTP Digest authentication as a SIP client (RFC 3261 §22.4, RFC 2617, RFC 8760): answers a
 * 401 WWW-Authenticate or 407 Proxy-Authenticate challenge with MD5 or SHA-256, with or without
 * `qop=auth`. MD5 is not in WebCrypto, so hashing uses `node:crypto` (synchronous, fine for a
 * handful of challenges per call).
 */
import { createHash } from "node:crypto";
import type { AuthParam, AuthValue } from "../message/auth_header.ts";

/** Digest algorithms we answer (RFC 8760 adds SHA-256; `-sess` variants per RFC 2617 §3.2.2.2). */
export type DigestAlgorithm = "MD5" | "MD5-sess" | "SHA-256" | "SHA-256-sess";

/** A parsed digest challenge. */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string;
  readonly algorithm: DigestAlgorithm;
  /** qop options offered by the server (we use `auth`). */
  readonly qop: readonly string[];
  readonly stale: boolean;
}

/** Credentials to answer with. */
export interface DigestCredentials {
  readonly username: string;
  readonly password: string;
}

/** What is being authorized. */
export interface DigestRequest {
  readonly method: string;
  /** The Request-URI as sent, e.g. `sip:bob@example.com`. */
  readonly uri: string;
  /** The request body, only for `qop=auth-int` (not used: we answer `auth`). */
  readonly body?: string;
}

function param(params: readonly AuthParam[], name: string): string | undefined {
  return params.find((p) => p.name.toLowerCase() === name)?.value;
}

const ALGORITHMS: Readonly<Record<string, DigestAlgorithm>> = {
  "md5": "MD5",
  "md5-sess": "MD5-sess",
  "sha-256": "SHA-256",
  "sha-256-sess": "SHA-256-sess",
};

/**
 * Reads a Digest challenge; undefined when the scheme is not Digest, a required parameter is
 * missing, or the algorithm is one we do not implement (the caller then tries the next
 * challenge, RFC 8760 §2.4 lets a server offer several).
 */
export function parseDigestChallenge(value: AuthValue): DigestChallenge | undefined {
  if (value.scheme.toLowerCase() !== "digest") return undefined;
  const realm = param(value.params, "realm");
  const nonce = param(value.params, "nonce");
  if (realm === undefined || nonce === undefined) return undefined;
  const alg = ALGORITHMS[(param(value.params, "algorithm") ?? "MD5").toLowerCase()];
  if (alg === undefined) return undefined;
  const qop = (param(value.params, "qop") ?? "").split(",").map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
  return {
    realm,
    nonce,
    opaque: param(value.params, "opaque"),
    algorithm: alg,
    qop,
    stale: (param(value.params, "stale") ?? "").toLowerCase() === "true",
  };
}

/** Picks the strongest challenge we can answer (SHA-256 over MD5, RFC 8760 §3). */
export function chooseChallenge(values: readonly AuthValue[]): DigestChallenge | undefined {
  const parsed = values.map(parseDigestChallenge).filter((c): c is DigestChallenge => !!c);
  return parsed.find((c) => c.algorithm.startsWith("SHA-256")) ?? parsed[0];
}

function hash(alg: DigestAlgorithm, data: string): string {
  return createHash(alg.startsWith("SHA-256") ? "sha256" : "md5").update(data, "utf8").digest(
    "hex",
  );
}

/** A client nonce: 16 random bytes as hex. */
export function generateCnonce(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/**
 * Computes the credentials answering `challenge` (RFC 2617 §3.2.2). With `qop` offered we use
 * `auth`, nonce-count `nc` and a client nonce; without it, the RFC 2069 form.
 */
export function digestResponse(
  challenge: DigestChallenge,
  creds: DigestCredentials,
  req: DigestRequest,
  options: { nc?: number; cnonce?: string } = {},
): AuthValue {
  const useQop = challenge.qop.includes("auth");
  const nc = (options.nc ?? 1).toString(16).padStart(8, "0");
  const cnonce = options.cnonce ?? generateCnonce();
  let ha1 = hash(challenge.algorithm, `${creds.username}:${challenge.realm}:${creds.password}`);
  if (challenge.algorithm.endsWith("-sess")) {
    ha1 = hash(challenge.algorithm, `${ha1}:${challenge.nonce}:${cnonce}`);
  }
  const ha2 = hash(challenge.algorithm, `${req.method}:${req.uri}`);
  const response = useQop
    ? hash(challenge.algorithm, `${ha1}:${challenge.nonce}:${nc}:${cnonce}:auth:${ha2}`)
    : hash(challenge.algorithm, `${ha1}:${challenge.nonce}:${ha2}`);
  const params: AuthParam[] = [
    { name: "username", value: creds.username, quoted: true },
    { name: "realm", value: challenge.realm, quoted: true },
    { name: "nonce", value: challenge.nonce, quoted: true },
    { name: "uri", value: req.uri, quoted: true },
    { name: "response", value: response, quoted: true },
    { name: "algorithm", value: challenge.algorithm, quoted: false },
  ];
  if (challenge.opaque !== undefined) {
    params.push({ name: "opaque", value: challenge.opaque, quoted: true });
  }
  if (useQop) {
    params.push({ name: "qop", value: "auth", quoted: false });
    params.push({ name: "nc", value: nc, quoted: false });
    params.push({ name: "cnonce", value: cnonce, quoted: true });
  }
  return { scheme: "Digest", params };
}
