import assert from "node:assert/strict";
import { parseTarget, RingQueue, WebhookLane } from "../../../src/events/webhook_lane.ts";

Deno.test("RingQueue is FIFO across wrap-around and growth", () => {
  const q = new RingQueue<number>(4);
  const expected: number[] = [];
  let next = 0;
  // Interleave pushes and shifts so the head wraps before the buffer has to grow.
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 3 + (round % 5); i++) {
      q.push(next);
      expected.push(next++);
    }
    for (let i = 0; i < 2 + (round % 3); i++) assert.equal(q.shift(), expected.shift());
    assert.equal(q.length, expected.length);
  }
  while (expected.length > 0) assert.equal(q.shift(), expected.shift());
  assert.equal(q.shift(), undefined);
  assert.equal(q.length, 0);
});

Deno.test("RingQueue.clear() empties the queue and it stays usable", () => {
  const q = new RingQueue<string>();
  for (const s of ["a", "b", "c"]) q.push(s);
  q.clear();
  assert.equal(q.length, 0);
  assert.equal(q.shift(), undefined);
  q.push("d");
  assert.equal(q.shift(), "d");
});

Deno.test("a lane logs only the host of its URL and rejects non-http(s) targets", () => {
  const lane = new WebhookLane("http://user:pw@127.0.0.1:8080/hook?token=abc");
  assert.equal(lane.host, "127.0.0.1:8080");
  assert.equal(lane.pending, 0);
  assert.equal(new WebhookLane("not a url").target, undefined);
  assert.equal(parseTarget("ftp://127.0.0.1/x"), undefined);
  assert.equal(parseTarget("https://example.invalid/x")?.host, "example.invalid");
});
