/**
 * Composition root: builds the control plane from a {@link Config}, serves HTTP on
 * `Deno.serve`, and shuts down in order — stop accepting, end calls, close VSI clients, flush
 * webhooks.
 */
import type { Config } from "./config/types.ts";
import { EventBus } from "./events/bus.ts";
import { WebhookDispatcher, type WebhookDispatcherOptions } from "./events/webhook_dispatcher.ts";
import { WebhookRegistry } from "./events/webhook_registry.ts";
import { LegRegistry } from "./legs/leg_registry.ts";
import { Logger } from "./log/logger.ts";
import { Metrics } from "./metrics/metrics.ts";
import type { OpContext } from "./ops/operation.ts";
import { receiveDtmf } from "./ops/sip_media.ts";
import { RoomManager } from "./rooms/room_manager.ts";
import { createApp } from "./api/app.ts";
import { MediaPlane } from "./media_plane/worker_pool.ts";
import { BaseLeg } from "./legs/base_leg.ts";
import type { WsMediaTimings } from "./legs/ws_media.ts";
import { attachPlayback } from "./ops/playback.ts";
import { attachRecording } from "./ops/recording.ts";
import { attachBridge } from "./ops/bridge.ts";
import { VsiHub, type VsiOptions } from "./api/vsi.ts";
import { SipStack, type SipStackOptions } from "./sip/stack.ts";
import { RtpEndpoints } from "./media_plane/rtp_endpoints.ts";
import { PortAllocator } from "./media_plane/port_allocator.ts";
import { SipLeg } from "./legs/sip_leg.ts";
import { attachSipInbound } from "./ops/sip_legs.ts";

/** Knobs for embedding and tests; production uses the defaults. */
export interface ServerOptions {
  readonly logger?: Logger;
  readonly vsi?: Partial<VsiOptions>;
  readonly webhooks?: Partial<
    Omit<WebhookDispatcherOptions, "registry" | "metrics" | "logger" | "global">
  >;
  /** Process runtime metrics (default true). */
  readonly runtimeMetrics?: boolean;
  /** WebSocket media keepalive/deadline timings (tests shorten them). */
  readonly wsTimings?: WsMediaTimings;
  /** SIP stack knobs (tests shrink the RFC 3261 timers). */
  readonly sip?: SipStackOptions;
}

/** A running server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly hostname: string;
  readonly port: number;
  /** The bound SIP UDP/TCP port (`SIP_PORT`, or the ephemeral one for `SIP_PORT=0`). */
  readonly sipPort: number;
  /** The bound SIP TLS port when `SIP_TLS_PORT` is set (0 there picks an ephemeral one). */
  readonly sipTlsPort: number | undefined;
  readonly ctx: OpContext;
  readonly vsi: VsiHub;
  readonly webhooks: WebhookDispatcher;
  /** Graceful shutdown; resolves when everything is closed. Idempotent. */
  shutdown(options?: { drainMs?: number }): Promise<void>;
}

