/**
 * PCM over a WebSocket (compat-notes §3): the transport shared by WebSocket legs (inbound and
 * outbound) and room WebSocket slots. Incoming audio is copied into the endpoint's ingress ring;
 * after each media tick the egress ring is drained onto the socket — one 20 ms frame per tick.
 *
 * Framing: `binary` sends raw s16le frames and accepts binary frames of any even length;
 * `json_base64` sends `{"audio":"<b64>"}` and accepts `{"audio":…}` or `{"type":"audio",…}`.
 * Control frames are JSON text in both: `text`, `ping`/`pong` (echoing `event_id`), `hangup`/`stop`.
 */
import type { EndpointHandle, EndpointSink } from "../media_plane/worker_pool.ts";
import type { Logger } from "../log/logger.ts";

/** Wire framing of audio on the socket. */
export type WireFormat = "binary" | "json_base64";

/** Why a transport ended, as CDR reasons. */
export type WsEndReason = "hangup" | "timeout" | "connection_reset" | "peer_slow" | "ws_error";

/** Callbacks into the owner (leg or room slot). */
export interface WsMediaOwner {
  /** The transport ended on its own (peer hangup, close, deadline); not called after `close()`. */
  ended(reason: WsEndReason): void;
  /** A `{"type":"text"}` frame arrived. */
  text?(text: string): void;
}

/** Timing knobs (defaults: 30 s ping, 60 s idle read, 5 s write deadline). */
export interface WsMediaTimings {
  readonly pingIntervalMs: number;
  readonly readTimeoutMs: number;
  readonly writeTimeoutMs: number;
}

/** Default timings of the contract. */
export const WS_MEDIA_TIMINGS: WsMediaTimings = {
  pingIntervalMs: 30_000,
  readTimeoutMs: 60_000,
  writeTimeoutMs: 5_000,
};

/** Largest accepted incoming message (one second of 48 kHz audio, base64-inflated, plus slack). */
export const MAX_WS_MESSAGE_BYTES = 256 * 1024;
const HIGH_WATER_BYTES = 64 * 1024;

const decoder = new TextDecoder();

/** One WebSocket carrying PCM for one media endpoint. */
export class WsMediaTransport implements EndpointSink {
  readonly #socket: WebSocket;
  readonly #format: WireFormat;
  readonly #owner: WsMediaOwner;
  readonly #logger: Logger;
  readonly #timings: WsMediaTimings;
  #endpoint: EndpointHandle | undefined;
  #frame: Uint8Array = new Uint8Array(0);
  #closed = false;
  #lastRead = performance.now();
  #slowSince = -1;
  #pingSeq = 0;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #readTimer: ReturnType<typeof setInterval> | undefined;
  #oddDrops = 0;

  constructor(
    socket: WebSocket,
    format: WireFormat,
    owner: WsMediaOwner,
    logger: Logger,
    timings: WsMediaTimings = WS_MEDIA_TIMINGS,
  ) {
    this.#socket = socket;
    this.#format = format;
    this.#owner = owner;
    this.#logger = logger;
    this.#timings = timings;
    socket.binaryType = "arraybuffer";
    socket.addEventListener("message", this.#onMessage);
    socket.addEventListener("close", this.#onClose);
    socket.addEventListener("error", this.#onError);
    this.#pingTimer = setInterval(this.#ping, timings.pingIntervalMs);
    this.#readTimer = setInterval(
      this.#checkRead,
      Math.min(1000, Math.max(10, timings.readTimeoutMs / 4)),
    );
  }

  /** Connects the transport to its media endpoint (audio starts flowing both ways). */
  bind(endpoint: EndpointHandle): void {
    this.#endpoint = endpoint;
    this.#frame = new Uint8Array(endpoint.frameBytes);
  }

  /** Sends a JSON control frame (e.g. `connected`, `text`). */
  sendJson(obj: unknown): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(obj));
  }

