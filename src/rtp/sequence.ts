/**
 * Wrap-aware arithmetic on RTP sequence numbers (16 bit) and timestamps (32 bit).
 *
 * RFC 3550 §A.1 counts sequence-number wrap-arounds ("cycles") to form the
 * extended sequence number; RFC 1982 serial-number arithmetic decides which of
 * two values is "later" when both are within half the number space.
 *
 * @module
 */

/** RFC 3550 §5.1: sequence numbers are 16-bit and wrap from 65535 to 0. */
export const SEQ_MOD = 0x10000;

/**
 * Signed distance from `a` to `b` in 16-bit sequence space, in [-32768, 32767]
 * (RFC 1982 serial arithmetic): `seqDiff(65535, 0) === 1`.
 */
export function seqDiff(a: number, b: number): number {
  return (((b - a) & 0xffff) << 16) >> 16;
}

/** True when sequence number `a` comes strictly before `b` (RFC 1982, wrap-aware). */
export function seqLess(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

/** The sequence number following `seq`, wrapping 65535 → 0 (RFC 3550 §5.1). */
export function seqNext(seq: number): number {
  return (seq + 1) & 0xffff;
}

/**
 * Extends a 16-bit sequence number to the extended sequence number (RFC 3550
 * §A.1: cycles × 65536 + seq) closest to `reference`, an extended sequence number
 * already seen. The result may be below `reference` (a reordered packet) and may
 * be negative for a packet from before the very first one.
 */
export function extendSeq(seq: number, reference: number): number {
  const candidate = reference - (((reference % SEQ_MOD) + SEQ_MOD) % SEQ_MOD) + (seq & 0xffff);
  const d = candidate - reference;
  if (d > 0x8000) return candidate - SEQ_MOD;
  if (d < -0x8000) return candidate + SEQ_MOD;
  return candidate;
}

/**
 * Signed distance from RTP timestamp `a` to `b` in 32-bit space (RFC 3550 §5.1:
 * timestamps wrap), in [-2^31, 2^31).
 */
export function tsDiff(a: number, b: number): number {
  return (b - a) | 0;
}
