/**
 * SIP benchmark (issue 5 "Measure"): call setup rate, CPU µs per SIP leg-second at 50/100/200
 * two-leg PCMU rooms, mouth-to-ear latency through the mixer, memory per leg, and the Janus
 * AudioBridge shapes (10 rooms × 5, 50 × 2) — all against a server running as its own process.
 *
 * Three processes: the server (this file with `--serve`: `startServer` from the environment, like
 * main.ts, with the run task's flags, plus a stats pipe on stdin/stdout), the SIP load client
 * (sip_load_client.ts: the phones, over UDP on loopback), and this harness, which plays the
 * application: it watches `leg.ringing` on the VSI WebSocket, answers over REST and puts the legs
 * into rooms. Server CPU is read from /proc/<pid>/stat, memory from /proc/<pid>/status. Numbers
 * are reported, never asserted.
 *
 * Standalone: `deno run --unstable-net --allow-all tests/bench/sip_bench.ts
 * [--only=setup,ramp,crossing,janus] [--server-env=NAME=value …]`.
 *
 * Placement: an inbound leg's RTP socket opens on the least-loaded media worker when it is
 * answered, and a room is mixed on the worker of its first leg. Answering one leg at a time makes
 * the workers alternate, so the harness groups legs by answer parity into rooms — every member of
 * a room then shares its worker and no frame crosses workers. The `crossing` scenario pairs
 * consecutive answers instead, so every room relays one leg from the other worker. Should a join
 * fail because a SIP leg cannot reach its room's worker, the scenario re-runs with one worker.
 */
import { loadConfig } from "../../src/config/config.ts";
import { startServer } from "../../src/server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const CLIENT_SCRIPT = new URL("./sip_load_client.ts", import.meta.url).pathname;
const SELF = new URL(import.meta.url).pathname;
/** The brief's RTP range 52000-59999: the server's legs get the low part, the phones the rest. */
const SERVER_RTP = { min: 52000, max: 57999 };
const CLIENT_RTP = { min: 58000, max: 59999 };
const WARM_S = 2;
const MEASURE_S = 5;
const SETUP_CALLS = 200;
const SETUP_IN_FLIGHT = 50;
const SETUP_ROUNDS = 2;
const PROBE_PERIOD_TICKS = 6; // a 40 ms burst every 120 ms
const IDLE_PROBE_BURSTS = 50;
/** Janus AudioBridge, CPU µs per participant-second (docs: deno-media-physics.md §8). */
const JANUS = { "10x5@8k": 3550, "50x2@16k": 4570 } as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it is true; throws after `ms`. */
async function waitUntil(fn: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = performance.now() + ms;
  while (!(await fn())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(20);
  }
}

// ---- child processes speaking JSON lines ----

type Json = Record<string, unknown>;

/** A child process: JSON commands on stdin, JSON replies (matched by `id`) on stdout. */
class LineChild {
  readonly process: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pending = new Map<number, PromiseWithResolvers<Json>>();
  readonly #first = Promise.withResolvers<Json>();
  readonly #reading: Promise<void>;
  #nextId = 1;
  #exited = false;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.process = new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#stdin = this.process.stdin.getWriter();
    this.#reading = this.#read();
  }

  /** The first line without an `id` (the child's ready/listening line). */
  get ready(): Promise<Json> {
    return this.#first.promise;
  }

  async #read(): Promise<void> {
    let buf = "";
    const lines = this.process.stdout.pipeThrough(new TextDecoderStream());
    try {
      for await (const chunk of lines) {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line.startsWith("{")) continue;
          const msg = JSON.parse(line) as Json;
          const waiter = typeof msg.id === "number" ? this.#pending.get(msg.id) : undefined;
          if (waiter) {
            this.#pending.delete(msg.id as number);
            waiter.resolve(msg);
          } else if (msg.id === undefined) {
            this.#first.resolve(msg);
          }
        }
      }
    } finally {
      this.#exited = true;
      const gone = new Error("child process exited");
      this.#first.reject(gone);
      for (const w of this.#pending.values()) w.reject(gone);
      this.#pending.clear();
    }
  }

  /** Sends a command and waits (at most `ms`) for its reply; a reply with `error` throws. */
  async request(cmd: Json, ms = 120_000): Promise<Json> {
    if (this.#exited) throw new Error("child process exited");
    const id = this.#nextId++;
    const waiter = Promise.withResolvers<Json>();
    this.#pending.set(id, waiter);
    await this.#stdin.write(new TextEncoder().encode(JSON.stringify({ id, ...cmd }) + "\n"));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply to ${cmd.cmd} in ${ms} ms`)), ms);
    });
    try {
      const reply = await Promise.race([waiter.promise, timeout]);
      if (typeof reply.error === "string") throw new Error(`${cmd.cmd}: ${reply.error}`);
      return reply;
    } finally {
      clearTimeout(timer);
      this.#pending.delete(id);
    }
  }

  /** Asks the child to quit; kills it after 10 s. Idempotent. */
  async close(): Promise<void> {
    this.#first.promise.catch(() => {});
    if (!this.#exited) {
      try {
        await this.#stdin.write(new TextEncoder().encode('{"cmd":"quit"}\n'));
        await this.#stdin.close();
      } catch { /* already gone */ }
    }
    const killer = setTimeout(() => {
      try {
        this.process.kill("SIGKILL");
      } catch { /* exited */ }
    }, 10_000);
    await this.process.status;
    clearTimeout(killer);
    await this.#reading.catch(() => {});
  }
}