/** Starts the server on `config.httpAddr`. */
export async function startServer(
  config: Config,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const logger = options.logger ?? new Logger(config.logLevel, { instance_id: config.instanceId });
  const legs = new LegRegistry();
  const bus = new EventBus(config.instanceId, { logger });
  const media = new MediaPlane({
    size: config.mediaWorkers,
    logger: logger.child({ component: "media" }),
    listener: {
      speaking(endpointId, roomId, speaking) {
        const leg = legs.get(endpointId);
        if (leg instanceof BaseLeg) {
          leg.publish(speaking ? "speaking.started" : "speaking.stopped", { room_id: roomId });
        }
      },
    },
  });
  const rooms = new RoomManager(bus, legs, (room) => {
    if (room.mixerReady) media.deleteRoom(room.id);
  });
  const metrics = new Metrics({
    activeLegs: () => legs.size,
    activeRooms: () => rooms.size,
  }, { runtime: options.runtimeMetrics });
  bus.subscribe((ev) => metrics.eventsPublished.inc({ type: ev.type }));
  const registry = new WebhookRegistry();
  const dispatcher = new WebhookDispatcher({
    // One dead per-leg receiver may hold at most a quarter of the shared queue.
    targetCapacity: 250,
    ...options.webhooks,
    global: config.webhookUrl
      ? { url: config.webhookUrl, secret: config.webhookSecret || undefined }
      : undefined,
    registry,
    metrics,
    logger: logger.child({ component: "webhooks" }),
  });
  dispatcher.attach(bus);

  const rtp = new RtpEndpoints(
    media,
    new PortAllocator({ min: config.rtpPortMin, max: config.rtpPortMax }),
    logger.child({ component: "rtp" }),
    {
      closed(endpointId, quality) {
        const leg = legs.get(endpointId);
        if (leg instanceof SipLeg) leg.rtpClosed(quality);
      },
      timeout(endpointId) {
        const leg = legs.get(endpointId);
        if (leg instanceof SipLeg) leg.rtpTimeout();
      },
      dtmf(endpointId, digit) {
        const leg = legs.get(endpointId);
        if (leg instanceof SipLeg) receiveDtmf(ctx, leg, digit);
      },
    },
  );
  let sip: SipStack;
  try {
    sip = await SipStack.start(config, logger, options.sip);
  } catch (err) {
    rtp.dispose();
    await media.close();
    throw err;
  }

  const tasks = new Set<Promise<unknown>>();
  const ctx: OpContext = {
    config,
    bus,
    legs,
    rooms,
    media,
    sip,
    rtp,
    webhooks: registry,
    metrics,
    logger,
    background(task) {
      const t = task.catch((err) => logger.error("background task failed", { error: err }))
        .finally(() => tasks.delete(t));
      tasks.add(t);
    },
  };
  const vsi = new VsiHub({
    ...options.vsi,
    ctx,
    bufferSize: config.vsiEventBufferSize,
    logger: logger.child({ component: "vsi" }),
  });
  attachPlayback(ctx);
  attachRecording(ctx);
  attachBridge(ctx);
  attachSipInbound(ctx);
  const app = createApp({ ctx, vsi, wsTimings: options.wsTimings });

  const abort = new AbortController();
  const handler = (req: Request, info: Deno.ServeHandlerInfo) =>
    app.fetch(req, { remoteAddr: info.remoteAddr as Deno.NetAddr });
  let server: Deno.HttpServer;
  try {
    server = serveOn(config, handler, abort.signal);
  } catch (err) {
    // HTTP_ADDR could not be bound: release what is already open before reporting it.
    await sip.close();
    rtp.dispose();
    await media.close();
    throw err;
  }
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const connectHost = addr.hostname === "0.0.0.0"
    ? "127.0.0.1"
    : addr.hostname === "::"
    ? "[::1]"
    : host;
  logger.info("http listening", { addr: `${host}:${addr.port}` });

  let closing: Promise<void> | undefined;
  const shutdown = (opts: { drainMs?: number } = {}) => {
    closing ??= (async () => {
      const drainMs = opts.drainMs ?? 10_000;
      logger.info("shutting down");
      const stopped = server.shutdown();
      await vsi.closeAll();
      await Promise.allSettled(legs.list().map((l) => l.hangup("server_shutdown")));
      await Promise.allSettled([...tasks]);
      const timer = setTimeout(() => abort.abort(), 2000);
      await stopped;
      clearTimeout(timer);
      const drained = await dispatcher.drain(drainMs);
      if (!drained) {
        logger.warn("webhook queue not drained before shutdown", { pending: dispatcher.pending });
      }
      await dispatcher.close();
      await sip.close();
      rtp.dispose();
      await media.close();
      logger.info("shutdown complete");
    })();
    return closing;
  };

  await Promise.resolve();
  return {
    url: `http://${connectHost}:${addr.port}`,
    hostname: addr.hostname,
    port: addr.port,
    sipPort: sip.port,
    sipTlsPort: sip.tlsPort,
    ctx,
    vsi,
    webhooks: dispatcher,
    shutdown,
  };
}

/** `HTTP_ADDR` without a host listens on every interface: dual-stack `::`, else `0.0.0.0`. */
function serveOn(
  config: Config,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  signal: AbortSignal,
): Deno.HttpServer<Deno.NetAddr> {
  const base = { port: config.httpAddr.port, signal, onListen() {} };
  if (config.httpAddr.hostname !== undefined) {
    return Deno.serve({ ...base, hostname: config.httpAddr.hostname }, handler);
  }
  try {
    return Deno.serve({ ...base, hostname: "::" }, handler);
  } catch {
    return Deno.serve({ ...base, hostname: "0.0.0.0" }, handler);
  }
}
