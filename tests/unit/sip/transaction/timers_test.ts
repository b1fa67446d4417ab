import assert from "node:assert/strict";
import {
  cappedDouble,
  checkTimers,
  DEFAULT_SIP_TIMERS,
  timerB,
  timerD,
  timerF,
  timerH,
  timerI,
  timerJ,
  timerK,
  timerL,
  timerM,
  TimerSet,
} from "../../../../src/sip/transaction/mod.ts";
import { FakeClock } from "./_helpers.ts";

Deno.test("timers derive from {t1, t2, t4} as RFC 3261 Table 4 gives them", () => {
  const t = DEFAULT_SIP_TIMERS;
  assert.deepEqual(t, { t1: 500, t2: 4000, t4: 5000 });
  assert.equal(timerB(t), 32_000);
  assert.equal(timerD(t, false), 32_000);
  assert.equal(timerD(t, true), 0);
  assert.equal(timerF(t), 32_000);
  assert.equal(timerH(t), 32_000);
  assert.equal(timerI(t, false), 5000);
  assert.equal(timerI(t, true), 0);
  assert.equal(timerJ(t, false), 32_000);
  assert.equal(timerJ(t, true), 0);
  assert.equal(timerK(t, false), 5000);
  assert.equal(timerK(t, true), 0);
  assert.equal(timerL(t), 32_000);
  assert.equal(timerM(t), 32_000);
  const intervals = [500];
  while (intervals.length < 6) intervals.push(cappedDouble(intervals.at(-1)!, t));
  assert.deepEqual(intervals, [500, 1000, 2000, 4000, 4000, 4000]);
  const small = { t1: 10, t2: 40, t4: 50 };
  assert.equal(timerB(small), 640);
  assert.equal(timerK(small, false), 50);
});

Deno.test("checkTimers() rejects non-positive values and T1 above T2", () => {
  assert.throws(() => checkTimers({ t1: 0, t2: 4000, t4: 5000 }), RangeError);
  assert.throws(() => checkTimers({ t1: 500, t2: Number.NaN, t4: 5000 }), RangeError);
  assert.throws(() => checkTimers({ t1: 5000, t2: 4000, t4: 5000 }), RangeError);
  assert.deepEqual(checkTimers({ t1: 1, t2: 1, t4: 1 }), { t1: 1, t2: 1, t4: 1 });
});

Deno.test("TimerSet restarts a running timer, fires zero durations at once and clears all", () => {
  const clock = new FakeClock();
  const timers = new TimerSet(clock);
  const fired: string[] = [];
  timers.start("A", 100, () => fired.push("A"));
  timers.start("A", 300, () => fired.push("A2"));
  timers.start("B", 200, () => fired.push("B"));
  timers.start("K", 0, () => fired.push("K"));
  assert.deepEqual(fired, ["K"]);
  assert.deepEqual(timers.running().sort(), ["A", "B"]);
  clock.advance(250);
  assert.deepEqual(fired, ["K", "B"]);
  assert.equal(timers.isRunning("B"), false);
  timers.stopAll();
  clock.advance(1000);
  assert.deepEqual(fired, ["K", "B"]);
  assert.equal(clock.pending, 0);
});
