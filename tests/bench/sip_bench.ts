/**
 * SIP benchmark (issue 5 "Measure"): call setup rate, CPU µs per SIP leg-second at 50/100/200
 * two-leg PCMU rooms, mouth-to-ear latency through the mixer, memory per leg, and the Janus
 * AudioBridge shapes (10 rooms × 5, 50 × 2) — all against a server running as its own process.
 *
 * Three processes: the server (sip_bench_server.ts: `startServer` from the environment, like
 * main.ts, with the run task's deno flags, plus a stats pipe on stdin/stdout), the SIP load client
 * (sip_load_client.ts: the phones, over UDP on loopback), and this harness, which plays the
 * application (sip_app.ts): it watches `leg.ringing` on the VSI WebSocket, answers over REST and
 * puts the legs into rooms. sip_rig.ts ties the three together, sip_measure.ts reads a running
 * load (server CPU from /proc/<pid>/stat, memory from /proc/<pid>/status), sip_report.ts prints
 * the tables. This file holds the scenarios. Numbers are reported, never asserted.
 *
 * Standalone: `deno run --unstable-net --unstable-no-legacy-abort --allow-net --allow-env
 * --allow-read --allow-sys --allow-run tests/bench/sip_bench.ts [--only=setup,ramp,crossing,janus]
 * [--server-env=NAME=value …]`.
 *
 * Placement: an inbound leg's RTP socket opens on the least-loaded media worker when it is
 * answered, and a room is mixed on the worker of its first leg. Answering one leg at a time makes
 * the workers alternate, so the harness groups legs by answer parity into rooms — every member of
 * a room then shares its worker and no frame crosses workers. The `crossing` scenario pairs
 * consecutive answers instead, so every room relays one leg from the other worker. Should a join
 * fail because a SIP leg cannot reach its room's worker, the scenario re-runs with one worker.
 */
import { latencyRow, measure, PROBE_PERIOD_TICKS } from "./sip_measure.ts";
import { formatSipReport, type SipBenchResult } from "./sip_report.ts";
import { JoinError, Rig } from "./sip_rig.ts";

export { formatSipReport, type SipBenchResult } from "./sip_report.ts";
export type { LatencyRow, LoadRow } from "./sip_measure.ts";

const SETUP_CALLS = 200;
const SETUP_IN_FLIGHT = 50;
const SETUP_ROUNDS = 2;
const IDLE_PROBE_BURSTS = 50;
/** Janus AudioBridge, CPU µs per participant-second (docs: deno-media-physics.md §8). */
const JANUS = { "10x5@8k": 3550, "50x2@16k": 4570 } as const;

/** Room ids `prefix-from` … `prefix-(from+n-1)`. */
function roomIds(prefix: string, from: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${from + i}`);
}

/** Options of {@link runSipBench}. */
export interface SipBenchOptions {
  /** Media workers of the server (default 2). */
  readonly workers?: number;
  /** Only these parts: `setup` (with the idle latency), `ramp`, `crossing`, `janus` (default all). */
  readonly only?: readonly string[];
  /** Extra server environment, e.g. `SIP_JITTER_BUFFER_MAX_MS` for an experiment. */
  readonly serverEnv?: Record<string, string>;
}

/** What each part of the benchmark gets: the result to fill, the progress log, the options. */
interface Part {
  readonly result: SipBenchResult;
  readonly log: (line: string) => void;
  readonly options: SipBenchOptions;
}

/** Runs `fn` on a fresh rig; on the cross-worker join error, once more with one media worker. */
async function withRig<T>(
  result: SipBenchResult,
  what: string,
  options: SipBenchOptions,
  sampleRate: number,
  fn: (rig: Rig) => Promise<T>,
): Promise<T> {
  const workers = options.workers ?? 2;
  for (const w of workers > 1 ? [workers, 1] : [workers]) {
    const rig = new Rig(w, sampleRate, options.serverEnv);
    try {
      await rig.start();
      await rig.warmUp();
      const out = await fn(rig);
      result.notes.push(...rig.notes.map((n) => `${what}: ${n}`));
      return out;
    } catch (err) {
      if (err instanceof JoinError && err.crossWorker && w > 1) {
        result.notes.push(
          `${what}: a SIP leg could not join its room's worker (${err.message}); ` +
            "re-run with MEDIA_WORKERS=1",
        );
        continue;
      }
      throw err;
    } finally {
      await rig.close();
    }
  }
  throw new Error("unreachable");
}

