import assert from "node:assert/strict";
import { Endpoint } from "../../../src/media/endpoint.ts";
import { RingIO } from "../../../src/media/endpoint_io.ts";
import { PcmRing } from "../../../src/media/pcm_ring.ts";

const FRAME = 640; // 20 ms at 16 kHz

function endpoint() {
  const ingress = PcmRing.allocate(FRAME * 50);
  const egress = PcmRing.allocate(FRAME * 10);
  const io = new RingIO(ingress, egress, FRAME);
  return { ep: new Endpoint("e", 16000, io, false), io, producer: new PcmRing(ingress) };
}

Deno.test("a bursty sender (100 ms bursts) is played out without gaps once the first burst arrived", () => {
  const { ep, io, producer } = endpoint();
  let pulled = 0;
  let gaps = 0;
  for (let tick = 0; tick < 500; tick++) {
    if (tick % 5 === 0) producer.write(new Uint8Array(FRAME * 5));
    if (ep.pull()) pulled++;
    else gaps++;
  }
  assert.equal(gaps, 0);
  assert.equal(pulled, 500);
  assert.equal(io.driftSkips, 0, "burstiness is not mistaken for clock drift");
});

Deno.test("a sender whose clock runs 3 % fast does not grow latency without bound", () => {
  const { ep, io, producer } = endpoint();
  let owed = 0;
  let maxFill = 0;
  for (let tick = 0; tick < 5000; tick++) { // 100 s of audio
    owed += 1.03;
    while (owed >= 1) {
      producer.write(new Uint8Array(FRAME));
      owed--;
    }
    ep.pull();
    if (tick > 1000) maxFill = Math.max(maxFill, io.ingress.available() / FRAME);
  }
  assert.ok(io.driftSkips > 0, "frames were dropped to follow the sender's clock");
  // Without correction the backlog would reach 150 frames (3 s) after 100 s; the ring's own
  // bound is 50 frames (1 s). With correction it stays within a few frames.
  assert.ok(maxFill <= 12, `latency stayed bounded, max ${maxFill} frames`);
});

Deno.test("a slow sender leaves gaps but never accumulates a backlog", () => {
  const { ep, io, producer } = endpoint();
  let owed = 0;
  let gaps = 0;
  for (let tick = 0; tick < 1000; tick++) {
    owed += 0.97;
    while (owed >= 1) {
      producer.write(new Uint8Array(FRAME));
      owed--;
    }
    if (!ep.pull()) gaps++;
    assert.ok(io.ingress.available() <= FRAME * 2);
  }
  assert.ok(gaps >= 25 && gaps <= 35, `≈3 % of ticks have no frame (${gaps})`);
});