  /** Drains the egress ring onto the socket after a media tick. */
  drain(): void {
    const ep = this.#endpoint;
    if (!ep || this.#closed || this.#socket.readyState !== WebSocket.OPEN) return;
    const n = ep.frameBytes;
    while (ep.egress.available() >= n) {
      ep.egress.read(this.#frame, n);
      if (this.#socket.bufferedAmount > HIGH_WATER_BYTES) {
        // The peer is not reading: drop audio rather than queue latency, and give up after the
        // write deadline (compat `peer_slow`).
        const now = performance.now();
        if (this.#slowSince < 0) this.#slowSince = now;
        else if (now - this.#slowSince >= this.#timings.writeTimeoutMs) {
          this.#end("peer_slow");
          return;
        }
        continue;
      }
      this.#slowSince = -1;
      if (this.#format === "binary") this.#socket.send(this.#frame);
      else this.#socket.send(`{"audio":"${toBase64(this.#frame)}"}`);
    }
  }

  /** Closes the socket without a JSON frame (server-side hangup) and stops timers. Idempotent. */
  close(code = 1000, reason = ""): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopTimers();
    try {
      this.#socket.close(code, reason);
    } catch { /* already closing */ }
  }

  #end(reason: WsEndReason): void {
    if (this.#closed) return;
    this.close(reason === "hangup" ? 1000 : 1011, reason);
    this.#owner.ended(reason);
  }

  #stopTimers(): void {
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    if (this.#readTimer !== undefined) clearInterval(this.#readTimer);
    this.#pingTimer = this.#readTimer = undefined;
  }

  readonly #ping = (): void => {
    this.sendJson({ type: "ping", event_id: ++this.#pingSeq });
  };

  readonly #checkRead = (): void => {
    if (performance.now() - this.#lastRead >= this.#timings.readTimeoutMs) this.#end("timeout");
  };

  readonly #onClose = (): void => {
    if (!this.#closed) this.#end("connection_reset");
  };

  readonly #onError = (): void => {
    if (!this.#closed) this.#end("ws_error");
  };

  readonly #onMessage = (ev: MessageEvent): void => {
    if (this.#closed) return;
    this.#lastRead = performance.now();
    const data = ev.data;
    if (data instanceof ArrayBuffer) {
      if (this.#format !== "binary") return; // binary audio in JSON mode is dropped
      this.#pushPcm(new Uint8Array(data));
      return;
    }
    if (typeof data !== "string" || data.length > MAX_WS_MESSAGE_BYTES) return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return; // malformed text frames are ignored; the call goes on
    }
    if (msg === null || typeof msg !== "object") return;
    const m = msg as Record<string, unknown>;
    const type = m.type;
    if (typeof m.audio === "string" && (type === undefined || type === "audio")) {
      if (this.#format !== "json_base64") return; // JSON audio in binary mode is dropped
      const bytes = fromBase64(m.audio);
      if (bytes) this.#pushPcm(bytes);
      return;
    }
    switch (type) {
      case "hangup":
      case "stop":
        this.#end("hangup");
        return;
      case "ping":
        this.sendJson({ type: "pong", event_id: m.event_id });
        return;
      case "text":
        if (typeof m.text === "string" && this.#owner.text) this.#owner.text(m.text);
        return;
      default:
        return; // pong and unknown types are ignored
    }
  };

  #pushPcm(bytes: Uint8Array): void {
    if (bytes.length % 2 !== 0) {
      // s16le needs whole samples; an odd frame cannot be aligned, so it is dropped.
      if (this.#oddDrops++ % 100 === 0) {
        this.#logger.warn("dropped odd-length audio frame", { bytes: bytes.length });
      }
      return;
    }
    this.#endpoint?.ingress.write(bytes);
  }
}

/** Standard base64 of bytes (no allocation of intermediate arrays beyond the string). */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return btoa(s);
}

/** Decodes base64, or null when malformed. */
export function fromBase64(s: string): Uint8Array | null {
  try {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

/** UTF-8 text of a binary message (for logs). */
export function utf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
