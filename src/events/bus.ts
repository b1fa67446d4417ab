/**
 * The in-process event bus. `publish()` stamps the envelope once and hands the same
 * {@link PublishedEvent} to every subscriber synchronously; subscribers own bounded queues, so a
 * slow consumer (a stalled VSI client, a dead webhook receiver) never delays the publisher or
 * the other subscribers.
 */
import type { EventListener, PublishedEvent, WebhookTarget } from "./event.ts";
import { buildEnvelope, rfc3339Nano } from "./envelope.ts";
import type { Logger } from "../log/logger.ts";

/** Options for one publish. */
export interface PublishOptions {
  /** Exclusive webhook target (the leg's hook, else the room's), resolved by the caller. */
  readonly webhook?: WebhookTarget;
}

/** A clock returning epoch milliseconds with sub-millisecond precision. */
export type Clock = () => number;

const defaultClock: Clock = () => performance.timeOrigin + performance.now();

/** Fan-out of events to subscribers; one per server instance. */
export class EventBus {
  readonly #instanceId: string;
  readonly #clock: Clock;
  readonly #log?: Logger;
  #listeners: EventListener[] = [];

  constructor(instanceId: string, options: { clock?: Clock; logger?: Logger } = {}) {
    this.#instanceId = instanceId;
    this.#clock = options.clock ?? defaultClock;
    this.#log = options.logger;
  }

  /** Registers a listener; returns the function that removes it. */
  subscribe(listener: EventListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** Number of current subscribers. */
  get subscriberCount(): number {
    return this.#listeners.length;
  }

  /**
   * Publishes an event. `fields` are flattened into the envelope (`leg_id`, `room_id`,
   * `app_id`, event-specific fields). Returns the published event.
   */
  publish(
    type: string,
    fields: Readonly<Record<string, unknown>>,
    options: PublishOptions = {},
  ): PublishedEvent {
    const envelope = buildEnvelope({
      type,
      timestamp: rfc3339Nano(this.#clock()),
      event_id: crypto.randomUUID(),
      instance_id: this.#instanceId,
    }, fields);
    const appId = typeof envelope.app_id === "string" ? envelope.app_id : "";
    const event: PublishedEvent = {
      eventId: envelope.event_id as string,
      type,
      appId,
      envelope,
      json: JSON.stringify(envelope),
      webhook: options.webhook,
    };
    // Snapshot: a listener that unsubscribes during dispatch does not disturb the loop.
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#log?.error("event listener threw", { type, error: err });
      }
    }
    return event;
  }
}
