/**
 * The main thread's view of the media plane: a lazily started pool of media workers, placement
 * of rooms and endpoints on them, and the hand-off of audio rings. The main thread never touches
 * samples: it copies transport bytes into rings and drains rings onto sockets when a worker
 * signals a finished tick.
 */
import type { Logger } from "../log/logger.ts";
import { ServiceUnavailable } from "../errors.ts";
import {
  frameBytes,
  type LegRate,
  type ParticipantFlags,
  type WorkerCommand,
  type WorkerEvent,
} from "../media/protocol.ts";
import { PcmRing } from "../media/pcm_ring.ts";

/** Ingress ring depth: at most one second of audio waits for the mixer (compat §3.1). */
const INGRESS_MS = 1000;
/** Egress ring depth: a few frames, drained every tick. */
const EGRESS_FRAMES = 10;
/** Above this share of the 20 ms period a worker takes no new endpoints. */
const SATURATION = 0.7;
/** Hard cap of endpoints per worker (the measured budget is ≈1000 PCMU legs per core). */
const MAX_ENDPOINTS_PER_WORKER = 800;

/** Something on the main thread fed by an endpoint's egress ring. */
export interface EndpointSink {
  /** Called after each tick of the endpoint's worker; drain the egress ring here. */
  drain(): void;
}

/** Receives worker events the control plane cares about. */
export interface MediaPlaneListener {
  speaking(endpointId: string, roomId: string | undefined, speaking: boolean): void;
}

class WorkerHandle {
  readonly index: number;
  readonly worker: Worker;
  readonly sinks = new Map<string, EndpointSink>();
  rooms = 0;
  utilization = 0;
  ticks = 0;
  skipped = 0;
  lateMs = 0;
  late = { p50: 0, p99: 0, max: 0 };

  constructor(index: number, worker: Worker) {
    this.index = index;
    this.worker = worker;
  }

  post(cmd: WorkerCommand): void {
    this.worker.postMessage(cmd);
  }

  get load(): number {
    return this.sinks.size + this.rooms;
  }
}

/** A media endpoint registered on a worker. */
export interface EndpointHandle {
  readonly id: string;
  readonly rate: LegRate;
  /** Main thread writes the leg's incoming audio here. */
  readonly ingress: PcmRing;
  /** Main thread reads the audio to send to the leg here. */
  readonly egress: PcmRing;
  readonly frameBytes: number;
}

interface EndpointState extends EndpointHandle {
  worker: WorkerHandle;
  sink: EndpointSink;
  speech: boolean;
  roomId: string | undefined;
  /**
   * For an endpoint whose worker owns its socket (RTP), that worker: the socket can never move.
   * When its room is mixed elsewhere, `worker` is the mixing worker and frames cross between the
   * two through `crossing`'s rings (`endpoint.relay`).
   */
  home: WorkerHandle | undefined;
  /** The rings carrying a native endpoint's frames to and from `worker` while it is not `home`. */
  crossing: { ingress: SharedArrayBuffer; egress: SharedArrayBuffer } | undefined;
}

const NO_SINK: EndpointSink = { drain() {} };

/** The pool of media workers. */
export class MediaPlane {
  readonly #size: number;
  readonly #logger: Logger;
  readonly #listener: MediaPlaneListener;
  readonly #workerUrl: URL;
  #workers: WorkerHandle[] = [];
  readonly #roomWorker = new Map<string, WorkerHandle>();
  readonly #endpoints = new Map<string, EndpointState>();
  #featureHandlers: { prefix: string; handler: (ev: WorkerEvent) => void }[] = [];
  #closed = false;

  constructor(options: {
    size: number;
    logger: Logger;
    listener: MediaPlaneListener;
    workerUrl?: URL;
  }) {
    this.#size = Math.max(1, options.size);
    this.#logger = options.logger;
    this.#listener = options.listener;
    this.#workerUrl = options.workerUrl ??
      new URL("../../workers/media_worker.ts", import.meta.url);
  }

  /** Workers started so far (they start on first use). */
  get workerCount(): number {
    return this.#workers.length;
  }

