/**
 * One delivery lane per receiver URL: a FIFO of deliveries waiting for one of the lane's
 * in-flight slots. Lanes are what keep a dead receiver from delaying the others — each has its
 * own queue and its own concurrency limit.
 */
import type { PublishedEvent } from "./event.ts";

/** One (event, target) pair: a single POST body to one URL, with its retries. */
export interface WebhookDelivery {
  readonly event: PublishedEvent;
  /** The flat envelope for the global and per-leg targets, the legacy body for registry hooks. */
  readonly body: string;
  /** The target's secret; empty or absent means unsigned. */
  readonly secret: string | undefined;
}

/**
 * A growable ring-buffer FIFO: amortised O(1) push and shift with no allocation per item once
 * warm (an array's `shift()` is O(n) on large queues).
 */
export class RingQueue<T> {
  #buf: (T | undefined)[];
  #head = 0;
  #length = 0;

  /** `initialCapacity` is rounded up to a power of two. */
  constructor(initialCapacity = 8) {
    let cap = 1;
    while (cap < initialCapacity) cap <<= 1;
    this.#buf = new Array(cap);
  }

  /** Items currently queued. */
  get length(): number {
    return this.#length;
  }

  /** Appends at the tail. */
  push(item: T): void {
    if (this.#length === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#length) & (this.#buf.length - 1)] = item;
    this.#length++;
  }

  /** Removes and returns the head, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#buf[this.#head];
    this.#buf[this.#head] = undefined; // let the delivery be collected
    this.#head = (this.#head + 1) & (this.#buf.length - 1);
    this.#length--;
    return item;
  }

  /** Drops every item. */
  clear(): void {
    this.#buf.fill(undefined);
    this.#head = 0;
    this.#length = 0;
  }

  #grow(): void {
    const next: (T | undefined)[] = new Array(this.#buf.length * 2);
    for (let i = 0; i < this.#length; i++) {
      next[i] = this.#buf[(this.#head + i) & (this.#buf.length - 1)];
    }
    this.#buf = next;
    this.#head = 0;
  }
}

/** The per-URL lane: its FIFO, its in-flight count and the URL parsed once for all deliveries. */
export class WebhookLane {
  /** The target URL exactly as configured (the lane's key). */
  readonly url: string;
  /** The parsed URL, or `undefined` when it is not an absolute http(s) URL. */
  readonly target: URL | undefined;
  /** `host[:port]` for logs: no userinfo, path or query string, which may carry tokens. */
  readonly host: string | undefined;
  /** Deliveries waiting for a slot. */
  readonly queue: RingQueue<WebhookDelivery> = new RingQueue();
  /** Deliveries currently being attempted or sleeping between attempts. */
  inFlight = 0;

  constructor(url: string) {
    this.url = url;
    this.target = parseTarget(url);
    this.host = this.target?.host;
  }

  /** Queued plus in flight. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }
}

/** Parses an absolute http(s) URL; anything else cannot be delivered to. */
export function parseTarget(url: string): URL | undefined {
  const parsed = URL.parse(url);
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) return undefined;
  return parsed;
}
