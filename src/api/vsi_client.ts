/**
 * One VSI connection (compat-notes §2.4): streams bus events through a bounded per-client queue,
 * runs the client's commands one at a time in arrival order, and enforces the keepalive, the idle
 * read deadline (C9) and the write deadline. Flow control relies on `bufferedAmount` (bytes the
 * runtime has accepted but not yet handed to the kernel): frames leave the queue only while it is
 * under the high-water mark, so a stalled reader backs up into its own queue, where events — and
 * only events — are dropped and later reported with `events_dropped`.
 */
import type { PublishedEvent } from "../events/event.ts";
import type { Logger } from "../log/logger.ts";
import type { OpContext } from "../ops/operation.ts";
import { FrameQueue } from "./vsi_queue.ts";
import { CommandSequencer } from "./vsi_commands.ts";
import { CONNECTED_FRAME, droppedFrame, pingFrame } from "./vsi_frames.ts";

/** Close code for a client that broke the keepalive or flow-control policy (RFC 6455 §7.4.1). */
export const CLOSE_POLICY_VIOLATION = 1008;
/** Close code on server shutdown (RFC 6455 §7.4.1 "going away"). */
export const CLOSE_GOING_AWAY = 1001;
/** Close code answering a client `stop`. */
export const CLOSE_NORMAL = 1000;

/** How often a stalled client's socket is re-checked for drain. */
export const STALL_POLL_MS = 25;

const WS_CONNECTING = 0;
const WS_CLOSED = 3;

type Timer = ReturnType<typeof setTimeout>;

/** The part of a server-side WebSocket a client uses (a fake stands in for it in unit tests). */
export interface VsiSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: "open" | "message" | "close" | "error",
    listener: (ev: Event) => void,
  ): void;
}

/** Timing knobs, all in milliseconds. */
export interface VsiTimings {
  readonly pingIntervalMs: number;
  readonly readTimeoutMs: number;
  readonly writeTimeoutMs: number;
  readonly highWaterBytes: number;
}

/** Everything a client needs from its hub. */
export interface VsiClientInit extends VsiTimings {
  readonly id: number;
  readonly socket: VsiSocket;
  readonly ctx: OpContext;
  /** Unanchored `app_id` filter, or null for every event. */
  readonly filter: RegExp | null;
  readonly bufferSize: number;
  readonly logger: Logger;
  /** Called once when the client stops (before its socket has finished closing). */
  readonly onStopped: (client: VsiClient) => void;
}

/** One connected VSI client. */
export class VsiClient {
  readonly id: number;
  /** Resolves when the socket has reported `close` (the hub bounds how long it waits). */
  readonly closed: Promise<void>;
  readonly #init: VsiClientInit;
  readonly #socket: VsiSocket;
  readonly #queue: FrameQueue;
  readonly #abort = new AbortController();
  readonly #unsubscribe: () => void;
  readonly #startedAt = performance.now();
  #resolveClosed!: () => void;
  #open = false;
  #stopped = false;
  #lastReadAt = performance.now();
  #readTimer: Timer | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #stallTimer: Timer | undefined;
  #stalledSince = -1;
  #closeOnOpen: [code: number, reason: string] | undefined;
  #pingSeq = 0;
  #droppedUnreported = 0;
  #droppedTotal = 0;
  #burst = 0;
  #nextWarnAt = 1;
  readonly #commands: CommandSequencer;