  /** Per-worker load snapshot (for metrics and benchmarks). */
  stats(): {
    index: number;
    endpoints: number;
    rooms: number;
    utilization: number;
    ticks: number;
    skipped: number;
    lateMs: number;
    late: { p50: number; p99: number; max: number };
  }[] {
    return this.#workers.map((w) => ({
      index: w.index,
      endpoints: w.sinks.size,
      rooms: w.rooms,
      utilization: w.utilization,
      ticks: w.ticks,
      skipped: w.skipped,
      lateMs: w.lateMs,
      late: w.late,
    }));
  }

  /**
   * Throws 503 when no worker could take another endpoint, so callers refuse a new leg before
   * accepting it (a WebSocket upgrade, a 201 for a dial) rather than failing it afterwards.
   */
  requireCapacity(): void {
    if (this.#closed) throw new ServiceUnavailable("media plane is shutting down");
    if (this.#workers.length < this.#size) return;
    if (!this.#workers.some((w) => this.#hasRoom(w))) {
      throw new ServiceUnavailable("media capacity exhausted");
    }
  }

  #hasRoom(w: WorkerHandle): boolean {
    return w.utilization <= SATURATION && w.sinks.size < MAX_ENDPOINTS_PER_WORKER;
  }

  /**
   * Creates a room's mixer: on the worker of `nearEndpoint` when given (the first joining leg, so
   * its media and the mixer share a worker), else on the least-loaded worker.
   */
  createRoom(roomId: string, rate: number, nearEndpoint?: string): void {
    const nearEp = nearEndpoint ? this.#endpoints.get(nearEndpoint) : undefined;
    // Next to a native endpoint's socket, so its frames need not cross workers.
    const near = nearEp?.home ?? nearEp?.worker;
    const w = near ?? this.#pick();
    w.rooms++;
    this.#roomWorker.set(roomId, w);
    w.post({ t: "room.create", roomId, rate });
  }

  /** Deletes a room's mixer (its endpoints must have left first). */
  deleteRoom(roomId: string): void {
    const w = this.#roomWorker.get(roomId);
    if (!w) return;
    this.#roomWorker.delete(roomId);
    w.rooms--;
    w.post({ t: "room.delete", roomId });
  }

  /** Sends a feature command to the worker that mixes `roomId`; false when it has no mixer. */
  postToRoom(roomId: string, cmd: WorkerCommand): boolean {
    const w = this.#roomWorker.get(roomId);
    w?.post(cmd);
    return w !== undefined;
  }

  /**
   * Sends a command to the worker that mixes endpoint `id` (feature commands) or, for `rtp.*`
   * commands, to the worker that owns its socket; false when unknown.
   */
  postToEndpoint(id: string, cmd: WorkerCommand): boolean {
    const ep = this.#endpoints.get(id);
    if (!ep) return false;
    const w = ep.home && cmd.t.startsWith("rtp.") ? ep.home : ep.worker;
    w.post(cmd);
    return true;
  }

  /** Index of the worker mixing `roomId` (bridges compare them), if it has a mixer. */
  roomWorkerIndex(roomId: string): number | undefined {
    return this.#roomWorker.get(roomId)?.index;
  }

  /**
   * Subscribes to feature events whose type starts with `prefix` (e.g. `play.`). Returns the
   * unsubscribe function.
   */
  onFeatureEvent(prefix: string, handler: (ev: WorkerEvent) => void): () => void {
    const entry = { prefix, handler };
    this.#featureHandlers.push(entry);
    return () => {
      this.#featureHandlers = this.#featureHandlers.filter((e) => e !== entry);
    };
  }

  /** Applies a routing matrix to a room (atomically at the next tick). */
  setRouting(roomId: string, matrix: Record<string, readonly string[] | null> | null): void {
    this.#roomWorker.get(roomId)?.post({ t: "room.routing", roomId, matrix });
  }

  /**
   * Registers an endpoint (a leg's media or a room WebSocket slot) and returns its rings. It is
   * placed on the worker of `roomId` when given, so its frames never cross workers.
   */
  attach(
    id: string,
    rate: LegRate,
    sink: EndpointSink,
    options: { roomId?: string; speech?: boolean } = {},
  ): EndpointHandle {
    if (this.#endpoints.has(id)) throw new Error(`Cannot attach endpoint: ${id} exists`);
    const worker = (options.roomId && this.#roomWorker.get(options.roomId)) || this.#pick();
    const fb = frameBytes(rate);
    const ingress = new PcmRing(PcmRing.allocate(fb * (INGRESS_MS / 20)));
    const egress = new PcmRing(PcmRing.allocate(fb * EGRESS_FRAMES));
    const state: EndpointState = {
      id,
      rate,
      ingress,
      egress,
      frameBytes: fb,
      worker,
      sink,
      speech: options.speech ?? false,
      roomId: undefined,
      home: undefined,
      crossing: undefined,
    };
    this.#endpoints.set(id, state);
    this.#attachOn(worker, state);
    return state;
  }

  /**
   * Registers an endpoint whose transport the worker itself owns (a SIP leg's RTP session,
   * opened with a `rtp.open` command right after). It is placed on the worker mixing `roomId`
   * when given; its socket stays on that worker for its whole life (a room mixed elsewhere is
   * reached through rings, see {@link join}).
   */
  placeNative(id: string, options: { roomId?: string } = {}): void {
    if (this.#endpoints.has(id)) throw new Error(`Cannot place endpoint: ${id} exists`);
    const worker = (options.roomId && this.#roomWorker.get(options.roomId)) || this.#pick();
    const empty = undefined as unknown as PcmRing;
    this.#endpoints.set(id, {
      id,
      rate: 8000,
      ingress: empty,
      egress: empty,
      frameBytes: 0,
      worker,
      sink: NO_SINK,
      speech: false,
      roomId: undefined,
      home: worker,
      crossing: undefined,
    });
    worker.sinks.set(id, NO_SINK);
  }

  /** Records a native endpoint's transport rate and speech flag once its session is open. */
  setNativeFormat(id: string, rate: LegRate, speech: boolean): void {
    const ep = this.#endpoints.get(id);
    if (!ep?.home) return;
    ep.speech = speech;
    (ep as { rate: LegRate }).rate = rate;
    (ep as { frameBytes: number }).frameBytes = frameBytes(rate);
  }

  /** How many native endpoints are currently mixed on another worker than their socket's. */
  get crossingCount(): number {
    let n = 0;
    for (const ep of this.#endpoints.values()) if (ep.crossing) n++;
    return n;
  }

  /** Removes an endpoint from its room and its worker. Idempotent. */
  detach(id: string): void {
    const ep = this.#endpoints.get(id);
    if (!ep) return;
    this.#endpoints.delete(id);
    ep.worker.sinks.delete(id);
    ep.worker.post({ t: "endpoint.detach", endpointId: id });
    if (ep.home && ep.home !== ep.worker) {
      ep.home.sinks.delete(id);
      ep.home.post({ t: "endpoint.detach", endpointId: id });
    }
  }

  /**
   * Puts an endpoint into a room with its flags applied before its first mixed frame. An endpoint
   * on another worker is re-homed first: its rings are shared memory, so only ownership moves. A
   * native endpoint's socket cannot move: its worker relays its frames through a pair of rings
   * that the mixing worker reads as a ring endpoint.
   */
  join(id: string, roomId: string, flags: ParticipantFlags): void {
    const ep = this.#require(id);
    const target = this.#roomWorker.get(roomId);
    if (!target) throw new Error(`Cannot join: room ${roomId} has no mixer`);
    if (ep.home) {
      this.#placeNativeFor(ep, target);
    } else if (ep.worker !== target) {
      ep.worker.sinks.delete(id);
      ep.worker.post({ t: "endpoint.detach", endpointId: id });
      ep.worker = target;
      this.#attachOn(target, ep);
    }
    ep.roomId = roomId;
    target.post({ t: "endpoint.join", endpointId: id, roomId, flags });
  }

  /** Routes a native endpoint's frames to `target`: locally, or crossing from its home worker. */
  #placeNativeFor(ep: EndpointState, target: WorkerHandle): void {
    const home = ep.home!;
    if (ep.worker === target) return;
    if (ep.worker !== home) {
      // Leaving the previous mixing worker (features on the leg follow via their detach event).
      ep.worker.sinks.delete(ep.id);
      ep.worker.post({ t: "endpoint.detach", endpointId: ep.id });
    }
    if (target === home) {
      ep.crossing = undefined;
      ep.worker = home;
      home.post({ t: "endpoint.unrelay", endpointId: ep.id });
      return;
    }
    if (!ep.crossing) {
      const fb = frameBytes(ep.rate);
      ep.crossing = {
        ingress: PcmRing.allocate(fb * (INGRESS_MS / 20)),
        egress: PcmRing.allocate(fb * EGRESS_FRAMES),
      };
      home.post({ t: "endpoint.relay", endpointId: ep.id, ...ep.crossing });
    }
    ep.worker = target;
    target.sinks.set(ep.id, NO_SINK);
    target.post({
      t: "endpoint.attach",
      endpointId: ep.id,
      rate: ep.rate,
      ingress: ep.crossing.ingress,
      egress: ep.crossing.egress,
      speech: ep.speech,
    });
  }

  /** Takes an endpoint out of its room (it stays attached and hears silence). */
  leave(id: string): void {
    const ep = this.#endpoints.get(id);
    if (!ep || ep.roomId === undefined) return;
    ep.roomId = undefined;
    ep.worker.post({ t: "endpoint.leave", endpointId: id });
  }

  /** Updates mute/deaf/role for the next tick. */
  setFlags(id: string, flags: ParticipantFlags): void {
    const ep = this.#endpoints.get(id);
    ep?.worker.post({ t: "endpoint.flags", endpointId: id, flags });
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) {
      try {
        w.post({ t: "stop" });
      } catch { /* already gone */ }
      w.worker.terminate();
    }
    this.#workers = [];
    this.#endpoints.clear();
    this.#roomWorker.clear();
    await Promise.resolve();
  }

  #attachOn(w: WorkerHandle, ep: EndpointState): void {
    w.sinks.set(ep.id, ep.sink);
    w.post({
      t: "endpoint.attach",
      endpointId: ep.id,
      rate: ep.rate,
      ingress: ep.ingress.buffer,
      egress: ep.egress.buffer,
      speech: ep.speech,
    });
  }

  #require(id: string): EndpointState {
    const ep = this.#endpoints.get(id);
    if (!ep) throw new Error(`Unknown media endpoint ${id}`);
    return ep;
  }

  /** The least-loaded worker that is not saturated, starting workers lazily. */
  #pick(): WorkerHandle {
    if (this.#closed) throw new ServiceUnavailable("media plane is shutting down");
    if (this.#workers.length < this.#size) {
      const idle = this.#workers.find((w) => w.load === 0);
      if (!idle) return this.#spawn();
    }
    let best: WorkerHandle | undefined;
    for (const w of this.#workers) {
      if (!this.#hasRoom(w)) continue;
      if (!best || w.load < best.load) best = w;
    }
    if (!best) throw new ServiceUnavailable("media capacity exhausted");
    return best;
  }

  #spawn(): WorkerHandle {
    const worker = new Worker(this.#workerUrl.href, {
      type: "module",
      name: `media-${this.#workers.length}`,
    });
    const handle = new WorkerHandle(this.#workers.length, worker);
    worker.onmessage = (ev: MessageEvent<WorkerEvent>) => this.#onEvent(handle, ev.data);
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      this.#logger.error("media worker error", { worker: handle.index, error: ev.message });
    };
    this.#workers.push(handle);
    return handle;
  }

  #onEvent(w: WorkerHandle, ev: WorkerEvent): void {
    switch (ev.t) {
      case "tick":
        for (const sink of w.sinks.values()) {
          try {
            sink.drain();
          } catch (err) {
            this.#logger.error("endpoint drain failed", { error: err });
          }
        }
        break;
      case "speaking":
        this.#listener.speaking(ev.endpointId, ev.roomId, ev.speaking);
        break;
      case "load":
        w.utilization = ev.utilization;
        w.ticks = ev.ticks;
        w.skipped = ev.skipped;
        w.lateMs = ev.lateMs;
        w.late = { p50: ev.lateP50, p99: ev.lateP99, max: ev.lateMax };
        break;
      case "error":
        this.#logger.error("media worker reported an error", {
          worker: w.index,
          error: ev.message,
          endpoint: ev.endpointId,
        });
        break;
      default:
        // Feature events (`play.*`, `record.*`, `bridge.*`) go to their main-thread handlers.
        for (const { prefix, handler } of this.#featureHandlers) {
          if (!ev.t.startsWith(prefix)) continue;
          try {
            handler(ev);
          } catch (err) {
            this.#logger.error("feature event handler failed", { type: ev.t, error: err });
          }
        }
    }
  }
}