/**
 * The deno flags of the `run` task (deno.json), so the server runs with production permissions —
 * except that a restricted `--allow-read` gets `./workers,./src` added: a media worker's module
 * graph needs read access to load, and without it no worker starts (see `runTaskNote`).
 */
function runTaskFlags(): { flags: string[]; note?: string } {
  const deno = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  const words = String(deno.tasks.run).split(/\s+/);
  const flags = words.slice(words.indexOf("run") + 1, words.indexOf("main.ts"));
  const i = flags.findIndex((f) => f.startsWith("--allow-read="));
  if (i < 0) return { flags };
  const paths = flags[i].slice("--allow-read=".length).split(",");
  const missing = ["./workers", "./src"].filter((p) => !paths.includes(p));
  if (missing.length === 0) return { flags };
  flags[i] = `--allow-read=${[...paths, ...missing].join(",")}`;
  return {
    flags,
    note: `the run task's --allow-read lacks ${missing.join(",")}, without which media workers ` +
      "cannot load their modules; the server ran with them added",
  };
}

let clkTck = 0;
/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat. */
async function clockTicks(): Promise<number> {
  if (clkTck === 0) {
    try {
      const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" })
        .output();
      clkTck = Number(new TextDecoder().decode(out.stdout).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** `/proc/<pid>/<file>`, read through cat: Deno wants --allow-all to read /proc itself. */
async function readProc(pid: number, file: string): Promise<string> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/${file}`], stdout: "piped" })
    .output();
  if (!out.success) throw new Error(`Cannot read /proc/${pid}/${file}`);
  return new TextDecoder().decode(out.stdout);
}

/** Per-worker media statistics as the server reports them. */
interface WorkerStats {
  index: number;
  endpoints: number;
  rooms: number;
  skipped: number;
  late: { p50: number; p99: number; max: number };
}

/** What the server's stats pipe reports. */
interface ServerStats {
  workers: WorkerStats[];
  legs: number;
  rooms: number;
  /** SIP legs mixed on another worker than their socket's (relayed through rings). */
  crossing: number;
}

/** The server as a child process. */
class ServerProcess {
  readonly child: LineChild;
  url = "";
  sipPort = 0;
  readonly workers: number;

  constructor(workers: number, sampleRate: number, extraEnv: Record<string, string> = {}) {
    this.workers = workers;
    this.child = new LineChild(["run", ...runTaskFlags().flags, SELF, "--serve"], {
      HTTP_ADDR: "127.0.0.1:0",
      SIP_PORT: "0",
      SIP_BIND_IP: "127.0.0.1",
      RTP_PORT_MIN: String(SERVER_RTP.min),
      RTP_PORT_MAX: String(SERVER_RTP.max),
      MEDIA_WORKERS: String(workers),
      DEFAULT_SAMPLE_RATE: String(sampleRate),
      SIP_CODECS: "PCMU",
      LOG_LEVEL: "error",
      WEBHOOK_URL: "",
      ...extraEnv,
    });
  }

  async start(): Promise<void> {
    const first = await this.child.ready;
    this.url = String(first.url);
    this.sipPort = Number(first.sipPort);
  }

  get pid(): number {
    return this.child.process.pid;
  }

  /** User+system CPU of the whole server process (main thread and workers), µs. */
  async cpuMicros(): Promise<number> {
    const stat = await readProc(this.pid, "stat");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) / (await clockTicks())) * 1e6;
  }

  /** Resident set size, KiB. */
  async rssKiB(): Promise<number> {
    const status = await readProc(this.pid, "status");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }

  async stats(): Promise<ServerStats> {
    return (await this.child.request({ cmd: "stats" }, 10_000)) as unknown as ServerStats;
  }
}

// ---- the application: VSI events in, REST out ----

async function rest(base: string, method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/** How the legs answered from now on are grouped into rooms. */
interface RoomPlan {
  readonly perRoom: number;
  readonly roomIds: readonly string[];
  /** Answer count when the plan began. */
  readonly base: number;
  /**
   * Seat rooms across workers on purpose (consecutive answers together), so every room has legs
   * on both workers — the relay-ring path; otherwise each room's legs share a worker.
   */
  readonly split: boolean;
  readonly members: Map<string, number[]>;
  readonly seats: { legId: string; room: string }[];
}

/** Plays the application: answers every ringing leg in order and seats it by the plan. */
class App {
  readonly #base: string;
  readonly #ws: WebSocket;
  readonly opened: Promise<void>;
  readonly #connected = new Map<string, PromiseWithResolvers<void>>();
  readonly #queue: { legId: string; call: number }[] = [];
  #pumping = false;
  answered = 0;
  plan: RoomPlan | undefined;
  readonly errors: string[] = [];

  constructor(base: string) {
    this.#base = base;
    this.#ws = new WebSocket(base.replace(/^http/, "ws") + "/v1/vsi");
    this.opened = new Promise((resolve, reject) => {
      this.#ws.onopen = () => resolve();
      this.#ws.onerror = () => reject(new Error("VSI connect failed"));
    });
    this.#ws.onmessage = (ev) => this.#onFrame(String(ev.data));
  }

  #onFrame(text: string): void {
    const f = JSON.parse(text) as Json;
    const data = (f.data ?? {}) as Json;
    const legId = String(f.leg_id ?? data.leg_id ?? "");
    switch (f.type) {
      case "ping":
        this.#ws.send('{"type":"pong"}');
        return;
      case "leg.ringing": {
        const to = String(f.to ?? data.to ?? "");
        if (!/^c\d+$/.test(to)) return;
        this.#queue.push({ legId, call: Number(to.slice(1)) });
        void this.#pump();
        return;
      }
      case "leg.connected":
        this.#connectedOf(legId).resolve();
        return;
      case "leg.command_failed":
        this.errors.push(`${legId}: ${String(f.command ?? data.command)} ${f.error ?? data.error}`);
        return;
    }
  }

  #connectedOf(legId: string): PromiseWithResolvers<void> {
    let w = this.#connected.get(legId);
    if (!w) {
      w = Promise.withResolvers<void>();
      this.#connected.set(legId, w);
    }
    return w;
  }

  /** Answers one leg at a time, so media workers are picked in a known alternation. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        const { legId, call } = this.#queue.shift()!;
        try {
          await rest(this.#base, "POST", `/v1/legs/${legId}/answer`);
        } catch (err) {
          this.errors.push(String(err));
          continue;
        }
        const k = this.answered++;
        const plan = this.plan;
        if (plan && plan.perRoom > 0) this.#seat(plan, legId, call, k - plan.base);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Seats answer k of the plan. Workers alternate with each answer, so a block of 2·perRoom
   * answers puts the even ones in one room and the odd ones in the next (or, split, perRoom
   * consecutive answers in one room).
   */
  #seat(plan: RoomPlan, legId: string, call: number, k: number): void {
    const block = Math.floor(k / (2 * plan.perRoom));
    const room = plan.split
      ? plan.roomIds[Math.floor(k / plan.perRoom)]
      : plan.roomIds[block * 2 + (k % 2)];
    if (room === undefined) return;
    const members = plan.members.get(room) ?? [];
    members.push(call);
    plan.members.set(room, members);
    plan.seats.push({ legId, room });
  }

  /** Puts every seated leg into its room once connected; returns the failures. */
  async join(plan: RoomPlan): Promise<string[]> {
    const errors: string[] = [];
    await Promise.all(plan.seats.map(async ({ legId, room }) => {
      try {
        await Promise.race([
          this.#connectedOf(legId).promise,
          sleep(30_000).then(() => {
            throw new Error(`leg ${legId} never connected`);
          }),
        ]);
        await rest(this.#base, "POST", `/v1/rooms/${room}/legs`, { leg_id: legId });
      } catch (err) {
        errors.push(String(err));
      }
    }));
    return errors;
  }

  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((r) => this.#ws.onclose = () => r());
    this.#ws.close();
    await Promise.race([closed, sleep(2000)]);
  }
}

/** One server, one load client, one app: the unit every scenario runs in. */
class Rig {
  readonly server: ServerProcess;
  client: LineChild | undefined;
  app: App | undefined;
  nextCall = 0;
  notes: string[] = [];

  constructor(workers: number, sampleRate: number, extraEnv: Record<string, string> = {}) {
    this.server = new ServerProcess(workers, sampleRate, extraEnv);
  }

  async start(): Promise<void> {
    await this.server.start();
    this.app = new App(this.server.url);
    await this.app.opened;
    this.client = new LineChild([
      "run",
      "--unstable-net",
      "--allow-net",
      "--no-prompt",
      CLIENT_SCRIPT,
      String(this.server.sipPort),
      String(CLIENT_RTP.min),
      String(CLIENT_RTP.max),
    ]);
    await this.client.ready;
  }

  /**
   * Places `count` calls (at most `inFlight` unanswered at once); with `perRoom` > 0 they are
   * seated in `roomIds` (created at `rate`) once all are answered — a room's first join creates
   * its mixer, which would shift the workers' alternation if it came between two answers.
   * Returns the dial result and room membership.
   */
  async addCalls(
    count: number,
    inFlight: number,
    rooms?: { perRoom: number; roomIds: string[]; rate: number; split?: boolean },
  ): Promise<{ dial: Json; members: Map<string, number[]> }> {
    const app = this.app!;
    const plan: RoomPlan = {
      perRoom: rooms?.perRoom ?? 0,
      roomIds: rooms?.roomIds ?? [],
      base: app.answered,
      split: rooms?.split ?? false,
      members: new Map(),
      seats: [],
    };
    for (const id of plan.roomIds) {
      await rest(this.server.url, "POST", "/v1/rooms", { id, sample_rate: rooms!.rate });
    }
    app.plan = plan;
    const first = this.nextCall;
    this.nextCall += count;
    const dial = await this.client!.request({ cmd: "dial", first, count, concurrency: inFlight });
    await waitUntil(
      () => plan.seats.length >= Number(dial.ok) || plan.perRoom === 0,
      30_000,
      "answers",
    );
    app.plan = undefined;
    const joinErrors = await app.join(plan);
    if (joinErrors.length > 0) {
      throw new JoinError(joinErrors, joinErrors.some((e) => e.includes("another worker")));
    }
    if (Number(dial.failed) > 0) {
      this.notes.push(`${dial.failed} of ${count} calls failed: ${JSON.stringify(dial.errors)}`);
    }
    return { dial, members: plan.members };
  }

  /** Waits until the calls have heard 25 more packets per live call (≈ 0.5 s of audio). */
  async waitForAudio(): Promise<void> {
    const m0 = await this.client!.request({ cmd: "mark" });
    const want = Number(m0.received) + Number(m0.live) * 25;
    await waitUntil(
      async () => Number((await this.client!.request({ cmd: "mark" })).received) >= want,
      30_000,
      "audio from the server",
    );
  }

  /** Hangs up every call and waits until the server has no legs left. */
  async hangupAll(): Promise<Json> {
    const r = await this.client!.request({ cmd: "hangup" });
    await waitUntil(async () => (await this.server.stats()).legs === 0, 30_000, "legs gone");
    return r;
  }

  /** Warm-up: 2 rooms × 2 on both workers with audio both ways, then everything torn down. */
  async warmUp(): Promise<void> {
    const ids = ["warm-0", "warm-1"];
    await this.addCalls(4, 4, { perRoom: 2, roomIds: ids, rate: 8000 });
    await this.client!.request({ cmd: "start" });
    await this.waitForAudio();
    await this.client!.request({ cmd: "stop" });
    await this.hangupAll();
    for (const id of ids) await rest(this.server.url, "DELETE", `/v1/rooms/${id}`);
  }

  async close(): Promise<void> {
    await this.client?.close();
    await this.app?.close();
    await this.server.child.close();
  }
}

/** A join failed; `crossWorker` when it was the known cross-worker limitation. */
class JoinError extends Error {
  readonly crossWorker: boolean;
  constructor(errors: string[], crossWorker: boolean) {
    super(`${errors.length} room joins failed, first: ${errors[0]}`);
    this.crossWorker = crossWorker;
  }
}

// ---- measurements ----

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

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function latencyRow(where: string, r: Json): LatencyRow {
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
async function measure(
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

/** Room ids `prefix-from` … `prefix-(from+n-1)`. */
function roomIds(prefix: string, from: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${from + i}`);
}

/** Results of the whole SIP benchmark. */
export interface SipBenchResult {
  /** One row per round: the first on a cold server, the next ones JIT-warm. */
  setup: {
    round: number;
    workers: number;
    calls: number;
    inFlight: number;
    ok: number;
    failed: number;
    callsPerSecond: number;
    setupP50: number;
    setupP95: number;
    setupMax: number;
    cpuUsPerSetup: number;
    byePerSecond: number;
    cpuUsPerTeardown: number;
  }[];
  idleLatency?: LatencyRow;
  ramp: LoadRow[];
  /** 50 × 2 with every room's two legs on different workers (relay rings), vs ramp[0]. */
  crossing?: LoadRow;
  memory?: { baselineKiB: number; perLegNaiveKiB: number; perLegSlopeKiB: number };
  janus: { row: LoadRow; janus: number; janusShape: string }[];
  notes: string[];
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
  const flagNote = runTaskFlags().note;
  if (flagNote) result.notes.push(flagNote);

  const parts = { setup: setupAndLatency, ramp, crossing, janus: janusShapes };
  for (const [name, part] of Object.entries(parts)) {
    if (options.only && !options.only.includes(name)) continue;
    try {
      await part(result, log, options);
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
async function crossing(
  result: SipBenchResult,
  log: (line: string) => void,
  options: SipBenchOptions,
): Promise<void> {
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
async function setupAndLatency(
  result: SipBenchResult,
  log: (line: string) => void,
  options: SipBenchOptions,
): Promise<void> {
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
async function ramp(
  result: SipBenchResult,
  log: (line: string) => void,
  options: SipBenchOptions,
): Promise<void> {
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
async function janusShapes(
  result: SipBenchResult,
  log: (line: string) => void,
  options: SipBenchOptions,
): Promise<void> {
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

// ---- report ----

const f0 = (n: number) => Number.isFinite(n) ? n.toFixed(0) : "–";
const f1 = (n: number) => Number.isFinite(n) ? n.toFixed(1) : "–";
const f2 = (n: number) => Number.isFinite(n) ? n.toFixed(2) : "–";
const pct = (n: number) => Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : "–";

/** Formats the results as Markdown tables. */
export function formatSipReport(r: SipBenchResult): string {
  const out: string[] = [];
  if (r.setup.length > 0) {
    out.push(
      "| call setup (PCMU, inbound, answered over REST) | workers | calls/s | INVITE→200 p50 / p95 / max ms | CPU µs / setup | BYE/s | CPU µs / teardown | failed |",
      "|---|---:|---:|---|---:|---:|---:|---:|",
      ...r.setup.map((s) =>
        `| round ${s.round}${
          s.round === 1 ? " (cold)" : ""
        }: ${s.calls} calls, ≤ ${s.inFlight} in flight | ${s.workers} | ${f0(s.callsPerSecond)} | ${
          f1(s.setupP50)
        } / ${f1(s.setupP95)} / ${f1(s.setupMax)} | ${f0(s.cpuUsPerSetup)} | ${
          f0(s.byePerSecond)
        } | ${f0(s.cpuUsPerTeardown)} | ${s.failed} |`
      ),
      "",
      "INVITE→200 includes the app's reaction (leg.ringing over VSI, then POST /answer); CPU per " +
        "setup is the server process's over the dial (REST, VSI, SIP, RTP open in a worker).",
      "",
    );
  }
  const loadHead = [
    "| load | workers | legs | rooms / endpoints per worker | legs crossing workers | CPU µs / leg-s (1 s windows min–max) | CPU % of one core | mixer tick late p50 / p99 / max ms | skipped ticks | RSS MiB | packets received / expected | legs hearing room-mates, not themselves | phones' send tick late p50 / p99 ms |",
    "|---|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---|---|",
  ];
  const loadLine = (x: LoadRow) =>
    `| ${x.name} | ${x.workers} | ${x.legs} | ${x.roomsPerWorker} / ${x.endpointsPerWorker} | ${x.crossing} | ${
      f0(x.cpuUsPerLegSecond)
    } (${f0(x.cpuRange[0])}–${f0(x.cpuRange[1])}) | ${f1(x.cpuPctOfOneCore)} | ${f2(x.lateP50)} / ${
      f2(x.lateP99)
    } / ${f2(x.lateMax)} | ${x.skipped} | ${f1(x.rssKiB / 1024)} | ${
      pct(x.deliveredRatio)
    } | ${x.heard.passed}/${x.heard.checked}${
      x.heard.skipped > 0 ? ` (${x.heard.skipped} unchecked: shared tone)` : ""
    } | ${f1(x.clientLateP50)} / ${f1(x.clientLateP99)} |`;
  const loads = r.crossing ? [...r.ramp, r.crossing] : r.ramp;
  if (loads.length > 0) out.push(...loadHead, ...loads.map(loadLine), "");
  const lat = [r.idleLatency, ...r.ramp.map((x) => x.latency)].filter((x) => x !== undefined);
  if (lat.length > 0) {
    out.push(
      "| latency through the mixer (A's packet sent → B's packet received, to the sample) | bursts | p50 ms | p95 ms | p99 ms | max ms | missed | 1 kHz tone ratio, worst burst |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      ...lat.map((l) =>
        `| ${l.where} | ${l.bursts} | ${f1(l.p50)} | ${f1(l.p95)} | ${f1(l.p99)} | ${
          f1(l.max)
        } | ${l.missed} | ${f2(l.toneRatio)} |`
      ),
      "",
      "Latency: A's packet with a 1 kHz burst leaves the phone → B's packet with its first loud " +
        "sample arrives, both timed in the load client (+ the onset's offset in the packet). It " +
        "includes the wait for the mixer's next tick (0–20 ms, a phase fixed per run) and any " +
        "frames queued in the server's ingress (passthrough jitter buffer, up to " +
        "SIP_JITTER_BUFFER_MAX_MS); not the phones' own 20 ms packetization or playout buffer. " +
        "Under load the client's own lateness adds to it (see the phones' send tick column).",
      "",
    );
  }
  if (r.memory) {
    out.push(
      "| memory (server RSS) | KiB |",
      "|---|---:|",
      `| after warm-up, no calls | ${f0(r.memory.baselineKiB)} |`,
      `| per leg, (RSS at 400 legs − no calls) / 400 | ${f1(r.memory.perLegNaiveKiB)} |`,
      `| per leg, (RSS at 400 legs − RSS at 100 legs) / 300 | ${f1(r.memory.perLegSlopeKiB)} |`,
      "",
    );
  }
  if (r.janus.length > 0) {
    out.push(
      ...loadHead,
      ...r.janus.map((j) => loadLine(j.row)),
      "",
      "| Janus shape | ours CPU µs / participant-s | Janus AudioBridge | Janus ÷ ours |",
      "|---|---:|---:|---:|",
      ...r.janus.map((j) =>
        `| ${j.row.name} | ${f0(j.row.cpuUsPerLegSecond)} | ${j.janus} | ${
          f1(j.janus / j.row.cpuUsPerLegSecond)
        } × |`
      ),
      "",
      "Janus figures: deno-media-physics.md §8 (AudioBridge 1.1.2, plain-RTP PCMU, 30 s windows; " +
        "10 × 5 at 8 kHz, 50 × 2 at 16 kHz). Ours: one 5 s window on a shared 2-vCPU box.",
      "",
    );
  }
  if (r.notes.length > 0) out.push("Notes:", ...r.notes.map((n) => `- ${n}`));
  return out.join("\n");
}

// ---- the server side of the rig (`--serve`) ----

/** Runs the server from the environment like main.ts, answering `stats` on stdin. */
async function serve(): Promise<void> {
  const srv = await startServer(loadConfig(Deno.env.toObject()));
  const emit = (o: Json) => console.log(JSON.stringify(o));
  emit({ url: srv.url, sipPort: srv.sipPort, pid: Deno.pid });
  let buf = "";
  const decoder = new TextDecoder();
  let quit = false;
  for await (const chunk of Deno.stdin.readable) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === "") continue;
      const c = JSON.parse(line) as { id?: number; cmd: string };
      if (c.cmd === "quit") quit = true;
      else if (c.cmd === "stats") {
        emit({
          id: c.id,
          workers: srv.ctx.media.stats(),
          legs: srv.ctx.legs.size,
          rooms: srv.ctx.rooms.size,
          crossing: srv.ctx.media.crossingCount,
        });
      }
    }
    if (quit) break;
  }
  await srv.shutdown({ drainMs: 100 });
  Deno.exit(0);
}

if (import.meta.main) {
  if (Deno.args.includes("--serve")) {
    await serve();
  } else {
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
}
