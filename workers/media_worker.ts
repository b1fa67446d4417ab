/**
 * Media worker entry point: one {@link MediaEngine} per worker, driven by commands from the main
 * thread. Everything that touches samples runs here.
 */
/// <reference lib="deno.worker" />
import { MediaEngine } from "../src/media/engine.ts";
import type { WorkerCommand, WorkerEvent } from "../src/media/protocol.ts";
import { workerFeatures } from "../src/media/features.ts";

const engine = new MediaEngine((ev: WorkerEvent) => self.postMessage(ev), {
  features: workerFeatures(),
});

self.onmessage = (ev: MessageEvent<WorkerCommand>) => {
  try {
    engine.handle(ev.data);
    if (ev.data.t === "stop") self.close();
  } catch (err) {
    self.postMessage(
      {
        t: "error",
        message: err instanceof Error ? err.message : String(err),
      } satisfies WorkerEvent,
    );
  }
};
