/**
 * `deno task bench`: runs the benchmarks under tests/bench and prints their tables. Medians of
 * three runs; numbers are reported, never asserted.
 *
 * Optional arguments scale the event benchmark: `--vsi-events=N --webhook-events=N --runs=N`;
 * `--skip-media` and `--skip-sip` leave those sections out.
 */
import {
  DEFAULT_OPTIONS,
  type EventsBenchOptions,
  formatTable,
  runEventsBench,
} from "./events_bench.ts";
import {
  formatMediaTable,
  MEDIA_SCENARIOS,
  type MediaResult,
  runMediaScenario,
} from "./media_bench.ts";
import { formatSipReport, runSipBench } from "./sip_bench.ts";

function parseArgs(args: readonly string[]): EventsBenchOptions {
  const o: Record<string, number> = { ...DEFAULT_OPTIONS };
  const names: Record<string, keyof EventsBenchOptions> = {
    "--vsi-events": "vsiEvents",
    "--vsi-clients": "vsiClients",
    "--webhook-events": "webhookEvents",
    "--webhook-receivers": "webhookReceivers",
    "--runs": "runs",
  };
  for (const arg of args) {
    if (arg === "--skip-media" || arg === "--skip-sip") continue;
    const [flag, value] = arg.split("=");
    const key = names[flag];
    const n = Number(value);
    if (!key || !Number.isInteger(n) || n < 1) {
      throw new Error(
        `Cannot parse argument ${arg}: expected one of ${
          Object.keys(names).join(", ")
        }=<positive integer>`,
      );
    }
    o[key] = n;
  }
  return o as unknown as EventsBenchOptions;
}

if (import.meta.main) {
  const options = parseArgs(Deno.args);
  console.log(
    `event fan-out: Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ` +
      `median of ${options.runs} runs (server CPU only; clients run in a child process)`,
  );
  const rows = await runEventsBench(options, (line) => console.log(line));
  console.log();
  console.log(formatTable(rows));
  console.log(
    "\nCPU = user+system time of the server process over the run (process.cpuUsage), " +
      '"× baseline" = CPU per event relative to publishing with no VSI client or webhook.',
  );

  if (!Deno.args.includes("--skip-media")) {
    const workers = 2;
    console.log(
      `\nmedia: WebSocket legs at 16 kHz from a child process, ${workers} media workers; ` +
        "CPU = whole server process (main thread + workers) over a 5 s window after 2 s warm-up",
    );
    const media: MediaResult[] = [];
    for (const s of MEDIA_SCENARIOS) {
      const r = await runMediaScenario(s, workers);
      console.log(
        `  ${s.name}: ${r.cpuUsPerParticipantSecond.toFixed(0)} µs per participant-second`,
      );
      media.push(r);
    }
    console.log();
    console.log(formatMediaTable(media));
  }

  if (!Deno.args.includes("--skip-sip")) {
    console.log(
      "\nSIP: PCMU calls from a SIP load client process into the server running as its own " +
        "process (2 media workers); the app (VSI + REST) in this process; CPU = whole server " +
        "process from /proc/<pid>/stat",
    );
    const sip = await runSipBench((line) => console.log(line));
    console.log();
    console.log(formatSipReport(sip));
  }
}
