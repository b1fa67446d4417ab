/**
 * A real baresip (Debian's baresip-core 1.0.0) as an independent SIP peer for integration tests.
 *
 * Each instance runs in a private temp config dir, loopback only (no STUN/ICE/SRTP, no
 * registration), with a generated WAV tone as its microphone (`aufile` source) and the `sndfile`
 * filter dumping what it decodes, so tests check the audio baresip received by content. It is
 * driven over `ctrl_tcp`: netstring-framed JSON commands (`{"command":"dial","params":"sip:…"}`)
 * with one JSON response each, and JSON events (`{"event":true,"class":"call","type":…}`).
 *
 * baresip 1.0.0 specifics this relies on: `aufile` is a source only (the player came later), so
 * received audio is taken from `sndfile`'s `dump-<time>-dec.wav` in `snd_path`; the source file
 * must match the codec's clock rate and ends the call when it runs out ("end of file"), so it is
 * made long enough for a whole test.
 */

/** Where Debian installs the modules. */
const MODULE_PATH = "/usr/lib/baresip/modules";

/** Options of a baresip instance. */
export interface BaresipOptions {
  /** User part of the account's AOR (`sip:<user>@127.0.0.1`). */
  readonly user?: string;
  /** The account's `audio_codecs`, e.g. `["PCMU"]` or `["G722"]`. */
  readonly codecs: readonly string[];
  /** `answermode` of the account (default `manual`: the test sends `accept`). */
  readonly answerMode?: "manual" | "auto";
  /** Tone of the microphone WAV (Hz). */
  readonly toneHz: number;
  /** Clock rate of the microphone WAV: must equal the call's codec rate (8000 PCMU, 16000 G.722). */
  readonly sourceRate: number;
  /** Length of the microphone WAV; the call ends when it runs out (default 60 s). */
  readonly sourceSeconds?: number;
  /** baresip's RTP port range. */
  readonly rtpPorts: readonly [number, number];
  /** Bound on the start-up wait (default 10 s). */
  readonly startTimeoutMs?: number;
  /** Adds baresip's SIP trace (`-s`) to `log`, for debugging. */
  readonly sipTrace?: boolean;
}

/** One event baresip reported over ctrl_tcp. */
export interface BaresipEvent {
  readonly class: string;
  readonly type: string;
  readonly param?: string;
  readonly direction?: string;
  readonly peeruri?: string;
  readonly id?: string;
  readonly [key: string]: unknown;
}

/** A command's reply. */
export interface BaresipResponse {
  readonly ok: boolean;
  readonly data: string;
}

/** What baresip reports about a call's audio stream. */
export interface AudioStreamInfo {
  /** SDP direction from baresip's side: sendrecv, sendonly, recvonly or inactive. */
  readonly dir: string;
  readonly txPackets: number;
  readonly rxPackets: number;
}

/** Decoded mono PCM. */
export interface Pcm {
  readonly rate: number;
  readonly samples: Int16Array;
}

/** A running baresip, controlled over ctrl_tcp. */
export class Baresip {
  readonly events: BaresipEvent[] = [];
  #log = "";
  #conn: Deno.TcpConn | undefined;
  #readLoop: Promise<void> | undefined;
  #pending: ((r: BaresipResponse) => void)[] = [];
  #outputs: Promise<void>[] = [];
  #closed = false;

  private constructor(
    readonly dir: string,
    readonly sipPort: number,
    readonly ctrlPort: number,
    readonly user: string,
    readonly child: Deno.ChildProcess,
  ) {}

  /** The account's AOR with its port, for the server to call. */
  get uri(): string {
    return `sip:${this.user}@127.0.0.1:${this.sipPort}`;
  }

  /** baresip's stdout/stderr so far (for assertion messages). */
  get log(): string {
    return this.#log;
  }

