/**
 * SIP over a stream transport (TCP, or TLS over TCP), RFC 3261 §18: a listener, outbound dials,
 * and one pool of connections shared by both directions — a connection accepted from a peer
 * carries our responses and later requests to that peer (§18.1.1, §18.2.2), and idle ones close.
 * `TcpTransport` and `TlsTransport` are this class with their socket functions.
 */
import type { Logger } from "../../log/logger.ts";
import { bareHost, type ParseOptions, type StreamFramerOptions } from "../message/mod.ts";
import { ConnectionPool } from "./connection_pool.ts";
import { InboundPipeline } from "./inbound.ts";
import { StreamConnection } from "./stream_connection.ts";
import {
  type Destination,
  type HostPort,
  type MessageHandler,
  type SendOptions,
  type SipTransport,
  TransportError,
  type WireHook,
} from "./types.ts";

/** Default idle timeout: well above RFC 3261 §18's "at least 64*T1" (32 s). */
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
/** Default limit on simultaneous connections (inbound and outbound). */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Default connect (and TLS handshake) timeout; a transaction times out by 64*T1 anyway. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Opens a connection to `to`; must honour `signal` (close on abort). */
export type StreamDialer = (to: HostPort, signal: AbortSignal) => Promise<Deno.Conn>;

/** Options shared by `TcpTransport` and `TlsTransport`. */
export interface StreamTransportOptions {
  /** Local address to listen on (`SIP_LISTEN_IP` / `SIP_LISTEN_IPV6`). */
  readonly hostname?: string;
  /** Port to listen on (0: ephemeral). Omit for a client-only transport. */
  readonly port?: number;
  /** A client-only transport's port for Via sent-by (default 0). */
  readonly advertisedPort?: number;
  /** `SIP_DEBUG` hook. */
  readonly wire?: WireHook;
  readonly log?: Logger;
  /** Close a connection after this long without traffic; ≤ 0 never (default 300 s). */
  readonly idleTimeoutMs?: number;
  readonly maxConnections?: number;
  readonly connectTimeoutMs?: number;
  /** Per-message size limits of the framer (header section, body, header count). */
  readonly framer?: StreamFramerOptions;
  readonly parse?: ParseOptions;
}

/** A stream SIP transport; implements `SipTransport`. */
export class StreamTransport implements SipTransport {
  readonly protocol: "tcp" | "tls";
  /**
   * The listening address; for a client-only transport, the address and port its Via names
   * (`advertisedPort`, default 0).
   */
  readonly local: HostPort;
  /** Whether it accepts connections (false: client-only). */
  readonly listening: boolean;
  readonly #listener: Deno.Listener | undefined;
  readonly #dial: StreamDialer;
  readonly #opts: StreamTransportOptions;
  readonly #pool: ConnectionPool<StreamConnection>;
  readonly #pipeline: InboundPipeline;
  readonly #closing = new AbortController();
  readonly #accepting: Promise<void>;
  #closed = false;
  #closedDone: Promise<void> | undefined;

