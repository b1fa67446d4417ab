/**
 * Hold and resume by re-offer (RFC 3264 §8.4): the same media with a new direction and the
 * `o=` version incremented (§8: a changed offer must carry a higher version), and the test for
 * a peer's re-INVITE that puts us on hold.
 */

import { directionOf, isRemoteHold, sends } from "./direction.ts";
import { serializeSdp } from "./serialize.ts";
import type { Direction, MediaDescription, SessionDescription } from "./types.ts";

/** One of our SDP bodies and its model. */
export interface LocalDescription {
  readonly sdp: string;
  readonly description: SessionDescription;
}

/** `o=` version + 1, in arbitrary precision (versions may be 64-bit NTP-style values). */
export function nextSessionVersion(version: string): string {
  return (BigInt(version) + 1n).toString();
}

/**
 * Re-offers `prev` (our last offer or answer) with every live stream set by `direction`, a
 * function of its current direction. The session-level direction is folded into the media.
 */
export function redirect(
  prev: SessionDescription,
  direction: (current: Direction) => Direction,
): LocalDescription {
  const media = prev.media.map((m): MediaDescription =>
    m.port === 0 ? m : { ...m, direction: direction(m.direction ?? prev.direction ?? "sendrecv") }
  );
  const { direction: _session, ...rest } = prev;
  const description: SessionDescription = {
    ...rest,
    origin: { ...prev.origin, sessionVersion: nextSessionVersion(prev.origin.sessionVersion) },
    media,
  };
  return { sdp: serializeSdp(description), description };
}

/** RFC 3264 §8.4: hold — sendrecv becomes sendonly, recvonly becomes inactive. */
export function holdOffer(prev: SessionDescription): LocalDescription {
  return redirect(prev, (d) => directionOf(sends(d), false));
}

/** Resume after hold: every live stream back to sendrecv. */
export function resumeOffer(prev: SessionDescription): LocalDescription {
  return redirect(prev, () => "sendrecv");
}

/**
 * Whether a peer's (re-)offer puts us on hold: its first live audio stream is sendonly or
 * inactive, or points at the null address (RFC 3264 §8.4, RFC 2543 style).
 */
export function isHoldOffer(offer: SessionDescription): boolean {
  const m = offer.media.find((x) => x.media === "audio" && x.port !== 0);
  return m !== undefined && isRemoteHold(offer, m);
}