  /**
   * Writes the config, starts baresip and connects to ctrl_tcp (bounded wait). The ports are free
   * when picked but released before baresip binds them, so an early exit is retried (3 tries).
   */
  static async start(options: BaresipOptions): Promise<Baresip> {
    for (let attempt = 1;; attempt++) {
      try {
        return await Baresip.#launch(options);
      } catch (e) {
        if (!(e instanceof BaresipExited) || attempt === 3) throw e;
      }
    }
  }

  static async #launch(options: BaresipOptions): Promise<Baresip> {
    // sndfile builds the dump path in a 128-byte buffer: keep the dir short.
    const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "vbbs" });
    const user = options.user ?? "baresip";
    let child: Deno.ChildProcess | undefined;
    try {
      const sipPort = freePort();
      const ctrlPort = freePort([sipPort]);
      const wav = `${dir}/mic.wav`;
      await Deno.writeFile(
        wav,
        wavFile(
          sineWave(options.toneHz, options.sourceRate, options.sourceSeconds ?? 60),
          options.sourceRate,
        ),
      );
      await Deno.writeTextFile(
        `${dir}/config`,
        configText({ sipPort, ctrlPort, wav, dir, rtpPorts: options.rtpPorts }),
      );
      const params = [
        "regint=0",
        `answermode=${options.answerMode ?? "manual"}`,
        `audio_codecs=${options.codecs.join(",")}`,
        "ptime=20",
      ];
      await Deno.writeTextFile(
        `${dir}/accounts`,
        `<sip:${user}@127.0.0.1;transport=udp>;${params.join(";")}\n`,
      );
      await Deno.writeTextFile(`${dir}/contacts`, "");

      child = new Deno.Command("baresip", {
        args: ["-4", "-f", dir, ...(options.sipTrace ? ["-s"] : [])],
        cwd: dir,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const b = new Baresip(dir, sipPort, ctrlPort, user, child);
      b.#outputs = [b.#drain(child.stdout), b.#drain(child.stderr)];
      try {
        await b.#connect(options.startTimeoutMs ?? 10_000);
      } catch (e) {
        await b.close();
        throw e;
      }
      return b;
    } catch (e) {
      if (child === undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw e;
    }
  }

  /** Sends one ctrl_tcp command and waits for its response. */
  command(command: string, params?: string, timeoutMs = 5000): Promise<BaresipResponse> {
    const conn = this.#conn;
    if (conn === undefined) return Promise.reject(new Error("baresip is not connected"));
    const body = new TextEncoder().encode(
      JSON.stringify(params === undefined ? { command } : { command, params }),
    );
    const frame = new Uint8Array([
      ...new TextEncoder().encode(`${body.length}:`),
      ...body,
      0x2c,
    ]);
    return new Promise<BaresipResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#pending.indexOf(done);
        if (i >= 0) this.#pending.splice(i, 1);
        reject(new Error(`baresip did not answer ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (r: BaresipResponse) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.#pending.push(done);
      writeAll(conn, frame).catch((e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  /** Waits for an event of `type` (and matching `pred`), failing after `timeoutMs`. */
  async waitEvent(
    type: string,
    timeoutMs = 10_000,
    pred: (e: BaresipEvent) => boolean = () => true,
  ): Promise<BaresipEvent> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const e = this.events.find((x) => x.type === type && pred(x));
      if (e !== undefined) return e;
      if (performance.now() > end || this.#closed) {
        throw new Error(
          `baresip: timed out waiting for ${type}; events: ${
            this.events.map((x) => x.type).join(",")
          }\n${this.#log.slice(-3000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * The current call's audio stream as baresip 1.0.0's `audio_debug` prints it: the SDP direction
   * in force, RTP packets sent and RTP packets received (summed over the peer's SSRCs).
   */
  async audioStream(): Promise<AudioStreamInfo> {
    const r = await this.command("audio_debug");
    const dir = /audio dir=(\w+)/.exec(r.data)?.[1];
    const tx = /TX: packets=(\d+)/.exec(r.data)?.[1];
    if (!r.ok || dir === undefined || tx === undefined) {
      throw new Error(`Cannot parse baresip's audio_debug: ${r.data}`);
    }
    let rx = 0;
    for (const m of r.data.matchAll(/rcvd=(\d+)/g)) rx += Number(m[1]);
    return { dir, txPackets: Number(tx), rxPackets: rx };
  }

  /**
   * The audio baresip decoded, from sndfile's newest `dump-*-dec.wav`. Complete only after the
   * call closed (sndfile closes the file then); readable, header aside, while it runs.
   */
  async receivedAudio(): Promise<Pcm> {
    const dumps: string[] = [];
    for await (const e of Deno.readDir(this.dir)) {
      if (e.isFile && e.name.startsWith("dump-") && e.name.endsWith("-dec.wav")) {
        dumps.push(e.name);
      }
    }
    if (dumps.length === 0) throw new Error(`baresip wrote no decode dump in ${this.dir}`);
    dumps.sort();
    return parseWav(await Deno.readFile(`${this.dir}/${dumps[dumps.length - 1]}`));
  }

  /** Kills baresip, closes the control connection and removes the temp dir. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn?.close();
    } catch { /* already closed by the peer */ }
    try {
      this.child.kill("SIGTERM");
    } catch { /* already exited */ }
    const killTimer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }, 2000);
    await this.child.status;
    clearTimeout(killTimer);
    await Promise.all(this.#outputs);
    await this.#readLoop;
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      this.#log += dec.decode(chunk, { stream: true });
      if (this.#log.length > 200_000) this.#log = this.#log.slice(-100_000);
    }
  }

  async #connect(timeoutMs: number): Promise<void> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const status = await Promise.race([
        this.child.status,
        new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), 50)),
      ]);
      clearTimeout(timer);
      if (status !== undefined) {
        throw new BaresipExited(`baresip exited with ${status.code}:\n${this.#log}`);
      }
      if (this.#log.includes("baresip is ready.")) {
        try {
          this.#conn = await Deno.connect({ hostname: "127.0.0.1", port: this.ctrlPort });
          break;
        } catch { /* not listening yet */ }
      }
      if (performance.now() > end) {
        throw new Error(`baresip did not start within ${timeoutMs} ms:\n${this.#log}`);
      }
    }
    this.#readLoop = this.#read(this.#conn);
    // ctrl_tcp attaches its netstring reader in its accept handler; a round trip proves it.
    const r = await this.command("uafind", `sip:${this.user}@127.0.0.1`);
    if (!r.ok) throw new Error(`baresip has no account: ${r.data}\n${this.#log}`);
  }

  async #read(conn: Deno.TcpConn): Promise<void> {
    const buf = new Uint8Array(65536);
    let acc = new Uint8Array(0);
    const dec = new TextDecoder();
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        return;
      }
      if (n === null) return;
      const next = new Uint8Array(acc.length + n);
      next.set(acc);
      next.set(buf.subarray(0, n), acc.length);
      acc = next;
      // Netstrings: "<len>:<payload>,".
      for (;;) {
        const colon = acc.indexOf(0x3a);
        if (colon < 0) break;
        const len = Number(dec.decode(acc.subarray(0, colon)));
        if (!Number.isInteger(len)) throw new Error("baresip sent a malformed netstring");
        if (acc.length < colon + 1 + len + 1) break;
        const msg = JSON.parse(dec.decode(acc.subarray(colon + 1, colon + 1 + len)));
        acc = acc.slice(colon + 2 + len);
        if (msg.response === true) {
          this.#pending.shift()?.({ ok: msg.ok === true, data: String(msg.data ?? "") });
        } else if (msg.event === true || msg.event === "true") {
          this.events.push(msg as BaresipEvent);
        }
      }
    }
  }
}

