import assert from "node:assert/strict";
import { FrameQueue } from "../../../src/api/vsi_queue.ts";

function drain(q: FrameQueue): string[] {
  const out: string[] = [];
  for (let f = q.shift(); f !== undefined; f = q.shift()) out.push(f);
  return out;
}

Deno.test("FrameQueue keeps FIFO order across many wrap-arounds", () => {
  const q = new FrameQueue(4);
  const got: string[] = [];
  let next = 0;
  q.pushEvent(`e${next++}`); // a standing backlog of one, so head and tail wrap independently
  for (let round = 0; round < 100; round++) {
    for (let k = 0; k < 3; k++) assert.equal(q.pushEvent(`e${next++}`), true);
    got.push(q.shift()!, q.shift()!, q.shift()!);
  }
  got.push(...drain(q));
  assert.deepEqual(got, Array.from({ length: 301 }, (_, i) => `e${i}`));
  assert.equal(q.size, 0);
  assert.equal(q.eventCount, 0);
});

Deno.test("FrameQueue refuses the newest event when the event bound is reached", () => {
  const q = new FrameQueue(3);
  assert.equal(q.pushEvent("a"), true);
  assert.equal(q.pushEvent("b"), true);
  assert.equal(q.pushEvent("c"), true);
  assert.equal(q.eventsFull, true);
  assert.equal(q.pushEvent("d"), false);
  assert.equal(q.eventCount, 3);
  assert.equal(q.shift(), "a");
  assert.equal(q.eventsFull, false);
  assert.equal(q.pushEvent("e"), true);
  assert.deepEqual(drain(q), ["b", "c", "e"]);
});

Deno.test("FrameQueue never refuses control frames and keeps them in order with events", () => {
  const q = new FrameQueue(2);
  q.pushEvent("e0");
  q.pushEvent("e1");
  for (let i = 0; i < 50; i++) q.pushControl(`c${i}`); // beyond the preallocated slack: grows
  assert.equal(q.pushEvent("e2"), false);
  assert.equal(q.size, 52);
  assert.equal(q.eventCount, 2);
  assert.equal(q.shift(), "e0");
  assert.equal(q.pushEvent("e3"), true);
  const rest = drain(q);
  assert.deepEqual(rest, ["e1", ...Array.from({ length: 50 }, (_, i) => `c${i}`), "e3"]);
});

Deno.test("FrameQueue grows correctly when the ring is wrapped", () => {
  const q = new FrameQueue(2); // 2 + slack slots
  for (let i = 0; i < 8; i++) q.pushControl(`a${i}`);
  for (let i = 0; i < 6; i++) q.shift();
  for (let i = 0; i < 20; i++) q.pushControl(`b${i}`);
  assert.deepEqual(drain(q), ["a6", "a7", ...Array.from({ length: 20 }, (_, i) => `b${i}`)]);
});

Deno.test("FrameQueue.clear() empties the queue and releases the event bound", () => {
  const q = new FrameQueue(2);
  q.pushEvent("a");
  q.pushEvent("b");
  q.pushControl("c");
  q.clear();
  assert.equal(q.size, 0);
  assert.equal(q.eventCount, 0);
  assert.equal(q.shift(), undefined);
  assert.equal(q.pushEvent("d"), true);
  assert.deepEqual(drain(q), ["d"]);
});

Deno.test("FrameQueue rejects a non-positive capacity", () => {
  assert.throws(() => new FrameQueue(0), RangeError);
  assert.throws(() => new FrameQueue(1.5), RangeError);
});
