/**
 * Answering a digest challenge as a UAC (RFC 3261 §22.2, §22.3): a 401's WWW-Authenticate is
 * answered with Authorization, a 407's Proxy-Authenticate with Proxy-Authorization, in a copy of
 * the request with a new CSeq (§8.1.3.5). The caller retries once; a second challenge is final.
 */
import { type AuthValue, formatUri, type SipRequest, type SipResponse } from "../message/mod.ts";
import { chooseChallenge, type DigestCredentials, digestResponse } from "../auth/digest.ts";

/** The credentials header answering a challenge. */
export interface Authorization {
  /** `Authorization` for a 401, `Proxy-Authorization` for a 407. */
  readonly name: "Authorization" | "Proxy-Authorization";
  readonly value: AuthValue;
}

/** Whether `status` is a challenge (RFC 3261 §22.2 401, §22.3 407). */
export function isChallenge(status: number): boolean {
  return status === 401 || status === 407;
}

/**
 * Credentials answering `response`'s challenge for `request` (its method and Request-URI), or
 * undefined when no Digest challenge we implement was offered.
 */
export function answerChallenge(
  request: SipRequest,
  response: SipResponse,
  credentials: DigestCredentials,
): Authorization | undefined {
  const proxy = response.status === 407;
  const challenge = chooseChallenge(proxy ? response.proxyAuthenticate : response.wwwAuthenticate);
  if (!challenge) return undefined;
  const value = digestResponse(challenge, credentials, {
    method: request.method,
    uri: formatUri(request.uri),
  });
  return { name: proxy ? "Proxy-Authorization" : "Authorization", value };
}
