/**
 * Webhook delivery: turns published events into signed HTTP POSTs with retries (compat-notes
 * §2.3), isolated per receiver so a slow or dead one never delays the bus, VSI or other receivers.
 *
 * Each receiver URL gets a lane (see webhook_lane.ts) with its own FIFO and at most
 * `concurrencyPerTarget` deliveries in flight. Lanes are created on first use and dropped when
 * idle. Upstream runs 10 workers over one shared queue, so one stalled receiver holds every
 * worker; lanes remove that coupling while keeping the upstream bound on queued work.
 */
import type { EventBus } from "./bus.ts";
import type { PublishedEvent, WebhookTarget } from "./event.ts";
import { legacyBody } from "./envelope.ts";
import type { WebhookRegistry } from "./webhook_registry.ts";
import { signBody } from "./webhook_signing.ts";
import { parseTarget, type WebhookDelivery, WebhookLane } from "./webhook_lane.ts";
import type { Metrics, WebhookOutcome } from "../metrics/metrics.ts";
import type { Logger } from "../log/logger.ts";

/** Construction options; the defaults are upstream's delivery parameters. */
export interface WebhookDispatcherOptions {
  /** The global `WEBHOOK_URL`/`WEBHOOK_SECRET` target, if configured. */
  readonly global?: WebhookTarget;
  /** Hooks registered through `/v1/webhooks`, consulted for every event without a per-leg hook. */
  readonly registry: WebhookRegistry;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Most deliveries accepted and unfinished (queued plus in flight) across all targets; 1000. */
  readonly queueCapacity?: number;
  /**
   * Most unfinished deliveries for any one target URL; defaults to `queueCapacity`. Set it lower
   * so a dead receiver cannot fill the shared queue and cause drops for the healthy ones.
   */
  readonly targetCapacity?: number;
  /** Deliveries in flight per target URL; 4. */
  readonly concurrencyPerTarget?: number;
  /** Attempts per delivery, the first included; 3. */
  readonly attempts?: number;
  /** Sleep before attempt i+2; the last value repeats when there are more gaps; [2000, 4000]. */
  readonly backoffMs?: readonly number[];
  /** Each attempt is aborted after this long; 10000. */
  readonly attemptTimeoutMs?: number;
  /** `User-Agent` request header. */
  readonly userAgent?: string;
}

/** Minimum time between two "queue full" warnings; drops in between are counted into the next. */
const DROP_LOG_INTERVAL_MS = 10_000;

const CLOSED = new DOMException("webhook dispatcher closed", "AbortError");
const TIMED_OUT = new DOMException("attempt timed out", "TimeoutError");

/** How one delivery ended, for the outcome metric and the failure log line. */
type Result = { outcome: WebhookOutcome; attempts: number; status?: number; error?: string };

/**
 * Delivers bus events to webhook receivers. The bus listener only enqueues; all network work
 * runs on promises owned by the dispatcher and ends at `close()`.
 */
export class WebhookDispatcher implements AsyncDisposable {
  readonly #global: WebhookTarget | undefined;
  readonly #registry: WebhookRegistry;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #capacity: number;
  readonly #targetCapacity: number;
  readonly #concurrency: number;
  readonly #attempts: number;
  readonly #backoff: readonly number[];
  readonly #timeoutMs: number;
  readonly #userAgent: string;

  readonly #lanes = new Map<string, WebhookLane>();
  #pending = 0;
  readonly #running = new Set<Promise<void>>();
  readonly #controllers = new Set<AbortController>();
  readonly #sleeps = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();
  readonly #drainWaiters = new Set<(done: boolean) => void>();
  readonly #unsubscribe: (() => void)[] = [];
  #closing: Promise<void> | undefined;
  #lastDropLog = -Infinity;
  #dropsSinceLog = 0;

  constructor(options: WebhookDispatcherOptions) {
    this.#global = options.global?.url ? options.global : undefined;
    this.#registry = options.registry;
    this.#metrics = options.metrics;
    this.#log = options.logger;
    this.#capacity = positiveInt(options.queueCapacity, 1000, "queueCapacity");
    this.#targetCapacity = positiveInt(options.targetCapacity, this.#capacity, "targetCapacity");
    this.#concurrency = positiveInt(options.concurrencyPerTarget, 4, "concurrencyPerTarget");
    this.#attempts = positiveInt(options.attempts, 3, "attempts");
    this.#backoff = options.backoffMs ?? [2000, 4000];
    this.#timeoutMs = positiveInt(options.attemptTimeoutMs, 10_000, "attemptTimeoutMs");
    this.#userAgent = options.userAgent ?? "VoiceBlender-Deno/0.1.0";
  }

