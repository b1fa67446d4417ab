/**
 * The VSI endpoint `GET /v1/vsi?app_id=<regex>` (compat-notes §2.4): validates the query,
 * upgrades to a WebSocket and hands the socket to a {@link VsiClient}. The hub only tracks its
 * clients; each client owns its queue, timers and bus subscription.
 *
 * Close codes: 1000 after a client `stop`; 1001 on server shutdown; 1008 with reason
 * `read_timeout` (no client frame for `readTimeoutMs`, compat C9 — clients must answer `ping`)
 * or `write_timeout` (the socket stayed above `highWaterBytes` for `writeTimeoutMs`).
 *
 * Deno cannot abort an upgraded connection's TCP stream: after a timeout close the runtime keeps
 * the bytes it already accepted (bounded by the high-water mark plus one frame) until the peer
 * reads them, closes, or the server stops. Our side (subscription, queue, timers) is released at
 * once.
 */
import type { Logger } from "../log/logger.ts";
import type { OpContext } from "../ops/operation.ts";
import { BadRequest, ServiceUnavailable } from "../errors.ts";
import type { VsiEndpoint } from "./app.ts";
import { compileAppIdFilter } from "./vsi_filter.ts";
import { CLOSE_GOING_AWAY, VsiClient, type VsiTimings } from "./vsi_client.ts";

/** How long `closeAll()` waits for clients to finish the closing handshake. */
const CLOSE_ALL_WAIT_MS = 1000;

/** Defaults of the timing knobs (upstream: 30 s ping, 60 s read, 5 s write deadline). */
export const DEFAULT_VSI_TIMINGS: VsiTimings = Object.freeze({
  pingIntervalMs: 30_000,
  readTimeoutMs: 60_000,
  writeTimeoutMs: 5_000,
  highWaterBytes: 256 * 1024,
});

/** Hub options; the timing fields default to {@link DEFAULT_VSI_TIMINGS}. */
export interface VsiOptions extends VsiTimings {
  readonly ctx: OpContext;
  /** Events buffered per client before the newest are dropped (`VSI_EVENT_BUFFER_SIZE`). */
  readonly bufferSize: number;
  readonly logger: Logger;
}

/** Accepts VSI connections and closes them all on shutdown. */
export class VsiHub implements VsiEndpoint {
  readonly #options: VsiOptions;
  readonly #clients = new Set<VsiClient>();
  #nextId = 1;
  #closing = false;

  constructor(options: Partial<VsiTimings> & Pick<VsiOptions, "ctx" | "bufferSize" | "logger">) {
    const o = { ...DEFAULT_VSI_TIMINGS, ...stripUndefined(options) } as VsiOptions;
    for (const k of Object.keys(DEFAULT_VSI_TIMINGS) as (keyof VsiTimings)[]) {
      if (!(Number.isFinite(o[k]) && o[k] > 0)) {
        throw new RangeError(`Cannot create VsiHub: ${k} must be a positive number, got ${o[k]}`);
      }
    }
    if (!Number.isInteger(o.bufferSize) || o.bufferSize < 1) {
      throw new RangeError(`Cannot create VsiHub: invalid bufferSize ${o.bufferSize}`);
    }
    this.#options = o;
  }

  /** Connected (or connecting) clients. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /**
   * Validates `app_id` and upgrades. Throws BadRequest `invalid app_id regex: …` or
   * `expected a WebSocket upgrade request` before any upgrade happens.
   */
  upgrade(req: Request): Response {
    const filter = compileAppIdFilter(new URL(req.url).searchParams.get("app_id"));
    if (!/\bwebsocket\b/i.test(req.headers.get("upgrade") ?? "")) {
      throw new BadRequest("expected a WebSocket upgrade request");
    }
    if (this.#closing) throw new ServiceUnavailable("VSI is shutting down");
    let upgraded: { socket: WebSocket; response: Response };
    try {
      // Deno's own ping/idle timeout is off: the read deadline below is the contract's.
      upgraded = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
    } catch {
      throw new BadRequest("expected a WebSocket upgrade request");
    }
    const o = this.#options;
    const id = this.#nextId++;
    const client = new VsiClient({
      id,
      socket: upgraded.socket,
      ctx: o.ctx,
      filter,
      bufferSize: o.bufferSize,
      logger: o.logger,
      pingIntervalMs: o.pingIntervalMs,
      readTimeoutMs: o.readTimeoutMs,
      writeTimeoutMs: o.writeTimeoutMs,
      highWaterBytes: o.highWaterBytes,
      onStopped: (c) => this.#clients.delete(c),
    });
    this.#clients.add(client);
    return upgraded.response;
  }

  /**
   * Closes every client with 1001 and refuses new ones; resolves when their sockets have closed
   * or after about a second, whichever comes first.
   */
  async closeAll(): Promise<void> {
    this.#closing = true;
    const clients = [...this.#clients];
    for (const c of clients) c.close(CLOSE_GOING_AWAY, "server_shutdown");
    if (clients.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_ALL_WAIT_MS);
    });
    try {
      await Promise.race([Promise.all(clients.map((c) => c.closed)), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
