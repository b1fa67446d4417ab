import assert from "node:assert/strict";
import { MediaClock } from "../../../src/media/clock.ts";

Deno.test("MediaClock skips missed ticks instead of running them back to back", async () => {
  let fakeNow = 0;
  const seen: number[] = [];
  const clock = new MediaClock((k) => {
    seen.push(k);
    if (k === 2) fakeNow += 75; // a stall of ~4 periods inside one tick
  }, { periodMs: 20, now: () => fakeNow });
  clock.start();
  for (let i = 0; i < 6; i++) {
    fakeNow += 20;
    await new Promise((r) => setTimeout(r, 25));
  }
  clock.stop();
  assert.ok(clock.stats.skipped >= 2, `skipped ${clock.stats.skipped}`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1]);
  assert.ok(seen.some((k, i) => i > 0 && k - seen[i - 1] > 1), "tick numbers jump over the stall");
});

Deno.test("MediaClock stays on its grid over 1 s of real time", async () => {
  const lates: number[] = [];
  const clock = new MediaClock((_k, late) => lates.push(late), { periodMs: 20 });
  clock.start();
  await new Promise((r) => setTimeout(r, 1010));
  clock.stop();
  // 50 ideal ticks; a drifting setInterval would lose ~1 tick per second and lateness would grow.
  assert.ok(lates.length >= 48 && lates.length <= 51, `ticks ${lates.length}`);
  assert.ok(Math.max(...lates.slice(-10)) < 20, "no accumulated drift");
});
