/**
 * The real entry point as an operator runs it: `main.ts` in a subprocess with exactly the
 * permission flags of the `run` task in deno.json and a clean environment. Covers configuration
 * errors (exit 2), graceful shutdown on SIGTERM (exit 0 after draining the webhook queue) and
 * that the scoped permissions are enough for the server to serve REST and /metrics.
 */
import assert from "node:assert/strict";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { toneRatio } from "../../src/media/goertzel.ts";

const ROOT = new URL("../../", import.meta.url);
const ROOT_DIR = decodeURIComponent(ROOT.pathname);

/** The `run` task from deno.json, split into arguments. */
async function runTask(): Promise<string[]> {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const task: unknown = denoJson?.tasks?.run;
  assert.equal(typeof task, "string", "deno.json has no string `run` task");
  // The task is a plain command line (no quoting, no shell operators); keep that an invariant.
  assert.doesNotMatch(task as string, /["'`$;&|<>\\]/, "the run task must stay a plain command");
  return (task as string).trim().split(/\s+/);
}

/** `deno run …flags main.ts` from the task, minus the leading `deno`. */
async function runTaskArgs(): Promise<string[]> {
  const words = await runTask();
  assert.equal(words[0], "deno", "the run task must start with `deno`");
  assert.equal(words[1], "run", "the run task must be `deno run …`");
  assert.equal(words.at(-1), "main.ts", "the run task must run main.ts");
  return words.slice(1);
}

/** An unused TCP port on 127.0.0.1 (released before returning; fine for tests). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/** Rejects after `ms` with `what` in the message; the timer is cleared when `p` settles. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Accumulates a child's output stream as text and lets callers wait for a pattern. */
class OutputCollector {
  text = "";
  readonly done: Promise<void>;
  #waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        this.text += chunk;
        this.#waiters = this.#waiters.filter((w) => {
          const m = this.text.match(w.re);
          if (m) w.resolve(m);
          return !m;
        });
      }
    })();
  }

  /** Resolves with the first match of `re` in the output so far or to come. */
  waitFor(re: RegExp): Promise<RegExpMatchArray> {
    const m = this.text.match(re);
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => this.#waiters.push({ re, resolve }));
  }
}

/** The server as a subprocess with piped stdout/stderr. */
class ServerProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly stdout: OutputCollector;
  readonly stderr: OutputCollector;
  #status: Promise<Deno.CommandStatus> | undefined;

  constructor(args: string[], env: Record<string, string>) {
    const base: Record<string, string> = {};
    for (const name of ["PATH", "HOME", "DENO_DIR"]) {
      const value = Deno.env.get(name);
      if (value !== undefined) base[name] = value;
    }
    this.child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT_DIR,
      clearEnv: true,
      env: { ...base, NO_COLOR: "1", ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.stdout = new OutputCollector(this.child.stdout);
    this.stderr = new OutputCollector(this.child.stderr);
  }

  /** Exit status once both output streams are fully read. */
  status(): Promise<Deno.CommandStatus> {
    this.#status ??= Promise.all([this.child.status, this.stdout.done, this.stderr.done])
      .then(([s]) => s);
    return this.#status;
  }

  /** Waits for the `listening on` line and returns the printed base URL. */
  async listening(timeoutMs = 30_000): Promise<string> {
    const exited = this.status().then((s) => {
      throw new Error(`server exited (code ${s.code}) before listening:\n${this.stderr.text}`);
    });
    // Only the race below observes this rejection; a later, normal exit must not surface.
    exited.catch(() => {});
    const m = await within(
      timeoutMs,
      `waiting for "listening on" (stdout: ${JSON.stringify(this.stdout.text)})`,
      Promise.race([
        this.stdout.waitFor(/^voiceblender (\S+) listening on (http:\/\/\S+)/m),
        exited,
      ]),
    );
    return m[2];
  }

  /** Kills the child if still running and reaps it. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.status();
  }
}

/** Spawns the server exactly like `deno task run`, listening on 127.0.0.1:<port>. */
async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  return new ServerProcess(await runTaskArgs(), {
    LOG_LEVEL: "error",
    HTTP_ADDR: `127.0.0.1:${freePort()}`,
    // An ephemeral SIP port: parallel runs (and a real SIP server on 5060) never collide.
    SIP_PORT: "0",
    ...env,
  });
}

