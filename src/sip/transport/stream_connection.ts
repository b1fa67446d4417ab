/**
 * One TCP or TLS connection carrying SIP (RFC 3261 §18, §18.3): a read loop feeding the message
 * layer's `StreamFramer`, a write queue so messages never interleave, and the RFC 5626 §4.4.1
 * keep-alive answer (a double-CRLF ping gets a single-CRLF pong).
 */
import type { Logger } from "../../log/logger.ts";
import { StreamFramer, type StreamFramerOptions } from "../message/mod.ts";
import { nextConnectionId, unmapHost } from "./address.ts";
import { callWire, type InboundPipeline } from "./inbound.ts";
import {
  type Connection,
  type Destination,
  type HostPort,
  TransportError,
  type WireHook,
} from "./types.ts";
import type { PooledConnection } from "./connection_pool.ts";

const PONG = new Uint8Array([13, 10]);
const READ_BUFFER_BYTES = 16 * 1024;
/** How long answers still queued may take to leave once the peer's stream has ended. */
const FLUSH_WAIT_MS = 1000;

/** Options for a `StreamConnection`. */
export interface StreamConnectionOptions {
  readonly pipeline: InboundPipeline;
  readonly wire?: WireHook;
  readonly log?: Logger;
  readonly framer?: StreamFramerOptions;
  /** Called once when the connection has closed, for whatever reason. */
  readonly onClose?: (conn: StreamConnection) => void;
}

/** A SIP stream connection; implements `Connection` for the transaction layer. */
export class StreamConnection implements Connection, PooledConnection {
  readonly id: number = nextConnectionId();
  readonly transport: "tcp" | "tls";
  readonly reliable = true;
  readonly local: HostPort;
  readonly remote: HostPort;
  /** `performance.now()` of the last read or write. */
  lastActivity: number = performance.now();
  readonly #conn: Deno.Conn;
  readonly #opts: StreamConnectionOptions;
  readonly #framer: StreamFramer;
  #writes: Promise<void> = Promise.resolve();
  #closed = false;
  #reading: Promise<void> | undefined;

  constructor(conn: Deno.Conn, transport: "tcp" | "tls", options: StreamConnectionOptions) {
    this.#conn = conn;
    this.transport = transport;
    this.#opts = options;
    const local = conn.localAddr as Deno.NetAddr;
    const remote = conn.remoteAddr as Deno.NetAddr;
    this.local = { host: local.hostname, port: local.port };
    this.remote = { host: unmapHost(remote.hostname), port: remote.port };
    this.#framer = new StreamFramer(options.framer);
  }

  /** Whether the connection is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the read loop has ended (after `close()` or the peer hanging up). */
  get finished(): Promise<void> {
    return this.#reading ?? Promise.resolve();
  }

  /** Starts reading; call once. */
  start(): void {
    this.#reading ??= this.#readLoop();
  }

  /** Queues one whole message; rejects with `TransportError` when the connection fails. */
  send(bytes: Uint8Array): Promise<void> {
    const to: Destination = { ...this.remote, transport: this.transport };
    if (this.#closed) {
      return Promise.reject(new TransportError("Cannot send: connection is closed", to));
    }
    const write = this.#writes.then(async () => {
      if (this.#closed) throw new TransportError("Cannot send: connection is closed", to);
      try {
        let off = 0;
        while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
      } catch (err) {
        this.close();
        throw new TransportError(`Cannot write to ${this.remote.host}:${this.remote.port}`, to, {
          cause: err,
        });
      }
      this.lastActivity = performance.now();
      if (this.#opts.wire && bytes !== PONG) {
        callWire(this.#opts.wire, {
          direction: "out",
          transport: this.transport,
          bytes,
          peer: this.remote,
          local: this.local,
        });
      }
    });
    // The queue continues past a failed write; the caller sees the failure through `write`.
    this.#writes = write.catch(() => {});
    return write;
  }

  /** Closes the connection; idempotent. The read loop then ends and `onClose` runs once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    if (!this.#reading) this.#opts.onClose?.(this);
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    const pipeline = this.#opts.pipeline;
    // Whether answers already queued should still go out before the socket closes: yes when the
    // peer stopped sending (EOF, a half-close) or framing was lost after earlier messages of the
    // same read; no after `close()` or a failed read.
    let flush = false;
    try {
      while (!this.#closed) {
        let n: number | null;
        try {
          n = await this.#conn.read(buf);
        } catch (err) {
          if (!this.#closed) this.#opts.log?.debug("SIP stream read failed", { error: err });
          break;
        }
        if (n === null) {
          flush = true;
          break;
        }
        this.lastActivity = performance.now();
        // The framer copies what it keeps, so the read buffer is reused for the next read.
        const chunk = buf.subarray(0, n);
        if (this.#opts.wire) pipeline.wireIn(chunk.slice(), this);
        if (!this.#handle(chunk)) {
          flush = true;
          break;
        }
      }
    } finally {
      if (flush && !this.#closed) await this.#flush();
      this.#closed = true;
      try {
        this.#conn.close();
      } catch {
        // already closed
      }
      await this.#writes;
      this.#opts.onClose?.(this);
    }
  }

  /**
   * Waits (at most `FLUSH_WAIT_MS`) for the queued writes: answers to the messages that came in
   * before the stream ended. Bounded, as a peer that never reads would otherwise hold us open.
   */
  async #flush(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cap = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FLUSH_WAIT_MS);
    });
    await Promise.race([this.#writes, cap]);
    clearTimeout(timer);
  }

  /** Feeds one chunk to the framer; false when framing is lost and the connection must close. */
  #handle(chunk: Uint8Array): boolean {
    const pipeline = this.#opts.pipeline;
    for (const ev of this.#framer.push(chunk)) {
      switch (ev.type) {
        case "message":
          pipeline.deliver(ev.message, undefined, this);
          break;
        case "invalid":
          pipeline.reject(ev.error, this);
          break;
        case "ping":
          // RFC 5626 §4.4.1: answer a CRLFCRLF ping with a CRLF pong.
          this.send(PONG).catch(() => {});
          break;
        case "pong":
          break;
        case "fatal":
          this.#opts.log?.debug("SIP stream framing lost; closing", {
            error: ev.error.message,
            peer: this.remote,
          });
          return false;
      }
    }
    return true;
  }
}
