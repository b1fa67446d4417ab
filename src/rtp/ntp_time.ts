/**
 * NTP timestamps as RTCP carries them (RFC 3550 §4: 64-bit, seconds since 1900
 * and a 32-bit binary fraction; §6.4.1 uses the middle 32 bits as LSR).
 *
 * @module
 */

/** Seconds between the NTP epoch (1900) and the Unix epoch (RFC 5905 §6). */
export const NTP_UNIX_OFFSET_S = 2208988800;

/** Integer NTP seconds (mod 2^32) for a Unix time in milliseconds (RFC 3550 §4). */
export function ntpSeconds(unixMs: number): number {
  return (Math.floor(unixMs / 1000) + NTP_UNIX_OFFSET_S) >>> 0;
}

/** NTP fraction of a second (1/2^32 units) for a Unix time in milliseconds. */
export function ntpFraction(unixMs: number): number {
  const ms = unixMs - Math.floor(unixMs / 1000) * 1000;
  return Math.floor((ms / 1000) * 0x100000000) >>> 0;
}

/** RFC 3550 §6.4.1: LSR is the middle 32 bits of the 64-bit NTP timestamp. */
export function ntpMiddle32(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}
