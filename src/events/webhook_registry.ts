/**
 * The run-time webhook registry behind `POST/GET/DELETE /v1/webhooks`.
 *
 * Upstream removed this route (compat-notes C1) but the product description and every example
 * client still register a hook at startup, so we keep it with the legacy fan-out semantics: each
 * registered hook receives every event its filter admits, in addition to the global target.
 */
import { BadRequest } from "../errors.ts";

/** A hook registered through `POST /v1/webhooks`. The secret never leaves the server. */
export interface RegisteredWebhook {
  /** UUID assigned at registration. */
  readonly id: string;
  /** Absolute http(s) URL the events are POSTed to. */
  readonly url: string;
  /** HMAC-SHA256 signing secret; absent or empty means unsigned deliveries. */
  readonly secret?: string;
  /** Event type filter: exact types or `prefix.*` (`*` alone admits all); absent means every event. */
  readonly events?: readonly string[];
  /** Registration time, RFC 3339 UTC. */
  readonly createdAt: string;
}

/** What a client sends to register a hook. */
export interface WebhookInput {
  url: string;
  secret?: string;
  events?: string[];
}

/** The public JSON view of a hook. Deliberately has no `secret` field (see {@link webhookView}). */
export interface WebhookView {
  id: string;
  url: string;
  events?: string[];
  has_secret: boolean;
  created_at: string;
}

/**
 * The public JSON shape of a hook. The legacy build echoed the secret back; we never do
 * (compat-notes C1), and report only whether one is set.
 */
export function webhookView(h: RegisteredWebhook): WebhookView {
  const view: WebhookView = {
    id: h.id,
    url: h.url,
    has_secret: !!h.secret,
    created_at: h.createdAt,
  };
  if (h.events && h.events.length > 0) view.events = [...h.events];
  return view;
}

// An event type is dot-separated lowercase words (`leg.connected`, `sip.registration_attempt`).
const TYPE_PATTERN = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/i;

/**
 * A compiled event filter: exact types in a set, `prefix.*` wildcards as prefixes including the
 * trailing dot, so `leg.*` admits `leg.connected` but neither `leg` nor `legacy.x`.
 */
interface Filter {
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];
}

function compileFilter(events: readonly string[]): Filter | undefined {
  if (events.length === 0) return undefined;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const pattern of events) {
    if (pattern === "*") return undefined;
    if (pattern.endsWith(".*") && TYPE_PATTERN.test(pattern.slice(0, -2))) {
      prefixes.push(pattern.slice(0, -1));
    } else if (TYPE_PATTERN.test(pattern)) {
      exact.add(pattern);
    } else {
      throw new BadRequest(`invalid event filter: ${JSON.stringify(pattern)}`);
    }
  }
  return { exact, prefixes };
}

function filterMatches(filter: Filter | undefined, type: string): boolean {
  if (!filter) return true;
  if (filter.exact.has(type)) return true;
  for (const prefix of filter.prefixes) {
    if (type.startsWith(prefix)) return true;
  }
  return false;
}

function validateUrl(raw: unknown): string {
  if (typeof raw !== "string" || raw.trim() === "") throw new BadRequest("url is required");
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new BadRequest("invalid url");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new BadRequest("url must be http or https");
  }
  return raw.trim();
}

function validateEvents(raw: unknown): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw) || raw.some((e) => typeof e !== "string")) {
    throw new BadRequest("events must be an array of strings");
  }
  return raw.length > 0 ? [...new Set(raw as string[])] : undefined;
}

interface Entry {
  readonly hook: RegisteredWebhook;
  readonly filter: Filter | undefined;
}

/**
 * In-memory set of registered hooks, in registration order. Nothing is persisted, like upstream's
 * delivery queue: a restart forgets every hook and clients register again at startup.
 */
export class WebhookRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => Date;

  /** `now` is injectable so tests can pin `created_at`. */
  constructor(options: { now?: () => Date } = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  /** Registers a hook. Throws {@link BadRequest} for a missing or non-http(s) URL or a bad filter. */
  add(input: WebhookInput): RegisteredWebhook {
    const url = validateUrl(input?.url);
    if (input.secret !== undefined && typeof input.secret !== "string") {
      throw new BadRequest("secret must be a string");
    }
    const events = validateEvents(input.events);
    const filter = compileFilter(events ?? []);
    const hook: RegisteredWebhook = Object.freeze({
      id: crypto.randomUUID(),
      url,
      ...(input.secret ? { secret: input.secret } : {}),
      ...(events ? { events: Object.freeze(events) } : {}),
      createdAt: this.#now().toISOString(),
    });
    this.#entries.set(hook.id, { hook, filter });
    return hook;
  }

  /** Every hook, oldest first. */
  list(): RegisteredWebhook[] {
    return Array.from(this.#entries.values(), (e) => e.hook);
  }

  /** The hook with this id, if registered. */
  get(id: string): RegisteredWebhook | undefined {
    return this.#entries.get(id)?.hook;
  }

  /** Unregisters a hook; false when the id is unknown (the API answers 404 `webhook not found`). */
  remove(id: string): boolean {
    return this.#entries.delete(id);
  }

  /** Number of registered hooks. */
  get size(): number {
    return this.#entries.size;
  }

  /** The hooks whose filter admits an event of this type, oldest first. */
  matching(type: string): RegisteredWebhook[] {
    const out: RegisteredWebhook[] = [];
    for (const { hook, filter } of this.#entries.values()) {
      if (filterMatches(filter, type)) out.push(hook);
    }
    return out;
  }
}
