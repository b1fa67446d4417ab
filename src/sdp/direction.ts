/**
 * Media direction arithmetic (RFC 3264 §5.1, §6.1, §8.4). A direction is a pair of flags —
 * "this side sends", "this side receives" — written from the point of view of whoever wrote the
 * SDP; answering and reading an answer both come down to flipping and intersecting those flags.
 */

import { isNullAddress } from "./address.ts";
import type { Direction, MediaDescription, SessionDescription } from "./types.ts";

/** Whether a side declaring `d` sends media. */
export function sends(d: Direction): boolean {
  return d === "sendrecv" || d === "sendonly";
}

/** Whether a side declaring `d` receives media. */
export function receives(d: Direction): boolean {
  return d === "sendrecv" || d === "recvonly";
}

/** The direction whose flags are `send` and `receive`. */
export function directionOf(send: boolean, receive: boolean): Direction {
  if (send) return receive ? "sendrecv" : "sendonly";
  return receive ? "recvonly" : "inactive";
}

/** The same stream seen from the other end: sendonly ↔ recvonly. */
export function reverseDirection(d: Direction): Direction {
  return directionOf(receives(d), sends(d));
}

/** RFC 8866 §6.7: media-level direction, else session-level, else sendrecv. */
export function declaredDirection(sd: SessionDescription, m: MediaDescription): Direction {
  return m.direction ?? sd.direction ?? "sendrecv";
}

/**
 * What the writer of `sd` really does on `m`: its declared direction, except that a null
 * connection address (RFC 3264 §8.4, the RFC 2543 hold) means it cannot receive.
 */
export function effectiveDirection(sd: SessionDescription, m: MediaDescription): Direction {
  const d = declaredDirection(sd, m);
  const address = (m.connection ?? sd.connection)?.address;
  return address !== undefined && isNullAddress(address) ? directionOf(sends(d), false) : d;
}

/**
 * RFC 3264 §6.1: the answerer sends only if the offerer receives, and receives only if the
 * offerer sends; `local` narrows that further (e.g. sendonly while we hold the call).
 * sendonly → recvonly, recvonly → sendonly, inactive → inactive.
 */
export function answerDirection(offered: Direction, local: Direction = "sendrecv"): Direction {
  return directionOf(receives(offered) && sends(local), sends(offered) && receives(local));
}

/**
 * RFC 3264 §8.4: the remote has put us on hold when it stops receiving — it declares sendonly
 * or inactive, or it points its connection at the null address.
 */
export function isRemoteHold(sd: SessionDescription, m: MediaDescription): boolean {
  return !receives(effectiveDirection(sd, m));
}
