import assert from "node:assert/strict";
import {
  ALAW_TO_PCM,
  alawDecode,
  alawDecodeSample,
  alawEncode,
  alawEncodeSample,
  PCM_TO_ALAW,
  PCM_TO_ULAW,
  ULAW_TO_PCM,
  ulawDecode,
  ulawDecodeSample,
  ulawEncode,
  ulawEncodeSample,
} from "../../../src/codecs/g711.ts";

/*
 * Reference G.711, written from the segment tables rather than with bit tricks:
 * find the segment by search, the step by division, the output at the interval
 * midpoint. 16-bit input is truncated to the 14-bit (µ) / 13-bit (A) uniform
 * code with negatives through the ones' complement, as the ITU-T G.191 tools do.
 */

function refUlawEncode(x: number): number {
  const negative = x < 0;
  const mag = Math.floor((negative ? -x - 1 : x) / 4); // 14-bit magnitude
  const biased = Math.min(mag + 33, 8191);
  let seg = 0;
  while (seg < 7 && biased >= 64 * 2 ** seg) seg++; // segment k: [32·2^k, 64·2^k)
  const step = 2 * 2 ** seg;
  const q = Math.floor((biased - 32 * 2 ** seg) / step);
  return (negative ? 0x7f : 0xff) ^ (seg * 16 + q); // transmitted with all bits inverted
}

function refUlawDecode(code: number): number {
  const c = 0xff ^ code;
  const seg = Math.floor((c & 0x7f) / 16);
  const q = c & 0x0f;
  const step = 2 * 2 ** seg;
  const mid = 32 * 2 ** seg + q * step + step / 2; // biased midpoint
  const value = 4 * (mid - 33);
  return c & 0x80 ? 0 - value : value; // 0 − 0 is +0, like the Int16Array entry
}

function refAlawEncode(x: number): number {
  const negative = x < 0;
  const mag = Math.floor((negative ? -x - 1 : x) / 16); // 12-bit magnitude
  let seg = 0;
  if (mag >= 16) {
    seg = 1;
    while (seg < 7 && mag >= 32 * 2 ** (seg - 1)) seg++; // segment k ≥ 1: [16·2^(k−1), 32·2^(k−1))
  }
  const start = seg === 0 ? 0 : 16 * 2 ** (seg - 1);
  const step = seg === 0 ? 1 : 2 ** (seg - 1);
  const q = Math.floor((mag - start) / step);
  return ((negative ? 0 : 0x80) + seg * 16 + q) ^ 0x55; // even bits inverted
}

function refAlawDecode(code: number): number {
  const c = code ^ 0x55;
  const seg = Math.floor((c & 0x7f) / 16);
  const q = c & 0x0f;
  const start = seg === 0 ? 0 : 16 * 2 ** (seg - 1);
  const step = seg === 0 ? 1 : 2 ** (seg - 1);
  const value = 16 * (start + q * step + step / 2);
  return c & 0x80 ? value : -value;
}

Deno.test("µ-law encoding matches the reference G.711 for all 65 536 inputs", () => {
  for (let x = -32768; x <= 32767; x++) {
    const want = refUlawEncode(x);
    if (PCM_TO_ULAW[x & 0xffff] !== want || ulawEncodeSample(x) !== want) {
      assert.fail(`µ-law(${x}) = ${PCM_TO_ULAW[x & 0xffff]}, want ${want}`);
    }
  }
});

Deno.test("µ-law decoding matches the reference G.711 for all 256 codes", () => {
  for (let c = 0; c < 256; c++) {
    assert.equal(ULAW_TO_PCM[c], refUlawDecode(c), `code ${c}`);
    assert.equal(ulawDecodeSample(c), refUlawDecode(c), `code ${c}`);
  }
});

Deno.test("A-law encoding matches the reference G.711 for all 65 536 inputs", () => {
  for (let x = -32768; x <= 32767; x++) {
    const want = refAlawEncode(x);
    if (PCM_TO_ALAW[x & 0xffff] !== want || alawEncodeSample(x) !== want) {
      assert.fail(`A-law(${x}) = ${PCM_TO_ALAW[x & 0xffff]}, want ${want}`);
    }
  }
});

Deno.test("A-law decoding matches the reference G.711 for all 256 codes", () => {
  for (let c = 0; c < 256; c++) {
    assert.equal(ALAW_TO_PCM[c], refAlawDecode(c), `code ${c}`);
    assert.equal(alawDecodeSample(c), refAlawDecode(c), `code ${c}`);
  }
});

Deno.test("G.711 anchors: zero, the ±0 codes and full scale", () => {
  assert.equal(ulawEncodeSample(0), 0xff);
  assert.equal(ulawEncodeSample(-1), 0x7f); // ones' complement: −1 is negative zero
  assert.equal(ulawEncodeSample(32767), 0x80);
  assert.equal(ulawEncodeSample(-32768), 0x00);
  assert.deepEqual([ULAW_TO_PCM[0xff], ULAW_TO_PCM[0x7f], ULAW_TO_PCM[0x80], ULAW_TO_PCM[0x00]], [
    0,
    0,
    32124,
    -32124,
  ]);
  assert.equal(alawEncodeSample(0), 0xd5);
  assert.equal(alawEncodeSample(-1), 0x55);
  assert.equal(alawEncodeSample(32767), 0xaa);
  assert.equal(alawEncodeSample(-32768), 0x2a);
  assert.deepEqual([ALAW_TO_PCM[0xd5], ALAW_TO_PCM[0x55], ALAW_TO_PCM[0xaa], ALAW_TO_PCM[0x2a]], [
    8,
    -8,
    32256,
    -32256,
  ]);
});

Deno.test("G.711 decode → encode → decode is stable for every code", () => {
  for (let c = 0; c < 256; c++) {
    assert.equal(ULAW_TO_PCM[PCM_TO_ULAW[ULAW_TO_PCM[c] & 0xffff]], ULAW_TO_PCM[c]);
    assert.equal(PCM_TO_ALAW[ALAW_TO_PCM[c] & 0xffff], c); // A-law has no duplicate zero
  }
});

Deno.test("ulawEncode()/alawEncode() process one 160-sample frame and respect lengths", () => {
  const pcm = new Int16Array(160);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * i) / 8));
  const u = new Uint8Array(160);
  const a = new Uint8Array(160);
  assert.equal(ulawEncode(pcm, u), 160);
  assert.equal(alawEncode(pcm, a), 160);
  const back = new Int16Array(160);
  assert.equal(ulawDecode(u, back), 160);
  for (let i = 0; i < 160; i++) assert.ok(Math.abs(back[i] - pcm[i]) <= 256, `µ-law sample ${i}`);
  assert.equal(alawDecode(a, back), 160);
  for (let i = 0; i < 160; i++) assert.ok(Math.abs(back[i] - pcm[i]) <= 256, `A-law sample ${i}`);
  assert.equal(ulawEncode(pcm, new Uint8Array(100)), 100);
  assert.equal(ulawDecode(u, new Int16Array(200), 80), 80);
});
