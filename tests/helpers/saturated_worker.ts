/// <reference lib="deno.worker" />
/**
 * A stand-in media worker for placement tests: it reports itself saturated (utilization 0.95)
 * as soon as it receives any command, like a real worker whose ticks take 19 ms of every 20.
 */
self.onmessage = (ev: MessageEvent<{ t: string }>) => {
  if (ev.data.t === "stop") return self.close();
  self.postMessage({
    t: "load",
    utilization: 0.95,
    participants: 1,
    rooms: 0,
    ticks: 1,
    skipped: 0,
    lateMs: 0,
    lateP50: 0,
    lateP99: 0,
    lateMax: 0,
  });
};