  constructor(
    protocol: "tcp" | "tls",
    listener: Deno.Listener | undefined,
    dial: StreamDialer,
    options: StreamTransportOptions = {},
  ) {
    this.protocol = protocol;
    this.#listener = listener;
    this.#dial = dial;
    this.#opts = options;
    const addr = listener?.addr as Deno.NetAddr | undefined;
    this.listening = listener !== undefined;
    this.local = addr
      ? { host: addr.hostname, port: addr.port }
      : { host: options.hostname ?? "0.0.0.0", port: options.advertisedPort ?? 0 };
    this.#pool = new ConnectionPool(options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
    this.#pipeline = new InboundPipeline({
      transport: protocol,
      local: this.local,
      wire: options.wire,
      log: options.log,
      parse: options.parse,
    });
    this.#accepting = listener ? this.#acceptLoop(listener) : Promise.resolve();
  }

  /** Number of open connections (tests check reuse and cleanup with it). */
  get connectionCount(): number {
    return this.#pool.size;
  }

  /** The open connections. */
  connections(): StreamConnection[] {
    return this.#pool.connections();
  }

  /** Counters of the receive path. */
  get stats(): InboundPipeline["stats"] {
    return this.#pipeline.stats;
  }

  /**
   * Sends on `options.connection` when it is ours and open (RFC 3261 §18.2.2), else on the pooled
   * connection to `to`, dialling one if there is none (§18.1.1). A write failing on a reused
   * connection is retried once on a fresh one: the peer may have just closed it.
   */
  async send(bytes: Uint8Array, to: Destination, options?: SendOptions): Promise<void> {
    if (this.#closed) {
      throw new TransportError(`Cannot send: ${this.protocol} transport closed`, to);
    }
    const given = options?.connection;
    if (given instanceof StreamConnection && !given.closed && given.transport === this.protocol) {
      try {
        return await given.send(bytes);
      } catch (err) {
        if (this.#closed) throw err;
      }
    }
    const remote = { host: bareHost(to.host), port: to.port };
    const existing = this.#pool.get(this.protocol, remote);
    if (existing) {
      try {
        return await existing.send(bytes);
      } catch (err) {
        if (this.#closed) throw err;
        existing.close();
      }
    }
    const conn = await this.#pool.obtain(this.protocol, remote, () => this.#connect(to));
    await conn.send(bytes);
  }

  /** Registers an inbound message handler; returns its remover. */
  onMessage(handler: MessageHandler): () => void {
    return this.#pipeline.onMessage(handler);
  }

  /** Closes the listener, in-flight dials and every connection; idempotent. */
  close(): Promise<void> {
    this.#closedDone ??= this.#close();
    return this.#closedDone;
  }

  /** `await using` support. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    try {
      this.#listener?.close();
    } catch {
      // already closed
    }
    await this.#accepting;
    await this.#pool.settle();
    const open = this.#pool.connections();
    this.#pool.closeAll();
    await Promise.all(open.map((c) => c.finished));
  }

  async #connect(to: Destination): Promise<StreamConnection> {
    const remote = { host: bareHost(to.host), port: to.port };
    const abort = new AbortController();
    const onClose = () => abort.abort();
    this.#closing.signal.addEventListener("abort", onClose);
    const timer = setTimeout(
      () => abort.abort(),
      this.#opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    );
    let raw: Deno.Conn;
    try {
      raw = await this.#dial(remote, abort.signal);
    } catch (err) {
      throw new TransportError(
        `Cannot connect to ${remote.host}:${remote.port} over ${this.protocol}`,
        to,
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
      this.#closing.signal.removeEventListener("abort", onClose);
    }
    if (this.#closed) {
      raw.close();
      throw new TransportError(`Cannot send: ${this.protocol} transport closed`, to);
    }
    const conn = this.#adopt(raw, false);
    if (!conn) {
      throw new TransportError(`Cannot connect: too many ${this.protocol} connections`, to);
    }
    return conn;
  }

  /** Wraps a raw connection; `undefined` (and closed) when over the connection limit. */
  #adopt(raw: Deno.Conn, inbound: boolean): StreamConnection | undefined {
    if (this.#pool.size >= (this.#opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS)) {
      this.#opts.log?.warn("SIP connection refused: limit reached", { transport: this.protocol });
      raw.close();
      return undefined;
    }
    const conn = new StreamConnection(raw, this.protocol, {
      pipeline: this.#pipeline,
      wire: this.#opts.wire,
      log: this.#opts.log,
      framer: this.#opts.framer,
      onClose: (c) => this.#pool.remove(c),
    });
    // Accepted connections are indexed by their source (RFC 3261 §18); dialled ones are added
    // by the pool under the destination once this returns.
    if (inbound) this.#pool.add(conn);
    conn.start();
    return conn;
  }

  async #acceptLoop(listener: Deno.Listener): Promise<void> {
    while (!this.#closed) {
      let raw: Deno.Conn;
      try {
        raw = await listener.accept();
      } catch (err) {
        if (this.#closed) break;
        if (err instanceof Deno.errors.BadResource) break;
        this.#opts.log?.debug("SIP accept failed", { error: err });
        continue;
      }
      if (this.#closed) {
        raw.close();
        break;
      }
      this.#adopt(raw, true);
    }
  }
}
