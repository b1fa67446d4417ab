/**
 * Runs SIPp (Debian `sip-tester`) against a test server: loopback only, a bounded run time
 * (`-timeout` plus a hard kill), its traces (`-trace_msg`, `-trace_err`, `-trace_screen`) in a
 * private temporary directory, and the exit code, call counters and per-step message counts
 * read back so tests assert on what SIPp saw.
 */

const SCENARIO_DIR = new URL("../sipp/", import.meta.url);

/** Ports for SIPp's SIP and media sockets; disjoint from every test server's RTP range. */
const PORT_MIN = 47000;
const PORT_MAX = 47999;
let nextPort = PORT_MIN;

/** Whether the `sipp` binary is on PATH (the SIPp tests are skipped without it). */
export function sippInstalled(): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/sipp`).isFile) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

function udpFree(port: number): boolean {
  try {
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * A loopback UDP port in 47000–47999 that is free now, together with `port + 2` (SIPp binds its
 * media port and the one two above it for video).
 */
export function freeSippPort(): number {
  for (let tries = 0; tries < (PORT_MAX - PORT_MIN) / 4; tries++) {
    const port = nextPort;
    nextPort = nextPort + 4 > PORT_MAX - 3 ? PORT_MIN : nextPort + 4;
    if (udpFree(port) && udpFree(port + 2)) return port;
  }
  throw new Error("Cannot find a free UDP port for sipp in 47000-47999");
}

/** What to run. */
export interface SippOptions {
  /** Scenario file name under tests/sipp/. */
  readonly scenario: string;
  /** `host:port` to call (UAC scenarios); omitted for a UAS that waits for calls. */
  readonly remote?: string;
  /** Calls to place or accept before exiting (`-m`, default 1). */
  readonly calls?: number;
  /** Global run time bound in seconds (`-timeout`, default 20); SIPp is killed 5 s after it. */
  readonly timeoutS?: number;
  /** Pause length in ms for `<pause/>` steps without their own (`-d`). */
  readonly pauseMs?: number;
  /** Scenario keywords: `[name]` in the XML becomes the value (`-key name value`). */
  readonly keys?: Record<string, string>;
  /** Files written into the run directory (SIPp's working directory) before it starts. */
  readonly files?: Record<string, Uint8Array>;
  /** Further command-line arguments. */
  readonly args?: readonly string[];
}

/** One message in SIPp's `-trace_msg` log. */
export interface SippMessage {
  readonly direction: "sent" | "received";
  /** The SIP message as it went over the wire. */
  readonly text: string;
}

/** One row of the scenario screen: a step and how often it happened. */
export interface SippStep {
  /** `INVITE`, `200`, `Pause`, … as SIPp prints it. */
  readonly name: string;
  readonly direction: "send" | "recv" | "other";
  readonly count: number;
  /** Retransmissions: sent again by SIPp (send rows) or received again (recv rows). */
  readonly retrans: number;
}

/** How a SIPp run ended. */
export interface SippResult {
  /** 0: every call succeeded; 1: at least one failed; 97/99/-1/-2: see `sipp -h`. */
  readonly code: number;
  readonly stderr: string;
  readonly successful: number;
  readonly failed: number;
  readonly steps: readonly SippStep[];
  readonly messages: readonly SippMessage[];
  /** Messages SIPp dropped on purpose (`lost=` attributes), sent or received. */
  readonly lost: number;
  /** `-trace_err`: unexpected messages, empty when none. */
  readonly errors: string;
}

/** A running SIPp process. */
export class Sipp {
  /** SIPp's SIP port on 127.0.0.1. */
  readonly port: number;
  /** SIPp's media port (`[media_port]` in scenarios). */
  readonly mediaPort: number;
  /** Its private working directory (traces, audio files). */
  readonly dir: string;
  /** Resolves when SIPp exits (never rejects). */
  readonly finished: Promise<SippResult>;
  readonly #child: Deno.ChildProcess;
  readonly #killTimer: ReturnType<typeof setTimeout>;
  #exited = false;

  private constructor(
    child: Deno.ChildProcess,
    dir: string,
    port: number,
    mediaPort: number,
    killAfterMs: number,
  ) {
    this.#child = child;
    this.dir = dir;
    this.port = port;
    this.mediaPort = mediaPort;
    this.#killTimer = setTimeout(() => this.#kill("SIGKILL"), killAfterMs);
    this.finished = child.output().then(
      (out) => this.#collect(out.code, new TextDecoder().decode(out.stderr)),
      (err) => this.#collect(-1, String(err)),
    ).finally(() => {
      this.#exited = true;
      clearTimeout(this.#killTimer);
    });
  }

  /**
   * Starts SIPp on a free loopback port. A UAS (no `remote`) is awaited until its SIP socket is
   * bound, so a call placed right after cannot reach a closed port.
   */
  static async start(o: SippOptions): Promise<Sipp> {
    const dir = await Deno.makeTempDir({ prefix: "sipp_" });
    for (const [name, bytes] of Object.entries(o.files ?? {})) {
      await Deno.writeFile(`${dir}/${name}`, bytes);
    }
    const port = freeSippPort();
    const mediaPort = freeSippPort();
    // SIPp's UDP control socket would otherwise bind 0.0.0.0:8888.
    const controlPort = freeSippPort();
    const timeoutS = o.timeoutS ?? 20;
    const args = [
      ...(o.remote ? [o.remote] : []),
      "-sf",
      new URL(o.scenario, SCENARIO_DIR).pathname,
      "-i",
      "127.0.0.1",
      "-bind_local",
      "-p",
      String(port),
      "-ci",
      "127.0.0.1",
      "-cp",
      String(controlPort),
      "-mi",
      "127.0.0.1",
      "-mp",
      String(mediaPort),
      "-m",
      String(o.calls ?? 1),
      "-timeout",
      `${timeoutS}s`,
      "-timeout_error",
      "-nostdin",
      "-trace_msg",
      "-message_file",
      `${dir}/messages.log`,
      "-trace_err",
      "-error_file",
      `${dir}/errors.log`,
      "-trace_screen",
      "-screen_file",
      `${dir}/screen.log`,
      ...(o.pauseMs !== undefined ? ["-d", String(o.pauseMs)] : []),
      ...Object.entries(o.keys ?? {}).flatMap(([k, v]) => ["-key", k, v]),
      ...(o.args ?? []),
    ];
    const child = new Deno.Command("sipp", {
      args,
      cwd: dir,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const sipp = new Sipp(child, dir, port, mediaPort, (timeoutS + 5) * 1000);
    if (!o.remote) {
      const end = performance.now() + 5000;
      while (!udpBound(port) && !sipp.#exited) {
        if (performance.now() > end) {
          await sipp.close();
          throw new Error(`sipp did not bind UDP port ${port} within 5 s`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return sipp;
  }

  /** The messages SIPp has traced so far (the trace is written as it goes). */
  messagesSoFar(): SippMessage[] {
    try {
      return parseMessages(Deno.readTextFileSync(`${this.dir}/messages.log`));
    } catch {
      return [];
    }
  }

  /** Stops SIPp if it still runs (SIGTERM, then SIGKILL) and removes its directory. */
  async close(): Promise<void> {
    if (!this.#exited) {
      this.#kill("SIGTERM");
      const hard = setTimeout(() => this.#kill("SIGKILL"), 2000);
      await this.finished;
      clearTimeout(hard);
    }
    await this.finished;
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #kill(signal: Deno.Signal): void {
    if (this.#exited) return;
    try {
      this.#child.kill(signal);
    } catch {
      // already gone
    }
  }

  async #collect(code: number, stderr: string): Promise<SippResult> {
    const read = (name: string) => Deno.readTextFile(`${this.dir}/${name}`).catch(() => "");
    const screen = await read("screen.log");
    const log = await read("messages.log");
    return {
      code,
      stderr,
      successful: counter(screen, "Successful call"),
      failed: counter(screen, "Failed call"),
      steps: scenarioSteps(screen),
      messages: parseMessages(log),
      lost: (log.match(/ lost \((?:while sending|recv)\)/g) ?? []).length,
      errors: await read("errors.log"),
    };
  }
}

/** Whether something listens on 127.0.0.1:`port` over UDP (from /proc, without touching it). */
function udpBound(port: number): boolean {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  try {
    return Deno.readTextFileSync("/proc/net/udp").split("\n").some((line) =>
      line.trim().split(/\s+/)[1]?.endsWith(suffix)
    );
  } catch {
    return udpFree(port) === false;
  }
}

/** The cumulative value of a counter on the last statistics screen (0 when absent). */
function counter(screen: string, name: string): number {
  const rows = [
    ...screen.matchAll(new RegExp(`^\\s*${name}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`, "gm")),
  ];
  return rows.length > 0 ? Number(rows[rows.length - 1][1]) : 0;
}

/** The last scenario screen's rows: step, direction, count and retransmissions. */
function scenarioSteps(screen: string): SippStep[] {
  const start = screen.lastIndexOf("Scenario Screen");
  if (start < 0) return [];
  const steps: SippStep[] = [];
  const table = screen.slice(start).split("\n");
  let inTable = false;
  for (const line of table) {
    if (/Messages\s+Retrans/.test(line)) {
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    if (line.trim() === "") break;
    const m = line.match(/^\s*(.+?)\s+(-+>|<-+)\s+(?:[EB]-RTD\d\s+)?(\d+)\s+(\d+)/);
    if (m) {
      steps.push({
        name: m[1],
        direction: m[2].endsWith(">") ? "send" : "recv",
        count: Number(m[3]),
        retrans: Number(m[4]),
      });
      continue;
    }
    const other = line.match(/^\s*(\S.*?\])\s+(\d+)/);
    if (other) {
      steps.push({ name: other[1], direction: "other", count: Number(other[2]), retrans: 0 });
    }
  }
  return steps;
}

/** Splits SIPp's message trace into the messages it sent and received. */
function parseMessages(log: string): SippMessage[] {
  const out: SippMessage[] = [];
  // A "message voluntary lost" note has no line end, so the next separator may follow it.
  for (const block of log.split(/-{20,} [\d-]+ [\d:.]+\r?\n/)) {
    const m = block.match(/^\s*UDP message (sent|received)[^\n]*\n\n([\s\S]*)$/);
    if (m) out.push({ direction: m[1] as "sent" | "received", text: m[2].trim() });
  }
  return out;
}

/** Messages whose first line matches `start` and that carry `cseq` (e.g. "1 INVITE"). */
export function sippMessages(
  from: SippResult | readonly SippMessage[],
  direction: "sent" | "received",
  start: RegExp,
  cseq?: string,
): SippMessage[] {
  const messages = "messages" in from ? from.messages : from;
  return messages.filter((m) =>
    m.direction === direction && start.test(m.text.split("\n", 1)[0]) &&
    (cseq === undefined || new RegExp(`^CSeq:\\s*${cseq}\\s*$`, "mi").test(m.text))
  );
}

/** The row of step `name` (the `n`th such row, counting from 0). */
export function sippStep(result: SippResult, name: string, n = 0): SippStep | undefined {
  return result.steps.filter((s) => s.name === name)[n];
}

/** A readable summary for assertion messages. */
export function describeSipp(result: SippResult): string {
  const steps = result.steps.map((s) => `${s.name} ${s.direction} ${s.count}/${s.retrans}`)
    .join(", ");
  return `sipp exit ${result.code}, ${result.successful} ok, ${result.failed} failed, ` +
    `${result.lost} dropped on purpose; ` +
    `steps: ${steps}; stderr: ${result.stderr.trim().slice(-800)}; errors: ${
      result.errors.trim().slice(-800)
    }`;
}
