/** Types shared by the event bus and its subscribers (VSI clients, webhook delivery). */

/** A webhook destination: URL plus optional HMAC-SHA256 signing secret. */
export interface WebhookTarget {
  readonly url: string;
  readonly secret?: string;
}

/**
 * One published event, built once by the bus and shared by every subscriber. `json` holds the
 * flat envelope bytes sent verbatim to VSI clients and webhooks, so `event_id` is identical for
 * every subscriber and every retry.
 */
export interface PublishedEvent {
  /** UUID stamped at publish time. */
  readonly eventId: string;
  /** Event type, e.g. `room.created`. */
  readonly type: string;
  /** The event's `app_id`, or `""` for untagged events (VSI filters match against this). */
  readonly appId: string;
  /** The flat envelope object (type, timestamp, event_id, instance_id, event fields). */
  readonly envelope: Readonly<Record<string, unknown>>;
  /** `envelope` serialized once. */
  readonly json: string;
  /**
   * The exclusive per-leg or per-room webhook target resolved at publish time. When set, the
   * event goes only there; otherwise to the global `WEBHOOK_URL` and the run-time registry.
   */
  readonly webhook?: WebhookTarget;
}

/** A bus subscriber. Must not block: it enqueues into its own bounded queue and returns. */
export type EventListener = (event: PublishedEvent) => void;