const BAD_CONFIGS: readonly { env: Record<string, string>; message: string }[] = [
  {
    env: { DEFAULT_SAMPLE_RATE: "11025" },
    message: 'invalid DEFAULT_SAMPLE_RATE: "11025" (allowed: 8000, 16000, 48000)',
  },
  { env: { SIP_PORT: "abc" }, message: 'invalid SIP_PORT: "abc" (must be an integer 0-65535)' },
  { env: { ALLOWED_IPS: "10.0.0.300" }, message: 'invalid ALLOWED_IPS entry: "10.0.0.300"' },
  {
    env: { RTP_PORT_MIN: "20000", RTP_PORT_MAX: "10000" },
    message: "invalid RTP port range: RTP_PORT_MIN 20000 > RTP_PORT_MAX 10000",
  },
  {
    env: { SIP_TLS_PORT: "5061" },
    message: "SIP_TLS_PORT is set but SIP_TLS_CERT and SIP_TLS_KEY are required",
  },
];

Deno.test("main.ts exits 2 naming SIP_TLS_CA_FILE when it cannot be read", async () => {
  await using srv = await spawnServer({ SIP_TLS_CA_FILE: "./certs/missing-ca.pem" });
  const status = await within(30_000, "exit", srv.status());
  assert.equal(status.code, 2, `stderr:\n${srv.stderr.text}`);
  assert.match(
    srv.stderr.text,
    /^voiceblender: configuration error: cannot read SIP_TLS_CA_FILE "\.\/certs\/missing-ca\.pem": .+\n$/,
  );
});

Deno.test("main.ts exits 1 with one line when HTTP_ADDR is taken", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await using srv = await spawnServer({
      HTTP_ADDR: `127.0.0.1:${(taken.addr as Deno.NetAddr).port}`,
    });
    const status = await within(30_000, "exit", srv.status());
    assert.equal(status.code, 1, `stderr:\n${srv.stderr.text}`);
    assert.match(srv.stderr.text, /^voiceblender: cannot start: .*[Aa]ddr.* in use.*\n$/);
  } finally {
    taken.close();
  }
});

for (const { env, message } of BAD_CONFIGS) {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ");
  Deno.test(`main.ts exits 2 with a configuration error for ${vars}`, async () => {
    await using srv = await spawnServer(env);
    const status = await within(30_000, `exit with ${vars}`, srv.status());
    assert.equal(status.code, 2, `stderr:\n${srv.stderr.text}`);
    assert.equal(srv.stderr.text, `voiceblender: configuration error: ${message}\n`);
    assert.doesNotMatch(srv.stdout.text, /listening on/);
  });
}

