/**
 * SIP request methods: RFC 3261 §27.4 and the extensions the server speaks (RFC 2976 INFO,
 * RFC 3262 PRACK, RFC 3311 UPDATE, RFC 3428 MESSAGE, RFC 3515 REFER, RFC 3903 PUBLISH,
 * RFC 6665 SUBSCRIBE/NOTIFY). Methods are case-sensitive tokens (RFC 3261 §7.1).
 */

/** Method names as constants: `SipMethod.INVITE === "INVITE"`. */
export const SipMethod = {
  ACK: "ACK",
  BYE: "BYE",
  CANCEL: "CANCEL",
  INFO: "INFO",
  INVITE: "INVITE",
  MESSAGE: "MESSAGE",
  NOTIFY: "NOTIFY",
  OPTIONS: "OPTIONS",
  PRACK: "PRACK",
  PUBLISH: "PUBLISH",
  REFER: "REFER",
  REGISTER: "REGISTER",
  SUBSCRIBE: "SUBSCRIBE",
  UPDATE: "UPDATE",
} as const;

/** A method this stack knows; others are extension methods (RFC 3261 §8.2.1: 501 or 405). */
export type KnownMethod = typeof SipMethod[keyof typeof SipMethod];

const KNOWN: ReadonlySet<string> = new Set(Object.values(SipMethod));

/** Whether `method` is one of `SipMethod` (exact case, RFC 3261 §7.1). */
export function isKnownMethod(method: string): method is KnownMethod {
  return KNOWN.has(method);
}