/** Runs every SIP scenario; `log` hears progress lines. */
export async function runSipBench(
  log: (line: string) => void,
  options: SipBenchOptions = {},
): Promise<SipBenchResult> {
  const result: SipBenchResult = { setup: [], ramp: [], janus: [], notes: [] };

  const parts = { setup: setupAndLatency, ramp, crossing, janus: janusShapes };
  for (const [name, part] of Object.entries(parts)) {
    if (options.only && !options.only.includes(name)) continue;
    try {
      await part({ result, log, options });
    } catch (err) {
      // One broken scenario must not hide the others' numbers.
      const message = err instanceof Error ? err.message : String(err);
      log(`  ${name}: failed: ${message}`);
      result.notes.push(`${name} did not complete: ${message}`);
    }
  }
  return result;
}

/** 50 two-leg rooms at 8 kHz, each split over both workers: the cost of legs crossing. */
async function crossing({ result, log, options }: Part): Promise<void> {
  if ((options.workers ?? 2) < 2) return;
  result.crossing = await withRig(result, "crossing", options, 8000, async (rig) => {
    await rig.client!.request({ cmd: "start" });
    const { members } = await rig.addCalls(100, SETUP_IN_FLIGHT, {
      perRoom: 2,
      roomIds: roomIds("x", 0, 50),
      rate: 8000,
      split: true,
    });
    return await measure(
      rig,
      "50 rooms × 2 @8k, each room split over 2 workers",
      100,
      members.values(),
    );
  });
  log(
    `  ${result.crossing.name}: ${result.crossing.cpuUsPerLegSecond.toFixed(0)} µs per leg-second`,
  );
}

/** (1) Call setup rate, then (3) latency through an otherwise idle server. */
async function setupAndLatency({ result, log, options }: Part): Promise<void> {
  await withRig(result, "setup", options, 8000, async (rig) => {
    for (let round = 1; round <= SETUP_ROUNDS; round++) {
      const c0 = await rig.server.cpuMicros();
      const { dial } = await rig.addCalls(SETUP_CALLS, SETUP_IN_FLIGHT);
      const c1 = await rig.server.cpuMicros();
      const ok = Number(dial.ok);
      const h0 = await rig.server.cpuMicros();
      const bye = await rig.hangupAll();
      const h1 = await rig.server.cpuMicros();
      const row = {
        round,
        workers: rig.server.workers,
        calls: SETUP_CALLS,
        inFlight: SETUP_IN_FLIGHT,
        ok,
        failed: Number(dial.failed),
        callsPerSecond: ok / (Number(dial.wallMs) / 1000),
        setupP50: Number(dial.setupP50),
        setupP95: Number(dial.setupP95),
        setupMax: Number(dial.setupMax),
        cpuUsPerSetup: (c1 - c0) / Math.max(1, ok),
        byePerSecond: Number(bye.ok) / (Number(bye.wallMs) / 1000),
        cpuUsPerTeardown: (h1 - h0) / Math.max(1, Number(bye.ok)),
      };
      result.setup.push(row);
      log(
        `  setup round ${round}: ${row.callsPerSecond.toFixed(0)} calls/s, ` +
          `${row.cpuUsPerSetup.toFixed(0)} µs CPU per setup`,
      );
    }

    const { members } = await rig.addCalls(4, 4, {
      perRoom: 2,
      roomIds: ["lat-0", "lat-1"],
      rate: 8000,
    });
    await rig.client!.request({ cmd: "start" });
    await rig.waitForAudio();
    const [from, to] = members.get("lat-0")!;
    const r = await rig.client!.request({
      cmd: "probe",
      from,
      to,
      bursts: IDLE_PROBE_BURSTS,
      periodTicks: PROBE_PERIOD_TICKS,
    });
    result.idleLatency = latencyRow("1 two-leg room (+1 idle room), idle server", r);
    log(`  latency idle: p50 ${result.idleLatency.p50.toFixed(1)} ms`);
  });
}

