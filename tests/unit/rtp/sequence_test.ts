import assert from "node:assert/strict";
import { extendSeq, seqDiff, seqLess, seqNext, tsDiff } from "../../../src/rtp/sequence.ts";

Deno.test("seqDiff() counts forward across the 65535 → 0 wrap", () => {
  assert.equal(seqDiff(65535, 0), 1);
  assert.equal(seqDiff(65530, 4), 10);
  assert.equal(seqDiff(4, 65530), -10);
  assert.equal(seqDiff(100, 100), 0);
  assert.equal(seqDiff(0, 32767), 32767);
  assert.equal(seqDiff(0, 32768), -32768);
});

Deno.test("seqLess() orders sequence numbers wrap-aware", () => {
  assert.equal(seqLess(65535, 0), true);
  assert.equal(seqLess(0, 65535), false);
  assert.equal(seqLess(7, 7), false);
  assert.equal(seqLess(1000, 1001), true);
});

Deno.test("seqNext() wraps 65535 to 0", () => {
  assert.equal(seqNext(65535), 0);
  assert.equal(seqNext(41), 42);
});

Deno.test("extendSeq() adds a cycle at the wrap and keeps reordered packets in the old cycle", () => {
  assert.equal(extendSeq(0, 65535), 65536);
  assert.equal(extendSeq(3, 65534), 65539);
  assert.equal(extendSeq(65534, 65537), 65534); // reordered from before the wrap
  assert.equal(extendSeq(10, 3 * 65536 + 5), 3 * 65536 + 10);
  assert.equal(extendSeq(65535, 0), -1); // a packet from before the first one
});

Deno.test("tsDiff() is a signed 32-bit distance across the timestamp wrap", () => {
  assert.equal(tsDiff(0xffffff60, 0x00000000), 160);
  assert.equal(tsDiff(160, 0), -160);
  assert.equal(tsDiff(1000, 1160), 160);
});