/** baresip exited during start-up (typically: a port it was given got taken meanwhile). */
class BaresipExited extends Error {}

/** The generated config: only what the tests need, loopback only. */
function configText(o: {
  sipPort: number;
  ctrlPort: number;
  wav: string;
  dir: string;
  rtpPorts: readonly [number, number];
}): string {
  return [
    "poll_method epoll",
    `sip_listen 127.0.0.1:${o.sipPort}`,
    "call_local_timeout 120",
    "call_max_calls 4",
    `audio_source aufile,${o.wav}`,
    "ausrc_format s16",
    "auplay_format s16",
    "auenc_format s16",
    "audec_format s16",
    "audio_buffer 20-160",
    "audio_level no",
    "rtp_tos 0",
    `rtp_ports ${o.rtpPorts[0]}-${o.rtpPorts[1]}`,
    "rtcp_mux no",
    "jitter_buffer_delay 1-10",
    "rtp_stats no",
    "net_interface 127.0.0.1",
    "dns_server 127.0.0.1:53",
    `module_path ${MODULE_PATH}`,
    "module g722.so",
    "module g711.so",
    "module aufile.so",
    "module sndfile.so",
    "module_tmp account.so",
    "module_app menu.so",
    "module_app ctrl_tcp.so",
    `ctrl_tcp_listen 127.0.0.1:${o.ctrlPort}`,
    `snd_path ${o.dir}`,
    "ringback_disabled yes",
    "",
  ].join("\n");
}

