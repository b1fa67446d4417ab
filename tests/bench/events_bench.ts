/**
 * Event fan-out benchmark: events published on the bus of an in-process server, delivered to
 * 100 VSI WebSocket clients or 10 webhook receivers living in a child process
 * (events_client.ts), so the CPU measured here is the server's alone. Reports throughput, CPU µs
 * per event and per delivery, the ratio to a publish-only baseline, and the drop counters from
 * /metrics. Never asserts on time.
 */
import process from "node:process";
import { startTestServer } from "../helpers/server.ts";
import type { RunningServer } from "../../src/server.ts";
import { BENCH_EVENT_TYPE } from "./events_client.ts";

const CLIENT_SCRIPT = new URL("./events_client.ts", import.meta.url).pathname;

/** Sizes of one benchmark run. */
export interface EventsBenchOptions {
  readonly vsiClients: number;
  readonly vsiEvents: number;
  readonly webhookReceivers: number;
  readonly webhookEvents: number;
  readonly runs: number;
}

export const DEFAULT_OPTIONS: EventsBenchOptions = {
  vsiClients: 100,
  vsiEvents: 20_000,
  webhookReceivers: 10,
  webhookEvents: 5_000,
  runs: 3,
};

/** What one run measured. */
export interface RunResult {
  readonly events: number;
  readonly deliveries: number;
  readonly expected: number;
  readonly wallS: number;
  /** User + system CPU of this (the server's) process during the run. */
  readonly cpuUs: number;
  readonly vsiDropped: number;
  readonly webhookDropped: number;
}

/** Bounded wait: `fn` is polled until true or `ms` passes. */
async function waitUntil(fn: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!fn()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** The events_client.ts child: its `ready` line and running `count`. */
class ClientProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reading: Promise<void>;
  readonly ready: Promise<string[]>;
  count = 0;
  lastChangeAt = performance.now();
  exited = false;

  constructor(args: string[]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--no-prompt", CLIENT_SCRIPT, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    const ready = Promise.withResolvers<string[]>();
    this.ready = ready.promise;
    this.#reading = (async () => {
      let buf = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf("\n")) !== -1) {
          const [word, ...rest] = buf.slice(0, nl).split(" ");
          buf = buf.slice(nl + 1);
          if (word === "ready") ready.resolve(rest);
          else if (word === "count") {
            const n = Number(rest[0]);
            if (n !== this.count) this.lastChangeAt = performance.now();
            this.count = n;
          }
        }
      }
      this.exited = true;
      ready.reject(new Error("benchmark client exited before it was ready"));
    })();
    this.ready.catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stdin.close().catch(() => {});
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    await this.#child.status;
    clearTimeout(timer);
    await this.#reading;
  }
}