  /** Subscribes to `bus`. The listener never awaits: it routes and enqueues, then returns. */
  attach(bus: EventBus): void {
    if (this.#closing) throw new Error("Cannot attach a closed webhook dispatcher");
    this.#unsubscribe.push(bus.subscribe(this.#onEvent));
  }

  /** Deliveries accepted and not yet finished: queued plus in flight (including backoff sleeps). */
  get pending(): number {
    return this.#pending;
  }

  /** Target URLs with queued or in-flight deliveries; idle lanes are dropped at once. */
  get activeTargets(): number {
    return this.#lanes.size;
  }

  /**
   * Resolves true once nothing is queued or in flight, false if `timeoutMs` passes first or the
   * dispatcher is closed meanwhile. For graceful shutdown: `drain()` then `close()`.
   */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.#pending === 0) return Promise.resolve(true);
    if (this.#closing) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = (done: boolean) => {
        clearTimeout(timer);
        this.#drainWaiters.delete(waiter);
        resolve(done);
      };
      const timer = setTimeout(() => waiter(false), timeoutMs);
      this.#drainWaiters.add(waiter);
    });
  }

  /**
   * Stops delivery: unsubscribes, discards queued deliveries, aborts in-flight requests and
   * backoff sleeps, and resolves once every delivery promise has settled. Abandoned deliveries
   * record no outcome (nothing is persisted, as upstream). Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    let abandoned = this.#running.size;
    for (const lane of this.#lanes.values()) {
      abandoned += lane.queue.length;
      this.#pending -= lane.queue.length;
      lane.queue.clear();
    }
    for (const controller of this.#controllers) controller.abort(CLOSED);
    for (const sleep of this.#sleeps) {
      clearTimeout(sleep.timer);
      sleep.resolve();
    }
    this.#sleeps.clear();
    for (const waiter of [...this.#drainWaiters]) waiter(false);
    if (abandoned > 0) this.#log.warn("webhook deliveries abandoned on close", { abandoned });
    this.#closing = Promise.allSettled(this.#running).then(() => {});
    return this.#closing;
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // compat-notes §1 "Webhooks" + C1/C2: the target is resolved at publish time. A per-leg or
  // per-room hook is exclusive; otherwise the global target gets the flat envelope and every
  // matching registered hook gets the legacy body with its duplicate `data` object.
  readonly #onEvent = (event: PublishedEvent): void => {
    if (this.#closing) return;
    const exclusive = event.webhook;
    if (exclusive?.url) {
      this.#enqueue(exclusive.url, { event, body: event.json, secret: exclusive.secret });
      return;
    }
    const global = this.#global;
    if (global) this.#enqueue(global.url, { event, body: event.json, secret: global.secret });
    if (this.#registry.size === 0) return;
    const hooks = this.#registry.matching(event.type);
    if (hooks.length === 0) return;
    const body = legacyBody(event.envelope);
    for (const hook of hooks) this.#enqueue(hook.url, { event, body, secret: hook.secret });
  };

  #enqueue(url: string, delivery: WebhookDelivery): void {
    let lane = this.#lanes.get(url);
    if (this.#pending >= this.#capacity || (lane?.pending ?? 0) >= this.#targetCapacity) {
      this.#drop(url, delivery);
      return;
    }
    if (!lane) {
      lane = new WebhookLane(url);
      this.#lanes.set(url, lane);
    }
    lane.queue.push(delivery);
    this.#pending++;
    this.#metrics.webhookEnqueued.inc();
    this.#pump(lane);
  }

  #drop(url: string, delivery: WebhookDelivery): void {
    this.#metrics.webhookDropped.inc();
    this.#dropsSinceLog++;
    const now = performance.now();
    // Leading edge of a burst: the first drop logs at once, later ones are summed into the
    // next line, so a saturated queue cannot flood the log.
    if (now - this.#lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.#log.warn("webhook queue full, delivery dropped", {
      event_id: delivery.event.eventId,
      type: delivery.event.type,
      url_host: parseTarget(url)?.host,
      dropped: this.#dropsSinceLog,
      pending: this.#pending,
      queue_capacity: this.#capacity,
    });
    this.#lastDropLog = now;
    this.#dropsSinceLog = 0;
  }

  #pump(lane: WebhookLane): void {
    while (lane.inFlight < this.#concurrency && lane.queue.length > 0) {
      const delivery = lane.queue.shift()!;
      lane.inFlight++;
      const run = this.#run(lane, delivery);
      this.#running.add(run);
      run.finally(() => this.#running.delete(run));
    }
  }

  async #run(lane: WebhookLane, delivery: WebhookDelivery): Promise<void> {
    try {
      const result = await this.#deliver(lane, delivery);
      if (result) this.#record(lane, delivery, result);
    } catch (err) {
      // Unreachable by design; contained so one bad delivery cannot wedge its lane.
      this.#metrics.recoveredPanics.inc({ component: "webhook", site: "deliver" });
      this.#log.error("webhook delivery crashed", {
        event_id: delivery.event.eventId,
        url_host: lane.host,
        error: err,
      });
      this.#record(lane, delivery, { outcome: "request_error", attempts: 0, error: String(err) });
    } finally {
      lane.inFlight--;
      this.#pending--;
      if (!this.#closing) this.#pump(lane);
      if (lane.pending === 0 && this.#lanes.get(lane.url) === lane) this.#lanes.delete(lane.url);
      if (this.#pending === 0) { for (const waiter of [...this.#drainWaiters]) waiter(true); }
    }
  }

  /** Runs every attempt of one delivery; `null` when `close()` abandoned it. */
  async #deliver(lane: WebhookLane, delivery: WebhookDelivery): Promise<Result | null> {
    const target = lane.target;
    if (!target) return { outcome: "request_error", attempts: 0, error: "invalid webhook url" };
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "X-Event-Id": delivery.event.eventId,
      "User-Agent": this.#userAgent,
    };
    if (delivery.secret) {
      try {
        headers["X-Signature-256"] = await signBody(delivery.secret, delivery.body);
      } catch (err) {
        return { outcome: "marshal_error", attempts: 0, error: errorText(err) };
      }
    }
    let status: number | undefined;
    let error: string | undefined;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (attempt > 1) {
        const gap = this.#backoff[Math.min(attempt - 2, this.#backoff.length - 1)] ?? 0;
        if (gap > 0) await this.#sleep(gap);
      }
      if (this.#closing) return null;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(TIMED_OUT), this.#timeoutMs);
      this.#controllers.add(controller);
      try {
        const res = await fetch(target, {
          method: "POST",
          headers,
          body: delivery.body,
          signal: controller.signal,
        });
        // The reply is never used: cancel it rather than buffer a body of unknown size.
        await res.body?.cancel().catch(() => {});
        if (res.status >= 200 && res.status < 300) return { outcome: "success", attempts: attempt };
        status = res.status;
        error = undefined;
      } catch (err) {
        if (controller.signal.reason === CLOSED) return null;
        // A denied --allow-net host fails identically every time: do not retry it.
        if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
          return { outcome: "request_error", attempts: attempt, error: errorText(err) };
        }
        status = undefined;
        error = controller.signal.reason === TIMED_OUT
          ? `timeout after ${this.#timeoutMs} ms`
          : errorText(err);
      } finally {
        clearTimeout(timer);
        this.#controllers.delete(controller);
      }
    }
    return { outcome: "exhausted", attempts: this.#attempts, status, error };
  }

  #record(lane: WebhookLane, delivery: WebhookDelivery, result: Result): void {
    this.#metrics.webhookDeliveries.inc({ outcome: result.outcome });
    if (result.outcome === "success") return;
    // Host only: the path and query string of a webhook URL often carry tokens.
    this.#log.warn("webhook delivery failed", {
      event_id: delivery.event.eventId,
      type: delivery.event.type,
      url_host: lane.host,
      outcome: result.outcome,
      attempts: result.attempts,
      ...(result.status !== undefined ? { status: result.status } : { error: result.error }),
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#sleeps.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.#sleeps.add(entry);
    });
  }
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Cannot create webhook dispatcher: ${name} must be a positive integer`);
  }
  return value;
}

// Deno's fetch errors embed the full request URL, query string included: keep only the host.
const URL_IN_TEXT = /\bhttps?:\/\/[^\s()]+/gi;

/** A loggable one-line reason: the error and its immediate cause, with URLs cut to their host. */
function errorText(err: unknown): string {
  let text = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && err.cause instanceof Error) text += ": " + err.cause.message;
  return text.replace(URL_IN_TEXT, (url) => URL.parse(url)?.host ?? "<url>");
}
