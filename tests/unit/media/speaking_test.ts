import assert from "node:assert/strict";
import { SpeakingChange, SpeakingDetector } from "../../../src/media/speaking.ts";

/** RMS (Int16 units) of a level in dBFS. */
const level = (dbfs: number) => 32768 * Math.pow(10, dbfs / 20);
const LOUD = level(-20);
const BETWEEN = level(-42.5); // under the on-threshold, above the off-threshold
const QUIET = level(-60);

/** Feeds levels frame by frame; returns the frame indexes of each transition. */
function feed(d: SpeakingDetector, levels: number[]) {
  const events: [number, SpeakingChange][] = [];
  levels.forEach((l, i) => {
    const e = d.update(l);
    if (e !== SpeakingChange.None) events.push([i, e]);
  });
  return events;
}
const repeat = (v: number, n: number) => Array<number>(n).fill(v);

Deno.test("speaking starts on the third consecutive frame above -40 dBFS (60 ms)", () => {
  const d = new SpeakingDetector();
  assert.deepEqual(feed(d, [...repeat(QUIET, 5), ...repeat(LOUD, 5)]), [
    [7, SpeakingChange.Started],
  ]);
  assert.equal(d.speaking, true);
});

Deno.test("short bursts of up to 40 ms and levels between the thresholds never start speech", () => {
  const d = new SpeakingDetector();
  const levels = [
    LOUD,
    QUIET,
    LOUD,
    LOUD,
    QUIET,
    LOUD,
    BETWEEN,
    LOUD,
    LOUD,
    ...repeat(BETWEEN, 30),
  ];
  assert.deepEqual(feed(d, levels), []);
  assert.equal(d.speaking, false);
});

Deno.test("speaking stops after 400 ms below -45 dBFS, not during pauses between words", () => {
  const d = new SpeakingDetector();
  const levels = [
    ...repeat(LOUD, 3), // started at frame 2
    ...repeat(QUIET, 19), // a 380 ms pause: still speaking
    ...repeat(BETWEEN, 10), // hysteresis band: still speaking, and the quiet count restarts
    ...repeat(QUIET, 19),
    LOUD,
    ...repeat(QUIET, 20), // the 20th quiet frame in a row ends it
    ...repeat(QUIET, 10),
  ];
  assert.deepEqual(feed(d, levels), [
    [2, SpeakingChange.Started],
    [3 + 19 + 10 + 19 + 1 + 19, SpeakingChange.Stopped],
  ]);
  assert.equal(d.speaking, false);
});

Deno.test("custom thresholds and hold times are honoured and reset() forgets the state", () => {
  const d = new SpeakingDetector({ onDb: -30, offDb: -30, onMs: 20, offMs: 40 });
  assert.deepEqual(feed(d, [level(-35), level(-25), level(-35), level(-35)]), [
    [1, SpeakingChange.Started],
    [3, SpeakingChange.Stopped],
  ]);
  d.update(level(-25));
  assert.equal(d.speaking, true);
  d.reset();
  assert.equal(d.speaking, false);
  assert.throws(() => new SpeakingDetector({ onDb: -50, offDb: -40 }), RangeError);
});