  constructor(init: VsiClientInit) {
    this.id = init.id;
    this.#init = init;
    this.#socket = init.socket;
    this.#queue = new FrameQueue(init.bufferSize);
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    // `connected` is queued before subscribing so it is always the first frame on the wire.
    this.#queue.pushControl(CONNECTED_FRAME);
    this.#commands = new CommandSequencer({
      ctx: init.ctx,
      signal: this.#abort.signal,
      logger: init.logger,
      clientId: init.id,
      send: (frame) => this.#sendControl(frame),
      stop: () => this.#stop("stop", CLOSE_NORMAL),
    });
    this.#unsubscribe = init.ctx.bus.subscribe(this.#onEvent);
    const s = this.#socket;
    s.addEventListener("open", this.#onOpen);
    s.addEventListener("message", this.#onMessage);
    s.addEventListener("close", this.#onClose);
    s.addEventListener("error", this.#onError);
    // Armed before `open` too, so an upgrade that never completes cannot leak a subscription.
    this.#readTimer = setTimeout(this.#checkRead, init.readTimeoutMs);
    init.ctx.metrics.vsiClients.inc();
  }

  /** Frames waiting in this client's queue (events and control). */
  get queued(): number {
    return this.#queue.size;
  }

  /** Events dropped on this connection so far. */
  get droppedTotal(): number {
    return this.#droppedTotal;
  }

  /** Stops the client and starts the WebSocket closing handshake. Idempotent. */
  close(code: number, reason: string): void {
    this.#stop(reason, code);
  }

  // ── bus → queue ──────────────────────────────────────────────────────────

  readonly #onEvent = (ev: PublishedEvent): void => {
    if (this.#stopped) return;
    // The bus would contain a throw too, but without our metric and client id.
    try {
      const filter = this.#init.filter;
      if (filter !== null && !filter.test(ev.appId)) return;
      if (this.#queue.eventsFull) {
        this.#drop();
        return;
      }
      if (this.#droppedUnreported > 0) {
        this.#queue.pushControl(droppedFrame(this.#droppedUnreported));
        this.#droppedUnreported = 0;
      }
      this.#queue.pushEvent(ev.json);
      this.#burst = 0;
      this.#nextWarnAt = 1;
      if (this.#stallTimer === undefined) this.#pump();
    } catch (err) {
      this.#recover("event", err);
    }
  };

  #drop(): void {
    this.#droppedUnreported++;
    this.#droppedTotal++;
    this.#burst++;
    this.#init.ctx.metrics.vsiEventsDropped.inc();
    // Leading edge of a burst, then each power of ten: visible without a line per event.
    if (this.#burst === this.#nextWarnAt) {
      this.#nextWarnAt *= 10;
      this.#init.logger.warn("vsi client too slow, dropping events", {
        client_id: this.id,
        dropped_in_burst: this.#burst,
        dropped_total: this.#droppedTotal,
        buffer_size: this.#queue.eventCapacity,
      });
    }
  }

  // ── queue → socket ───────────────────────────────────────────────────────

  #sendControl(frame: string): void {
    if (this.#stopped) return;
    this.#queue.pushControl(frame);
    if (this.#stallTimer === undefined) this.#pump();
  }

  /** Sends queued frames while the socket is under the high-water mark; else waits for drain. */
  #pump(): void {
    if (!this.#open || this.#stopped) return;
    const s = this.#socket;
    const q = this.#queue;
    try {
      while (q.size > 0) {
        if (s.bufferedAmount >= this.#init.highWaterBytes) {
          if (this.#stalledSince < 0) this.#stalledSince = performance.now();
          this.#stallTimer ??= setTimeout(this.#checkStall, STALL_POLL_MS);
          return;
        }
        s.send(q.shift()!);
      }
    } catch (err) {
      this.#init.logger.warn("vsi send failed", { client_id: this.id, error: err });
      this.#stop("error", CLOSE_GOING_AWAY);
    }
  }

  readonly #checkStall = this.#guarded("stall", (): void => {
    this.#stallTimer = undefined;
    if (this.#stopped) return;
    if (this.#socket.bufferedAmount < this.#init.highWaterBytes) {
      this.#stalledSince = -1;
      this.#pump();
      return;
    }
    // Write deadline (compat §2.4): no drain below the mark for writeTimeoutMs.
    if (performance.now() - this.#stalledSince >= this.#init.writeTimeoutMs) {
      this.#stop("write_timeout", CLOSE_POLICY_VIOLATION);
      return;
    }
    this.#stallTimer = setTimeout(this.#checkStall, STALL_POLL_MS);
  });

  // ── socket lifecycle ─────────────────────────────────────────────────────

  readonly #onOpen = this.#guarded("open", (): void => {
    if (this.#stopped) {
      // Deno ignores close() on a server socket still upgrading and opens it anyway.
      if (this.#closeOnOpen) this.#socket.close(...this.#closeOnOpen);
      return;
    }
    this.#open = true;
    this.#init.logger.info("vsi client connected", {
      client_id: this.id,
      app_id_filter: this.#init.filter?.source,
    });
    this.#pingTimer = setInterval(this.#ping, this.#init.pingIntervalMs);
    this.#pump();
  });

  readonly #ping = this.#guarded("ping", (): void => {
    this.#pingSeq++;
    this.#sendControl(pingFrame(this.#pingSeq));
  });

  readonly #checkRead = this.#guarded("read_deadline", (): void => {
    this.#readTimer = undefined;
    if (this.#stopped) return;
    const idle = performance.now() - this.#lastReadAt;
    if (idle >= this.#init.readTimeoutMs) {
      this.#stop("read_timeout", CLOSE_POLICY_VIOLATION);
      return;
    }
    this.#readTimer = setTimeout(this.#checkRead, this.#init.readTimeoutMs - idle);
  });

  readonly #onClose = this.#guarded("close", (ev: Event): void => {
    this.#resolveClosed();
    const code = (ev as CloseEvent).code;
    this.#stop(code === 1005 || code === 1000 || code === 1001 ? "peer_close" : "error");
  });

  readonly #onError = (ev: Event): void => {
    if (this.#stopped) return;
    this.#init.logger.debug("vsi socket error", {
      client_id: this.id,
      error: (ev as ErrorEvent).message,
    });
  };

  /** Releases everything this client holds; `code` also closes the socket from our side. */
  #stop(reason: string, code?: number): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unsubscribe();
    clearTimeout(this.#readTimer);
    clearInterval(this.#pingTimer);
    clearTimeout(this.#stallTimer);
    this.#readTimer = this.#pingTimer = this.#stallTimer = undefined;
    this.#abort.abort();
    this.#queue.clear();
    this.#init.ctx.metrics.vsiClients.dec();
    this.#init.onStopped(this);
    this.#init.logger.info("session closed", {
      kind: "vsi",
      client_id: this.id,
      reason,
      duration_ms: Math.round(performance.now() - this.#startedAt),
      events_dropped: this.#droppedTotal,
    });
    if (this.#socket.readyState === WS_CLOSED) {
      this.#resolveClosed();
    } else if (code !== undefined && this.#socket.readyState === WS_CONNECTING) {
      this.#closeOnOpen = [code, reason];
    } else if (code !== undefined) {
      try {
        this.#socket.close(code, reason);
      } catch (err) {
        this.#init.logger.debug("vsi close failed", { client_id: this.id, error: err });
      }
    }
  }

  // ── client frames ────────────────────────────────────────────────────────

  readonly #onMessage = this.#guarded("message", (ev: Event): void => {
    this.#lastReadAt = performance.now(); // any frame, binary included, resets the read deadline
    const data: unknown = (ev as MessageEvent).data;
    // Binary frames are ignored (compat §2.4).
    if (!this.#stopped && typeof data === "string") this.#commands.accept(data);
  });

  /** Wraps a socket or timer callback so nothing it throws escapes (created once per client). */
  #guarded<A extends unknown[]>(site: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      try {
        fn(...args);
      } catch (err) {
        this.#recover(site, err);
      }
    };
  }

  #recover(site: string, err: unknown): void {
    try {
      this.#init.logger.error("vsi handler failed", { client_id: this.id, site, error: err });
      this.#init.ctx.metrics.recoveredPanics.inc({ component: "vsi", site });
    } catch {
      // Reporting must not throw out of an event handler either.
    }
  }
}