/** Reads a counter from the server's own /metrics endpoint. */
async function metric(srv: RunningServer, name: string): Promise<number> {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\S+)$`, "m"));
  return m ? Number(m[1]) : NaN;
}

function publish(srv: RunningServer, seq: number): void {
  srv.ctx.bus.publish(BENCH_EVENT_TYPE, {
    leg_id: "0b7d3c4e-8f1a-4b2c-9d3e-5f6a7b8c9d0e",
    app_id: "bench",
    digit: "5",
    seq,
  });
}

/**
 * Publishes `events` in batches, calling `pace` between batches, then waits until the child has
 * counted `expected` deliveries or stopped making progress for 3 s (events were dropped).
 */
async function measure(
  srv: RunningServer,
  client: ClientProcess | null,
  events: number,
  expected: number,
  batch: number,
  pace: () => Promise<void>,
): Promise<RunResult> {
  const cpu0 = cpuMicros();
  const t0 = performance.now();
  for (let i = 0; i < events; i += batch) {
    const end = Math.min(events, i + batch);
    for (let seq = i; seq < end; seq++) publish(srv, seq);
    await pace();
  }
  if (client) {
    await waitUntil(
      () => client.count >= expected || performance.now() - client.lastChangeAt > 3000,
      300_000,
      `deliveries (${client.count}/${expected})`,
    );
  }
  const t1 = client && client.count >= expected ? client.lastChangeAt : performance.now();
  const cpuUs = cpuMicros() - cpu0;
  return {
    events,
    deliveries: client?.count ?? 0,
    expected,
    wallS: (t1 - t0) / 1000,
    cpuUs,
    vsiDropped: await metric(srv, "voiceblender_vsi_events_dropped_total"),
    webhookDropped: await metric(srv, "voiceblender_webhook_dropped_total"),
  };
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** Publish cost with no VSI client and no webhook target: the baseline for the ratios. */
export async function runBaseline(events: number): Promise<RunResult> {
  const srv = await startTestServer();
  try {
    // Nothing consumes the events, so there is nothing to yield to between batches.
    return await measure(srv, null, events, 0, 100, () => Promise.resolve());
  } finally {
    await srv.shutdown();
  }
}

/** `events` events to `clients` VSI WebSocket clients. */
export async function runVsi(clients: number, events: number): Promise<RunResult> {
  const srv = await startTestServer();
  try {
    const wsUrl = `${srv.url.replace(/^http/, "ws")}/v1/vsi`;
    await using client = new ClientProcess(["vsi", wsUrl, String(clients)]);
    await Promise.race([client.ready, timeout(60_000, "VSI clients to connect")]);
    await waitUntil(() => srv.vsi.clientCount === clients, 10_000, "VSI client count");
    return await measure(srv, client, events, events * clients, 100, tick);
  } finally {
    await srv.shutdown();
  }
}

/** `events` events fanned out to `receivers` hooks registered through `POST /v1/webhooks`. */
export async function runWebhooks(receivers: number, events: number): Promise<RunResult> {
  const srv = await startTestServer();
  try {
    await using client = new ClientProcess(["webhooks", String(receivers)]);
    const urls = await Promise.race([client.ready, timeout(30_000, "webhook receivers")]);
    for (const url of urls) {
      const res = await fetch(`${srv.url}/v1/webhooks`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ url }),
      });
      if (res.status !== 201) {
        throw new Error(`POST /v1/webhooks: ${res.status} ${await res.text()}`);
      }
      await res.body?.cancel();
    }
    // Keep the delivery queue (1000 deliveries by default) at most half full so nothing drops.
    const pace = async () => {
      while (srv.webhooks.pending > 500) await new Promise((r) => setTimeout(r, 1));
    };
    return await measure(srv, client, events, events * receivers, 25, pace);
  } finally {
    await srv.shutdown();
  }
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    Deno.unrefTimer(t);
  });
}

/** Median of each field over several runs. */
export function median(runs: readonly RunResult[]): RunResult {
  const mid = <K extends keyof RunResult>(k: K): number => {
    const v = runs.map((r) => r[k] as number).sort((a, b) => a - b);
    const h = v.length >> 1;
    return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
  };
  return {
    events: mid("events"),
    deliveries: mid("deliveries"),
    expected: mid("expected"),
    wallS: mid("wallS"),
    cpuUs: mid("cpuUs"),
    vsiDropped: mid("vsiDropped"),
    webhookDropped: mid("webhookDropped"),
  };
}

/** One row of the report. */
export interface Row {
  readonly scenario: string;
  readonly result: RunResult;
}

/** Runs every scenario `options.runs` times and returns the medians. */
export async function runEventsBench(
  options: EventsBenchOptions = DEFAULT_OPTIONS,
  log: (line: string) => void = () => {},
): Promise<Row[]> {
  const scenarios: [string, () => Promise<RunResult>][] = [
    ["bus publish only (baseline)", () => runBaseline(options.vsiEvents)],
    [`VSI ×${options.vsiClients} clients`, () => runVsi(options.vsiClients, options.vsiEvents)],
    [
      `webhooks ×${options.webhookReceivers} receivers`,
      () => runWebhooks(options.webhookReceivers, options.webhookEvents),
    ],
  ];
  const rows: Row[] = [];
  for (const [scenario, run] of scenarios) {
    const runs: RunResult[] = [];
    for (let i = 0; i < options.runs; i++) {
      const r = await run();
      log(
        `  ${scenario} run ${i + 1}: ${r.deliveries}/${r.expected} deliveries in ` +
          `${r.wallS.toFixed(3)} s, ${(r.cpuUs / 1000).toFixed(0)} ms CPU`,
      );
      runs.push(r);
    }
    rows.push({ scenario, result: median(runs) });
  }
  return rows;
}

/** Formats the rows as a fixed-width table; ratios are against the first (baseline) row. */
export function formatTable(rows: readonly Row[]): string {
  const base = rows[0].result.cpuUs / rows[0].result.events;
  const header = [
    "scenario",
    "events",
    "deliveries",
    "wall s",
    "events/s",
    "deliveries/s",
    "CPU µs/event",
    "CPU µs/delivery",
    "× baseline",
    "VSI dropped",
    "webhook dropped",
  ];
  const lines = rows.map(({ scenario, result: r }) => {
    const perEvent = r.cpuUs / r.events;
    return [
      scenario,
      String(r.events),
      r.expected ? `${r.deliveries}/${r.expected}` : "-",
      r.wallS.toFixed(3),
      (r.events / r.wallS).toFixed(0),
      r.deliveries ? (r.deliveries / r.wallS).toFixed(0) : "-",
      perEvent.toFixed(1),
      r.deliveries ? (r.cpuUs / r.deliveries).toFixed(2) : "-",
      (perEvent / base).toFixed(1),
      String(r.vsiDropped),
      String(r.webhookDropped),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ");
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...lines.map(fmt)].join(
    "\n",
  );
}
