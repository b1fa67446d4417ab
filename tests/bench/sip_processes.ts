/**
 * The SIP benchmark's child processes: the server (sip_bench_server.ts, with the `run` task's
 * deno flags) and the load client (sip_load_client.ts), both speaking JSON lines on stdin/stdout,
 * plus the /proc readers that measure the server's CPU and memory.
 */
import { type Json, jsonLines } from "./sip_bench_util.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SERVER_SCRIPT = new URL("./sip_bench_server.ts", import.meta.url).pathname;
const CLIENT_SCRIPT = new URL("./sip_load_client.ts", import.meta.url).pathname;
/** The brief's RTP range 52000-59999: the server's legs get the low part, the phones the rest. */
const SERVER_RTP = { min: 52000, max: 57999 };
const CLIENT_RTP = { min: 58000, max: 59999 };

/** A child process: JSON commands on stdin, JSON replies (matched by `id`) on stdout. */
export class LineChild {
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
    try {
      for await (const msg of jsonLines(this.process.stdout)) {
        const waiter = typeof msg.id === "number" ? this.#pending.get(msg.id) : undefined;
        if (waiter) {
          this.#pending.delete(msg.id as number);
          waiter.resolve(msg);
        } else if (msg.id === undefined) {
          this.#first.resolve(msg);
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

/** Spawns sip_load_client.ts against the server's SIP port (await its `ready`). */
export function spawnLoadClient(serverSipPort: number): LineChild {
  return new LineChild([
    "run",
    "--unstable-net",
    "--allow-net",
    "--no-prompt",
    CLIENT_SCRIPT,
    String(serverSipPort),
    String(CLIENT_RTP.min),
    String(CLIENT_RTP.max),
  ]);
}

/** The deno flags of the `run` task (deno.json), so the server runs with production permissions. */
function runTaskFlags(): string[] {
  const deno = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  const words = String(deno.tasks.run).split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf("main.ts"));
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
export interface WorkerStats {
  index: number;
  endpoints: number;
  rooms: number;
  skipped: number;
  late: { p50: number; p99: number; max: number };
}

/** What the server's stats pipe reports. */
export interface ServerStats {
  workers: WorkerStats[];
  legs: number;
  rooms: number;
  /** SIP legs mixed on another worker than their socket's (relayed through rings). */
  crossing: number;
}

/** The server as a child process. */
export class ServerProcess {
  readonly child: LineChild;
  url = "";
  sipPort = 0;
  readonly workers: number;

  constructor(workers: number, sampleRate: number, extraEnv: Record<string, string> = {}) {
    this.workers = workers;
    this.child = new LineChild(["run", ...runTaskFlags(), SERVER_SCRIPT], {
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
