/**
 * Shared state and the claim-once disconnect for concrete leg types. A subclass implements the
 * transport teardown in `terminate()`; this class publishes `leg.disconnected` exactly once with
 * the CDR, updates metrics and removes the leg from the registry.
 */
import type { EventBus } from "../events/bus.ts";
import type { WebhookTarget } from "../events/event.ts";
import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { CallQuality, Cdr, Leg, LegState, LegType, LegView } from "./leg.ts";

/** Round to two decimals, as CDR durations are published. */
function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** What a leg needs from the server to publish events and report metrics. */
export interface LegDeps {
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Called once just before `leg.disconnected` is published (leave room, registry removal). */
  readonly onGone: (leg: BaseLeg) => void;
  /** Resolves the room's webhook target when the leg has none of its own. */
  readonly roomWebhook: (roomId: string | undefined) => WebhookTarget | undefined;
  readonly now?: () => number;
}

/** Construction parameters common to all legs. */
export interface BaseLegInit {
  readonly id?: string;
  readonly type: LegType;
  readonly state: LegState;
  readonly appId?: string;
  readonly webhook?: WebhookTarget;
  readonly headers?: Record<string, string>;
}

/** Base class with the contract's common leg fields. */
export abstract class BaseLeg implements Leg {
  readonly id: string;
  readonly type: LegType;
  readonly appId: string;
  readonly createdAt: number;
  readonly headers: Record<string, string>;
  protected readonly deps: LegDeps;
  #state: LegState;
  #webhook: WebhookTarget | undefined;
  roomId: string | undefined;
  muted = false;
  deaf = false;
  acceptDtmf = true;
  /** Whether incoming real-time text is reported and room text is delivered (default true). */
  acceptRtt = true;
  held = false;
  role = "";
  answeredAt: number | undefined;
  #ended: Promise<void> | undefined;

  constructor(init: BaseLegInit, deps: LegDeps) {
    this.deps = deps;
    this.id = init.id ?? crypto.randomUUID();
    this.type = init.type;
    this.#state = init.state;
    this.appId = init.appId ?? "";
    this.#webhook = init.webhook;
    this.headers = init.headers ?? {};
    this.createdAt = this.#now();
    if (init.state === "connected") this.answeredAt = this.createdAt;
    deps.metrics.legsTotal.inc({ type: this.type, state: init.state });
  }

  get state(): LegState {
    return this.#state;
  }

  get webhook(): WebhookTarget | undefined {
    return this.#webhook;
  }

  /** Moves the leg to a new live state; `connected` stamps the answer time once. */
  protected setState(state: LegState): void {
    if (this.#state === "hung_up") return;
    if ((state === "connected") && this.answeredAt === undefined) this.answeredAt = this.#now();
    this.#state = state;
  }

  view(): LegView {
    const v: LegView = {
      id: this.id,
      type: this.type,
      state: this.#state,
      muted: this.muted,
      deaf: this.deaf,
      accept_dtmf: this.acceptDtmf,
      held: this.held,
    };
    if (this.roomId) v.room_id = this.roomId;
    if (this.role) v.role = this.role;
    if (this.appId) v.app_id = this.appId;
    if (Object.keys(this.headers).length > 0) v.headers = { ...this.headers };
    return v;
  }

  /** Publishes a leg-scoped event routed to the leg's hook, else its room's. */
  publish(
    type: string,
    fields: Record<string, unknown> = {},
    webhook: WebhookTarget | undefined = this.#webhook ?? this.deps.roomWebhook(this.roomId),
  ): void {
    this.deps.bus.publish(type, { leg_id: this.id, app_id: this.appId, ...fields }, { webhook });
  }

  hangup(reason: string): Promise<void> {
    if (!this.#ended) this.#ended = this.#finish(reason);
    return this.#ended;
  }

  /** Transport teardown (BYE, socket close, …). Errors are logged, never rethrown. */
  protected abstract terminate(reason: string): Promise<void>;

  /** RTP quality for the CDR, if media arrived. */
  protected quality(): CallQuality | undefined {
    return undefined;
  }

  async #finish(reason: string): Promise<void> {
    try {
      await this.terminate(reason);
    } catch (err) {
      this.deps.logger.warn("leg teardown failed", { leg_id: this.id, error: err });
    }
    const end = this.#now();
    this.#state = "hung_up";
    const cdr: Cdr = {
      reason,
      duration_total: round2((end - this.createdAt) / 1000),
      duration_answered: this.answeredAt === undefined ? 0 : round2((end - this.answeredAt) / 1000),
    };
    const fields: Record<string, unknown> = { cdr };
    const q = this.quality();
    if (q) fields.quality = q;
    // The target is resolved before the leg leaves its room, so the room's hook still gets it.
    const target = this.#webhook ?? this.deps.roomWebhook(this.roomId);
    this.deps.onGone(this);
    this.publish("leg.disconnected", fields, target);
    // compat §1 Webhooks: the per-leg hook is cleared after leg.disconnected is published.
    this.#webhook = undefined;
    const m = this.deps.metrics;
    m.disconnectReasons.inc({ type: this.type, reason });
    m.callTotalDuration.observe({ type: this.type }, cdr.duration_total);
    if (this.answeredAt !== undefined) {
      m.callDuration.observe({ type: this.type }, cdr.duration_answered);
    }
    this.deps.onGone(this);
  }

  #now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }
}
