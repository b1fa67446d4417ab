import assert from "node:assert/strict";
import { PcmRing } from "../../../src/media/pcm_ring.ts";

Deno.test("PcmRing moves bytes FIFO across wrap-around between two views of one buffer", () => {
  const sab = PcmRing.allocate(10);
  const producer = new PcmRing(sab);
  const consumer = new PcmRing(sab);
  const out = new Uint8Array(10);
  for (let round = 0; round < 50; round++) {
    assert.equal(producer.write(Uint8Array.of(round, round + 1, round + 2)), true);
    assert.equal(consumer.available(), 3);
    assert.equal(consumer.read(out, 3), true);
    assert.deepEqual([...out.subarray(0, 3)], [round & 255, (round + 1) & 255, (round + 2) & 255]);
  }
  assert.equal(consumer.read(out, 1), false, "empty ring has nothing to read");
});

Deno.test("PcmRing drops a whole chunk that does not fit and counts it", () => {
  const ring = new PcmRing(PcmRing.allocate(8));
  assert.equal(ring.write(new Uint8Array(6)), true);
  assert.equal(ring.write(new Uint8Array(4)), false);
  assert.equal(ring.dropped, 4);
  assert.equal(ring.available(), 6, "nothing partial was written");
  assert.equal(ring.skip(10), 6);
  assert.equal(ring.available(), 0);
  assert.throws(() => PcmRing.allocate(0), RangeError);
});
