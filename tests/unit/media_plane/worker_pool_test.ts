import assert from "node:assert/strict";
import { MediaPlane } from "../../../src/media_plane/worker_pool.ts";
import { Logger } from "../../../src/log/logger.ts";
import { ServiceUnavailable } from "../../../src/errors.ts";

const quiet = new Logger("error", {}, () => {});
const sink = { drain() {} };

Deno.test("MediaPlane spreads endpoints over workers and refuses new ones when every worker is saturated", async () => {
  const plane = new MediaPlane({
    size: 2,
    logger: quiet,
    listener: { speaking() {} },
    workerUrl: new URL("../../helpers/saturated_worker.ts", import.meta.url),
  });
  try {
    plane.attach("a", 16000, sink);
    plane.attach("b", 16000, sink);
    assert.equal(plane.workerCount, 2, "the second endpoint starts the second worker");
    // Both stand-in workers now report 95 % utilization.
    const deadline = Date.now() + 10_000;
    while (plane.stats().some((w) => w.utilization < 0.9)) {
      if (Date.now() > deadline) throw new Error("workers never reported load");
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.throws(
      () => plane.requireCapacity(),
      (e) => e instanceof ServiceUnavailable && e.message === "media capacity exhausted",
    );
    assert.throws(
      () => plane.attach("c", 16000, sink),
      (e) =>
        e instanceof ServiceUnavailable && e.status === 503 &&
        e.message === "media capacity exhausted",
    );
    // Endpoints already placed keep working: detaching and re-joining state is unaffected.
    plane.detach("a");
    assert.equal(plane.stats().reduce((n, w) => n + w.endpoints, 0), 1);
  } finally {
    await plane.close();
  }
});
