/**
 * A WebSocket audio peer for tests: connects as a WebSocket leg (or room slot), sends a sine tone
 * in paced 20 ms frames and records everything it receives, so tests check audio by content.
 */
import { fromBase64, toBase64 } from "../../src/legs/ws_media.ts";

/** Options of a test peer. */
export interface PcmClientOptions {
  /** Tone to send (Hz); 0 sends silence; undefined sends nothing. */
  readonly toneHz?: number;
  readonly rate: number;
  readonly format?: "binary" | "json_base64";
  /** Tone amplitude as a share of full scale. */
  readonly amplitude?: number;
  readonly headers?: Record<string, string>;
}

/** A connected test peer. */
export class PcmClient {
  readonly ws: WebSocket;
  readonly rate: number;
  readonly format: "binary" | "json_base64";
  readonly received: Int16Array[] = [];
  readonly texts: unknown[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseEvent>;
  #timer: ReturnType<typeof setInterval> | undefined;
  #phase = 0;

  constructor(url: string, readonly options: PcmClientOptions) {
    this.rate = options.rate;
    this.format = options.format ?? "binary";
    this.ws = new WebSocket(url, { headers: options.headers ?? {} } as unknown as string[]);
    this.ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener("open", () => resolve(), { once: true });
      this.ws.addEventListener(
        "error",
        (e) => reject(new Error(`ws error ${(e as ErrorEvent).message}`)),
        {
          once: true,
        },
      );
    });
    this.closed = new Promise((resolve) =>
      this.ws.addEventListener("close", resolve, { once: true })
    );
    this.ws.addEventListener("message", (ev) => {
      if (ev.data instanceof ArrayBuffer) {
        this.received.push(new Int16Array(ev.data.slice(0)));
        return;
      }
      const msg = JSON.parse(ev.data as string);
      if (typeof msg.audio === "string") {
        const bytes = fromBase64(msg.audio)!;
        this.received.push(new Int16Array(bytes.buffer, 0, bytes.length >> 1));
      } else {
        this.texts.push(msg);
        if (msg.type === "ping") {
          this.ws.send(JSON.stringify({ type: "pong", event_id: msg.event_id }));
        }
      }
    });
  }

  /** Starts sending 20 ms frames of the tone every 20 ms. */
  startSending(): void {
    if (this.options.toneHz === undefined) return;
    const n = this.rate / 50;
    const amp = (this.options.amplitude ?? 0.25) * 32767;
    const step = (2 * Math.PI * (this.options.toneHz ?? 0)) / this.rate;
    this.#timer = setInterval(() => {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      const frame = new Int16Array(n);
      for (let i = 0; i < n; i++) {
        frame[i] = this.options.toneHz ? Math.round(amp * Math.sin(this.#phase)) : 0;
        this.#phase += step;
      }
      this.#phase %= 2 * Math.PI;
      const bytes = new Uint8Array(frame.buffer);
      if (this.format === "binary") this.ws.send(bytes);
      else this.ws.send(JSON.stringify({ audio: toBase64(bytes) }));
    }, 20);
  }

  /** The last `ms` of received audio as one buffer. */
  tail(ms: number): Int16Array {
    const want = Math.round((this.rate * ms) / 1000);
    const all = this.concat();
    return all.subarray(Math.max(0, all.length - want));
  }

  /** Everything received so far. */
  concat(): Int16Array {
    const total = this.received.reduce((s, f) => s + f.length, 0);
    const out = new Int16Array(total);
    let at = 0;
    for (const f of this.received) {
      out.set(f, at);
      at += f.length;
    }
    return out;
  }

  /** Stops sending and closes the socket; resolves when closed. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close();
    }
    await this.closed;
  }
}

/** Waits until `cond()` holds, polling every 10 ms, failing after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean,
  timeoutMs = 3000,
  what = "condition",
): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