/** (2) + (4): 50 → 100 → 200 two-leg rooms at 8 kHz in one server, probe in room ramp-0. */
async function ramp({ result, log, options }: Part): Promise<void> {
  await withRig(result, "ramp", options, 8000, async (rig) => {
    const baseline = await rig.server.rssKiB();
    let rooms = 0;
    let probe: { from: number; to: number } | undefined;
    const all: number[][] = [];
    await rig.client!.request({ cmd: "start" });
    for (const target of [50, 100, 200]) {
      const ids = roomIds("ramp", rooms, target - rooms);
      const { members } = await rig.addCalls((target - rooms) * 2, SETUP_IN_FLIGHT, {
        perRoom: 2,
        roomIds: ids,
        rate: 8000,
      });
      if (!probe) {
        const [from, to] = members.get("ramp-0")!;
        probe = { from, to };
      }
      rooms = target;
      all.push(...members.values());
      const row = await measure(rig, `${target} rooms × 2 @8k`, target * 2, all, probe);
      log(
        `  ${row.name}: ${row.cpuUsPerLegSecond.toFixed(0)} µs per leg-second, ` +
          `${row.cpuPctOfOneCore.toFixed(0)} % of a core`,
      );
      result.ramp.push(row);
    }
    const first = result.ramp[0];
    const last = result.ramp[result.ramp.length - 1];
    result.memory = {
      baselineKiB: baseline,
      perLegNaiveKiB: (last.rssKiB - baseline) / last.legs,
      perLegSlopeKiB: (last.rssKiB - first.rssKiB) / (last.legs - first.legs),
    };
  });
}

/** (5) the Janus AudioBridge shapes. */
async function janusShapes({ result, log, options }: Part): Promise<void> {
  const shapes = [
    { key: "10x5@8k" as const, rooms: 10, perRoom: 5, rate: 8000 },
    { key: "50x2@16k" as const, rooms: 50, perRoom: 2, rate: 16000 },
  ];
  for (const s of shapes) {
    const row = await withRig(result, s.key, options, s.rate, async (rig) => {
      await rig.client!.request({ cmd: "start" });
      const { members } = await rig.addCalls(s.rooms * s.perRoom, SETUP_IN_FLIGHT, {
        perRoom: s.perRoom,
        roomIds: roomIds("j", 0, s.rooms),
        rate: s.rate,
      });
      return await measure(
        rig,
        `${s.rooms} rooms × ${s.perRoom} @${s.rate / 1000}k`,
        s.rooms * s.perRoom,
        members.values(),
      );
    });
    log(`  ${row.name}: ${row.cpuUsPerLegSecond.toFixed(0)} µs per participant-second`);
    result.janus.push({ row, janus: JANUS[s.key], janusShape: s.key });
  }
}

if (import.meta.main) {
  console.log(
    `SIP: Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs; server, SIP phones ` +
      "and app in three processes; CPU = whole server process",
  );
  const only = Deno.args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
  const serverEnv = Object.fromEntries(
    Deno.args.filter((a) => a.startsWith("--server-env=")).map((a) => {
      const kv = a.slice("--server-env=".length);
      return [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)];
    }),
  );
  const result = await runSipBench((line) => console.log(line), { only, serverEnv });
  console.log();
  console.log(formatSipReport(result));
}
