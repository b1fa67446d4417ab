/**
 * Media benchmark: CPU µs per participant-second of the whole server process (main thread and
 * media workers) for rooms fed by WebSocket legs from a separate process, tick lateness, and
 * memory per participant. Numbers are reported, never asserted.
 */
import { cpuUsage } from "node:process";
import { loadConfig } from "../../src/config/config.ts";
import { Logger } from "../../src/log/logger.ts";
import { startServer } from "../../src/server.ts";

/** One load shape. */
export interface MediaScenario {
  readonly name: string;
  readonly rooms: number;
  readonly perRoom: number;
  readonly rate: number;
}

/** Result of one run. */
export interface MediaResult {
  scenario: MediaScenario;
  participants: number;
  cpuUsPerParticipantSecond: number;
  cpuPctOfOneCore: number;
  lateP50: number;
  lateP99: number;
  lateMax: number;
  skipped: number;
  rssPerParticipantKiB: number;
  deliveredRatio: number;
}

const MEASURE_S = 5;
const WARM_S = 2;

/** Runs one scenario: server in this process, clients in a child process. */
export async function runMediaScenario(s: MediaScenario, workers: number): Promise<MediaResult> {
  const config = loadConfig({
    SIP_PORT: "0", // any free port: a bench must not need 5060
    HTTP_ADDR: "127.0.0.1:0",
    LOG_LEVEL: "error",
    MEDIA_WORKERS: String(workers),
    DEFAULT_SAMPLE_RATE: "16000",
  });
  const srv = await startServer(config, {
    logger: new Logger("error", {}, () => {}),
    runtimeMetrics: false,
  });
  try {
    const rssBefore = Deno.memoryUsage().rss;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        new URL("./ws_load_client.ts", import.meta.url).pathname,
        srv.url.replace(/^http/, "ws"),
        String(s.rooms),
        String(s.perRoom),
        String(s.rate),
        String(WARM_S + MEASURE_S + 0.5),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    const nextJson = async (): Promise<Record<string, unknown>> => {
      while (true) {
        const nl = buf.indexOf("\n");
        if (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim().startsWith("{")) return JSON.parse(line);
          continue;
        }
        const { value, done } = await lines.read();
        if (done) throw new Error("load client exited early");
        buf += value;
      }
    };
    await nextJson(); // ready
    await new Promise((r) => setTimeout(r, WARM_S * 1000));
    const c0 = cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, MEASURE_S * 1000));
    const c1 = cpuUsage(c0);
    const wall = (performance.now() - t0) / 1000;
    const rssAfter = Deno.memoryUsage().rss;
    const stats = srv.ctx.media.stats();
    const done = await nextJson();
    await child.status;
    lines.releaseLock();
    const participants = s.rooms * s.perRoom;
    const cpuUs = c1.user + c1.system;
    return {
      scenario: s,
      participants,
      cpuUsPerParticipantSecond: cpuUs / (participants * wall),
      cpuPctOfOneCore: (cpuUs / 1e6 / wall) * 100,
      lateP50: Math.max(...stats.map((w) => w.late.p50)),
      lateP99: Math.max(...stats.map((w) => w.late.p99)),
      lateMax: Math.max(...stats.map((w) => w.late.max)),
      skipped: stats.reduce((a, w) => a + w.skipped, 0),
      rssPerParticipantKiB: (rssAfter - rssBefore) / 1024 / participants,
      deliveredRatio: Number(done.received) / Math.max(1, Number(done.sent)),
    };
  } finally {
    await srv.shutdown({ drainMs: 100 });
  }
}

/** The shapes the issue asks for, plus the Janus comparison shapes. */
export const MEDIA_SCENARIOS: readonly MediaScenario[] = [
  { name: "10 rooms × 2 @16k", rooms: 10, perRoom: 2, rate: 16000 },
  { name: "4 rooms × 5 @16k", rooms: 4, perRoom: 5, rate: 16000 },
  { name: "1 room × 20 @16k", rooms: 1, perRoom: 20, rate: 16000 },
  { name: "10 rooms × 5 @16k (Janus shape)", rooms: 10, perRoom: 5, rate: 16000 },
  { name: "50 rooms × 2 @16k (Janus shape)", rooms: 50, perRoom: 2, rate: 16000 },
  { name: "200 rooms × 1 @16k (lateness)", rooms: 200, perRoom: 1, rate: 16000 },
];

/** Formats results as a Markdown table. */
export function formatMediaTable(rows: readonly MediaResult[]): string {
  const head =
    "| scenario | participants | CPU µs / participant-s | CPU % of one core | tick late p50 / p99 / max ms | skipped ticks | RSS KiB / participant | frames delivered |";
  const sep = "|---|---:|---:|---:|---|---:|---:|---:|";
  const body = rows.map((r) =>
    `| ${r.scenario.name} | ${r.participants} | ${r.cpuUsPerParticipantSecond.toFixed(0)} | ${
      r.cpuPctOfOneCore.toFixed(1)
    } | ${r.lateP50.toFixed(2)} / ${r.lateP99.toFixed(2)} / ${
      r.lateMax.toFixed(2)
    } | ${r.skipped} | ${r.rssPerParticipantKiB.toFixed(0)} | ${
      (r.deliveredRatio * 100).toFixed(1)
    } % |`
  );
  return [head, sep, ...body].join("\n");
}

if (import.meta.main) {
  const workers = Number(Deno.env.get("BENCH_MEDIA_WORKERS") ?? "2");
  const rows: MediaResult[] = [];
  for (const s of MEDIA_SCENARIOS) {
    const r = await runMediaScenario(s, workers);
    console.log(`${s.name}: ${r.cpuUsPerParticipantSecond.toFixed(0)} µs/participant-s`);
    rows.push(r);
  }
  console.log();
  console.log(formatMediaTable(rows));
}
