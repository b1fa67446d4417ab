/**
 * Measuring a running SIP load: server CPU (whole process, in 1 s windows), mixer tick lateness,
 * memory, packets delivered, who hears whom (Goertzel) and the mouth-to-ear latency probe.
 */
import { sleep } from "../helpers/pcm_client.ts";
import { type Json, percentile } from "./sip_bench_util.ts";
import type { Rig } from "./sip_rig.ts";

const WARM_S = 2;
const MEASURE_S = 5;
/** A 40 ms burst every 120 ms. */
export const PROBE_PERIOD_TICKS = 6;

/** What a measured load window yields. */
export interface LoadRow {
  name: string;
  workers: number;
  legs: number;
  roomsPerWorker: string;
  endpointsPerWorker: string;
  crossing: number;
  cpuUsPerLegSecond: number;
  /** Lowest and highest of the 1 s windows. */
  cpuRange: [number, number];
  cpuPctOfOneCore: number;
  lateP50: number;
  lateP99: number;
  lateMax: number;
  skipped: number;
  rssKiB: number;
  deliveredRatio: number;
  /** Legs checked to hear their room-mates' tones and not their own (Goertzel). */
  heard: { checked: number; passed: number; skipped: number };
  clientLateP50: number;
  clientLateP99: number;
  latency?: LatencyRow;
}

/** Mouth-to-ear probe results. */
export interface LatencyRow {
  where: string;
  bursts: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  missed: number;
  toneRatio: number;
}

/** A latency row from the load client's `probe` reply. */
export function latencyRow(where: string, r: Json): LatencyRow {
  const l = (r.latencies as number[]).slice().sort((a, b) => a - b);
  return {
    where,
    bursts: l.length,
    p50: percentile(l, 0.5),
    p95: percentile(l, 0.95),
    p99: percentile(l, 0.99),
    max: l[l.length - 1] ?? NaN,
    missed: Number(r.missed),
    toneRatio: Number(r.toneRatioMin),
  };
}

/**
 * Measures the running load: WARM_S warm-up, then MEASURE_S of server CPU, tick lateness,
 * packet counts, and optionally a latency probe between two calls of one room meanwhile.
 */
export async function measure(
  rig: Rig,
  name: string,
  legs: number,
  rooms: Iterable<number[]>,
  probe?: { from: number; to: number },
): Promise<LoadRow> {
  await rig.waitForAudio();
  await sleep(WARM_S * 1000);
  const heard = await rig.client!.request({ cmd: "verify", rooms: [...rooms] });
  const s0 = await rig.server.stats();
  const m0 = await rig.client!.request({ cmd: "mark" });
  const c0 = await rig.server.cpuMicros();
  const t0 = performance.now();
  const probing = probe
    ? rig.client!.request({
      cmd: "probe",
      from: probe.from,
      to: probe.to,
      // The probe's 500 ms lead-in and its final silent period fit in the window.
      bursts: Math.floor((MEASURE_S * 1000 - 500) / (PROBE_PERIOD_TICKS * 20)) - 1,
      periodTicks: PROBE_PERIOD_TICKS,
    })
    : undefined;
  // One CPU reading a second: the spread of the 1 s windows shows how steady the load was.
  const perSecond: number[] = [];
  let cPrev = c0;
  let tPrev = t0;
  for (let i = 1; i <= MEASURE_S; i++) {
    await sleep(Math.max(0, t0 + i * 1000 - performance.now()));
    const c = await rig.server.cpuMicros();
    const t = performance.now();
    perSecond.push((c - cPrev) / (legs * ((t - tPrev) / 1000)));
    cPrev = c;
    tPrev = t;
  }
  perSecond.sort((a, b) => a - b);
  const c1 = cPrev;
  const wall = (tPrev - t0) / 1000;
  const m1 = await rig.client!.request({ cmd: "mark" });
  const s1 = await rig.server.stats();
  const rss = await rig.server.rssKiB();
  const cpu = c1 - c0;
  const markWall = (Number(m1.t) - Number(m0.t)) / 1000;
  const expected = legs * 50 * markWall;
  const row: LoadRow = {
    name,
    workers: rig.server.workers,
    legs,
    roomsPerWorker: s1.workers.map((w) => w.rooms).join("/"),
    endpointsPerWorker: s1.workers.map((w) => w.endpoints).join("/"),
    crossing: s1.crossing,
    cpuUsPerLegSecond: cpu / (legs * wall),
    cpuRange: [perSecond[0], perSecond[perSecond.length - 1]],
    cpuPctOfOneCore: (cpu / 1e6 / wall) * 100,
    lateP50: Math.max(...s1.workers.map((w) => w.late.p50)),
    lateP99: Math.max(...s1.workers.map((w) => w.late.p99)),
    lateMax: Math.max(...s1.workers.map((w) => w.late.max)),
    skipped: s1.workers.reduce((a, w) => a + w.skipped, 0) -
      s0.workers.reduce((a, w) => a + w.skipped, 0),
    rssKiB: rss,
    deliveredRatio: (Number(m1.received) - Number(m0.received)) / expected,
    heard: {
      checked: Number(heard.checked),
      passed: Number(heard.passed),
      skipped: Number(heard.skipped),
    },
    clientLateP50: Number(m1.lateP50),
    clientLateP99: Number(m1.lateP99),
  };
  if (probing) row.latency = latencyRow(`${name}, under load`, await probing);
  return row;
}