/** A webhook receiver that answers every POST after `delayMs`, recording what arrived. */
class SlowReceiver implements AsyncDisposable {
  readonly bodies: { eventId: string | null; json: Record<string, unknown> }[] = [];
  answered = 0;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  constructor(delayMs: number) {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const json = await req.json();
      this.bodies.push({ eventId: req.headers.get("x-event-id"), json });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      this.answered++;
      return new Response(null, { status: 200 });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/hook`;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.#server.shutdown();
  }
}

async function portIsClosed(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return false;
  } catch (err) {
    return err instanceof Deno.errors.ConnectionRefused;
  }
}

Deno.test("SIGTERM shuts down gracefully: exit 0 after the webhook queue is drained and the port closed", async () => {
  await using receiver = new SlowReceiver(300);
  await using srv = await spawnServer({ WEBHOOK_URL: receiver.url, INSTANCE_ID: "vb-proc" });
  const base = await srv.listening();
  const port = Number(new URL(base).port);

  const ids = ["p1", "p2", "p3", "p4", "p5"];
  for (const id of ids) {
    const res = await fetch(`${base}/v1/rooms`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id }),
    });
    const text = await res.text();
    assert.equal(res.status, 201, text);
  }
  const answeredAtSignal = receiver.answered;
  srv.child.kill("SIGTERM");
  const status = await within(20_000, "exit after SIGTERM", srv.status());

  assert.equal(status.code, 0, `stderr:\n${srv.stderr.text}`);
  assert.equal(status.signal, null);
  // The receiver is slow, so the deliveries were still pending when the signal arrived: if the
  // shutdown had not drained the queue they would be missing below.
  assert.ok(answeredAtSignal < ids.length, `all ${answeredAtSignal} answered before SIGTERM`);
  const created = receiver.bodies.filter((b) => b.json.type === "room.created");
  assert.deepEqual(created.map((b) => b.json.room_id).sort(), ids);
  for (const b of created) {
    assert.equal(b.json.instance_id, "vb-proc");
    assert.equal(b.eventId, b.json.event_id);
  }
  assert.equal(receiver.answered, receiver.bodies.length);
  assert.ok(await portIsClosed(port), `port ${port} still accepts connections after exit`);
});

Deno.test("the run task grants only scoped read/write permissions", async () => {
  const words = await runTask();
  for (const w of words) {
    assert.notEqual(w, "-A", "the run task must not use -A");
    assert.ok(!w.startsWith("--allow-all"), "the run task must not use --allow-all");
    assert.ok(!/^-[^-]*A/.test(w), `short flags including -A: ${w}`);
    for (const flag of ["--allow-read", "--allow-write", "--allow-run", "--allow-ffi"]) {
      if (w === flag) assert.fail(`${flag} without a scope in the run task`);
    }
  }
  assert.ok(words.some((w) => w.startsWith("--allow-read=")), "no scoped --allow-read");
  assert.ok(words.some((w) => w.startsWith("--allow-write=")), "no scoped --allow-write");
  assert.ok(!words.some((w) => w.startsWith("--allow-run")), "the server must not spawn processes");
});

Deno.test("under the run task's permissions the server serves REST and GET /metrics", async () => {
  await using srv = await spawnServer({ INSTANCE_ID: "vb-perm" });
  const base = await srv.listening();

  const rooms = await fetch(`${base}/v1/rooms`);
  assert.equal(rooms.status, 200);
  assert.deepEqual(await rooms.json(), []);

  const metrics = await fetch(`${base}/metrics`);
  const text = await metrics.text();
  assert.equal(metrics.status, 200, text);
  assert.match(metrics.headers.get("content-type") ?? "", /^text\/plain/);
  assert.match(text, /^voiceblender_active_legs 0$/m);
  assert.match(text, /^voiceblender_webhook_deliveries_total\{outcome="success"\} 0$/m);
  // The process collectors are on in production; they are what needs sys/read permissions.
  assert.match(text, /^process_cpu_user_seconds_total /m);
  assert.match(text, /^nodejs_heap_size_total_bytes /m);
  // A collector denied a permission does not fail the scrape: it reports 0 (prom-client swallows
  // the error). A live process has resident memory, open descriptors and a heap, so a 0 here
  // means the run task lacks a permission that collector needs.
  const rss = text.match(/^process_resident_memory_bytes (\S+)$/m);
  assert.ok(rss, "process_resident_memory_bytes missing");
  assert.ok(
    Number(rss[1]) > 0,
    `process_resident_memory_bytes is ${rss[1]} under the run task (a collector reading ` +
      "/proc/self, which Deno allows only with --allow-all?)",
  );
  for (const name of ["process_virtual_memory_bytes", "process_heap_bytes", "process_open_fds"]) {
    const m = text.match(new RegExp(`^${name} (\\S+)$`, "m"));
    if (m) assert.ok(Number(m[1]) > 0, `${name} is ${m[1]} under the run task's permissions`);
  }

  srv.child.kill("SIGTERM");
  const status = await within(20_000, "exit after SIGTERM", srv.status());
  assert.equal(status.code, 0, `stderr:\n${srv.stderr.text}`);
  assert.doesNotMatch(srv.stderr.text, /NotCapable|PermissionDenied|Requires .* access/);
});

Deno.test("with the run task's permissions the media workers start and mix audio", async () => {
  await using srv = await spawnServer({ MEDIA_WORKERS: "1" });
  const base = await srv.listening();
  const ws = (tone: number) =>
    new PcmClient(
      `${base.replace(/^http/, "ws")}/v1/legs/websocket?room_id=perm&sample_rate=16000`,
      { rate: 16000, toneHz: tone },
    );
  const a = ws(700);
  const b = ws(1300);
  try {
    await a.opened;
    await b.opened;
    a.startSending();
    b.startSending();
    // Frames come back only from a running media worker (a worker that cannot load its modules
    // under the scoped --allow-read never ticks).
    await waitFor(() => a.received.length >= 50 && b.received.length >= 50, 20_000, "mixed audio");
    assert.ok(toneRatio(a.tail(400), 16000, 1300) > 0.3, "A hears B through the mixer");
  } finally {
    await a.close();
    await b.close();
  }
});