/** A loopback port free for both UDP and TCP right now (baresip binds SIP on both). */
function freePort(avoid: readonly number[] = []): number {
  for (let i = 0; i < 50; i++) {
    const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (tcp.addr as Deno.NetAddr).port;
    try {
      if (avoid.includes(port)) continue;
      const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
      udp.close();
      return port;
    } catch {
      // taken for UDP: try another
    } finally {
      tcp.close();
    }
  }
  throw new Error("no free loopback port for baresip");
}

async function writeAll(conn: Deno.TcpConn, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await conn.write(data.subarray(at));
}

/** A sine tone at 0.3 of full scale. */
export function sineWave(hz: number, rate: number, seconds: number): Int16Array {
  const out = new Int16Array(Math.round(rate * seconds));
  const step = (2 * Math.PI * hz) / rate;
  for (let i = 0; i < out.length; i++) out[i] = Math.round(0.3 * 32767 * Math.sin(step * i));
  return out;
}

/** A 16-bit mono PCM WAV file. */
export function wavFile(samples: Int16Array, rate: number): Uint8Array {
  const out = new Uint8Array(44 + samples.length * 2);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  };
  ascii(0, "RIFF");
  v.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, "data");
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) v.setInt16(44 + i * 2, samples[i], true);
  return out;
}

/**
 * Reads a 16-bit mono PCM WAV. A data chunk whose size is still unset (file not yet closed) runs
 * to the end of the file.
 */
export function parseWav(bytes: Uint8Array): Pcm {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") {
    throw new Error("Cannot parse WAV: not a RIFF/WAVE file");
  }
  let rate = 0;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    if (id === "fmt ") {
      if (v.getUint16(at + 8, true) !== 1 || v.getUint16(at + 10, true) !== 1) {
        throw new Error("Cannot parse WAV: not mono PCM");
      }
      if (v.getUint16(at + 22, true) !== 16) throw new Error("Cannot parse WAV: not 16-bit");
      rate = v.getUint32(at + 12, true);
    } else if (id === "data") {
      if (rate === 0) throw new Error("Cannot parse WAV: data before fmt");
      const start = at + 8;
      const end = size === 0 || start + size > bytes.length ? bytes.length : start + size;
      const n = (end - start) >> 1;
      const samples = new Int16Array(n);
      for (let i = 0; i < n; i++) samples[i] = v.getInt16(start + i * 2, true);
      return { rate, samples };
    }
    at += 8 + size + (size & 1);
  }
  throw new Error("Cannot parse WAV: no data chunk");
}
