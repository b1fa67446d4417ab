import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { EventBus } from "../../../src/events/bus.ts";
import {
  WebhookDispatcher,
  type WebhookDispatcherOptions,
} from "../../../src/events/webhook_dispatcher.ts";
import { WebhookRegistry } from "../../../src/events/webhook_registry.ts";
import { Logger } from "../../../src/log/logger.ts";
import { Metrics } from "../../../src/metrics/metrics.ts";

// ---- helpers: real local receivers -------------------------------------------------------

/** Rejects with a clear message if `promise` has not settled within `ms`; clears its timer. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, expiry]);
  } finally {
    clearTimeout(timer);
  }
}

interface Hit {
  readonly path: string;
  readonly headers: Headers;
  readonly raw: Uint8Array;
  readonly json: Record<string, unknown>;
  readonly at: number;
}

/** An HTTP receiver on an ephemeral loopback port answering with `status(hitIndex)`. */
class Receiver implements AsyncDisposable {
  readonly hits: Hit[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #waiters = new Set<{ n: number; resolve: () => void }>();

  constructor(status: (index: number) => number = () => 200) {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const raw = new Uint8Array(await req.arrayBuffer());
      const index = this.hits.length;
      this.hits.push({
        path: new URL(req.url).pathname,
        headers: req.headers,
        raw,
        json: JSON.parse(new TextDecoder().decode(raw)),
        at: performance.now(),
      });
      for (const w of this.#waiters) {
        if (this.hits.length >= w.n) {
          this.#waiters.delete(w);
          w.resolve();
        }
      }
      return new Response("receiver says hi", { status: status(index) });
    });
  }

  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.#server.addr.port}${path}`;
  }

  received(n: number, ms: number): Promise<void> {
    if (this.hits.length >= n) return Promise.resolve();
    return within(new Promise((resolve) => this.#waiters.add({ n, resolve })), ms, `${n} hits`);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.#server.shutdown();
  }
}

/** A TCP listener that accepts connections and never answers. */
class Blackhole implements AsyncDisposable {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns: Deno.Conn[] = [];
  readonly #waiters = new Set<{ n: number; resolve: () => void }>();
  readonly #loop: Promise<void>;

  constructor() {
    this.#loop = this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.push(conn);
        for (const w of this.#waiters) {
          if (this.#conns.length >= w.n) {
            this.#waiters.delete(w);
            w.resolve();
          }
        }
      }
    } catch {
      // listener closed
    }
  }

  get accepted(): number {
    return this.#conns.length;
  }

  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.#listener.addr.port}${path}`;
  }

  connections(n: number, ms: number): Promise<void> {
    if (this.#conns.length >= n) return Promise.resolve();
    return within(new Promise((resolve) => this.#waiters.add({ n, resolve })), ms, `${n} conns`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    await this.#loop;
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // already closed by the peer
      }
    }
  }
}

/** A loopback URL whose port refuses connections. */
function closedPortUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return `http://127.0.0.1:${port}/hook`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const quiet = () => new Logger("error", {}, () => {});

function setup(options: Partial<WebhookDispatcherOptions> = {}) {
  const metrics = new Metrics({ activeLegs: () => 0, activeRooms: () => 0 }, { runtime: false });
  const bus = new EventBus("test-instance");
  const registry = options.registry ?? new WebhookRegistry();
  const dispatcher = new WebhookDispatcher({
    logger: quiet(),
    backoffMs: [50, 100],
    attemptTimeoutMs: 2000,
    ...options,
    registry,
    metrics,
  });
  dispatcher.attach(bus);
  return {
    metrics,
    bus,
    registry,
    dispatcher,
    [Symbol.asyncDispose]: () => dispatcher.close(),
  };
}

async function outcomes(metrics: Metrics): Promise<Record<string, number>> {
  const { values } = await metrics.webhookDeliveries.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.outcome), v.value]));
}

async function counter(metric: Metrics["webhookDropped"]): Promise<number> {
  return (await metric.get()).values[0]?.value ?? 0;
}

function hmacHex(secret: string, raw: Uint8Array): string {
  return createHmac("sha256", secret).update(raw).digest("hex");
}

// ---- tests --------------------------------------------------------------------------------

Deno.test("a signed delivery carries X-Signature-256 over the raw body bytes", async () => {
  await using receiver = new Receiver();
  const secret = "s3cr3t-ü";
  await using ctx = setup({ global: { url: receiver.url(), secret }, userAgent: "vb-test/1" });
  const event = ctx.bus.publish("leg.connected", { leg_id: "L1", note: "Zoë ✓" });
  assert.equal(await ctx.dispatcher.drain(2000), true);

  assert.equal(receiver.hits.length, 1);
  const hit = receiver.hits[0];
  assert.equal(new TextDecoder().decode(hit.raw), event.json);
  assert.equal(hit.headers.get("content-type"), "application/json");
  assert.equal(hit.headers.get("user-agent"), "vb-test/1");
  assert.equal(hit.headers.get("x-event-id"), event.eventId);
  assert.equal(hit.headers.get("x-signature-256"), `sha256=${hmacHex(secret, hit.raw)}`);
  assert.equal((await outcomes(ctx.metrics)).success, 1);
});

Deno.test("an unsigned target gets no X-Signature-256 header (empty secret included)", async () => {
  await using receiver = new Receiver();
  for (
    const global of [{ url: receiver.url("/none") }, { url: receiver.url("/empty"), secret: "" }]
  ) {
    await using ctx = setup({ global });
    ctx.bus.publish("room.created", { room_id: "R1" });
    assert.equal(await ctx.dispatcher.drain(2000), true);
  }
  assert.deepEqual(receiver.hits.map((h) => h.path), ["/none", "/empty"]);
  for (const hit of receiver.hits) {
    assert.equal(hit.headers.get("x-signature-256"), null);
    assert.equal(hit.headers.get("x-event-id"), hit.json.event_id);
  }
});

Deno.test("a 500 is retried and X-Event-Id is stable across attempts", async () => {
  await using receiver = new Receiver((i) => (i === 0 ? 500 : 200));
  await using ctx = setup({ global: { url: receiver.url(), secret: "k" } });
  const event = ctx.bus.publish("leg.ringing", { leg_id: "L1" });
  assert.equal(await ctx.dispatcher.drain(3000), true);

  assert.equal(receiver.hits.length, 2);
  const [first, second] = receiver.hits;
  assert.equal(first.headers.get("x-event-id"), event.eventId);
  assert.equal(second.headers.get("x-event-id"), event.eventId);
  assert.equal(second.json.event_id, event.eventId);
  assert.deepEqual(second.raw, first.raw);
  assert.equal(second.headers.get("x-signature-256"), first.headers.get("x-signature-256"));
  assert.ok(second.at - first.at >= 45, `retried after ${second.at - first.at} ms, backoff is 50`);
  const text = await ctx.metrics.registry.getSingleMetricAsString(
    "voiceblender_webhook_deliveries_total",
  );
  assert.match(text, /voiceblender_webhook_deliveries_total\{outcome="success"\} 1\n/);
  assert.match(text, /voiceblender_webhook_deliveries_total\{outcome="exhausted"\} 0\n/);
  assert.equal(await counter(ctx.metrics.webhookEnqueued), 1);
});

Deno.test("an always-failing receiver (5xx or 4xx) gets exactly `attempts` attempts, then exhausted", async () => {
  for (const status of [500, 404]) {
    await using receiver = new Receiver(() => status);
    // A backoff list shorter than the gaps repeats its last value.
    await using ctx = setup({ global: { url: receiver.url() }, attempts: 4, backoffMs: [30] });
    ctx.bus.publish("leg.connected", { leg_id: "L1" });
    assert.equal(await ctx.dispatcher.drain(3000), true);
    assert.equal(receiver.hits.length, 4, `status ${status}`);
    for (let i = 1; i < 4; i++) {
      const gap = receiver.hits[i].at - receiver.hits[i - 1].at;
      assert.ok(gap >= 25, `gap ${i} was ${gap} ms`);
    }
    assert.deepEqual(await outcomes(ctx.metrics), {
      success: 0,
      exhausted: 1,
      marshal_error: 0,
      request_error: 0,
    });
  }
});

Deno.test("an attempt that outlives attemptTimeoutMs is aborted and retried", async () => {
  await using hole = new Blackhole();
  await using ctx = setup({
    global: { url: hole.url() },
    attempts: 2,
    backoffMs: [20],
    attemptTimeoutMs: 150,
  });
  const started = performance.now();
  ctx.bus.publish("leg.connected", { leg_id: "L1" });
  assert.equal(await ctx.dispatcher.drain(3000), true);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 300 && elapsed < 2000, `took ${elapsed} ms`);
  assert.equal(hole.accepted, 2);
  assert.equal((await outcomes(ctx.metrics)).exhausted, 1);
});

Deno.test("an unusable URL ends as request_error without any attempt", async () => {
  await using ctx = setup();
  for (const url of ["not a url", "ftp://127.0.0.1/x"]) {
    ctx.bus.publish("leg.connected", { leg_id: "L1" }, { webhook: { url } });
  }
  assert.equal(await ctx.dispatcher.drain(1000), true);
  assert.deepEqual(await outcomes(ctx.metrics), {
    success: 0,
    exhausted: 0,
    marshal_error: 0,
    request_error: 2,
  });
});

Deno.test({
  name: "a host denied by --allow-net ends as request_error after one attempt",
  permissions: { net: false },
  async fn() {
    await using ctx = setup({ attempts: 3 });
    ctx.bus.publish("leg.connected", { leg_id: "L1" }, {
      webhook: { url: "http://127.0.0.1:5555/hook" },
    });
    assert.equal(await ctx.dispatcher.drain(1000), true);
    assert.equal((await outcomes(ctx.metrics)).request_error, 1);
    assert.equal((await outcomes(ctx.metrics)).exhausted, 0);
  },
});

Deno.test("dead receivers do not delay a live one", async () => {
  await using live = new Receiver();
  await using hole = new Blackhole();
  const refused = closedPortUrl();
  await using ctx = setup({ attemptTimeoutMs: 2000 });

  const started = performance.now();
  for (let i = 0; i < 20; i++) {
    const dead = i % 2 === 0 ? hole.url() : refused;
    ctx.bus.publish("leg.dtmf", { leg_id: `dead-${i}`, digit: "1" }, { webhook: { url: dead } });
    ctx.bus.publish("leg.dtmf", { leg_id: `live-${i}`, digit: "1" }, {
      webhook: { url: live.url() },
    });
  }
  const publishMs = performance.now() - started;
  assert.ok(publishMs < 250, `publishing 40 events took ${publishMs} ms`);

  await live.received(20, 1000);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 1000, `live receiver finished after ${elapsed} ms`);
  assert.deepEqual(
    live.hits.map((h) => h.json.leg_id).sort(),
    Array.from({ length: 20 }, (_, i) => `live-${i}`).sort(),
  );
  // The blackhole lane is still stuck on its first attempts, limited to 4 connections.
  assert.equal(hole.accepted, 4);
  assert.ok(ctx.dispatcher.pending >= 10, `pending ${ctx.dispatcher.pending}`);
});

Deno.test("a target never has more than concurrencyPerTarget deliveries in flight", async () => {
  await using hole = new Blackhole();
  await using ctx = setup({ global: { url: hole.url() }, concurrencyPerTarget: 2 });
  for (let i = 0; i < 5; i++) ctx.bus.publish("leg.connected", { leg_id: `L${i}` });
  await hole.connections(2, 1000);
  await sleep(200);
  assert.equal(hole.accepted, 2);
  assert.equal(ctx.dispatcher.pending, 5);
});

Deno.test("a full queue drops deliveries, counts them and warns once per burst", async () => {
  await using hole = new Blackhole();
  const lines: string[] = [];
  await using ctx = setup({
    queueCapacity: 5,
    logger: new Logger("warn", {}, (line) => lines.push(line)),
  });
  // Three URLs, three lanes: the bound is on the total, not per lane.
  for (let i = 0; i < 12; i++) {
    ctx.bus.publish("leg.connected", { leg_id: `L${i}` }, {
      webhook: { url: hole.url(`/hook${i % 3}?token=do-not-log`) },
    });
  }

  assert.equal(ctx.dispatcher.pending, 5);
  assert.equal(await counter(ctx.metrics.webhookEnqueued), 5);
  assert.equal(await counter(ctx.metrics.webhookDropped), 7);
  const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.msg.includes("queue full"));
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0].dropped, 1);
  assert.equal(warnings[0].url_host, new URL(hole.url()).host);
  assert.ok(!lines.join("\n").includes("do-not-log"));
});

Deno.test("targetCapacity keeps a dead receiver from starving the others", async () => {
  await using hole = new Blackhole();
  await using live = new Receiver();
  await using ctx = setup({ queueCapacity: 10, targetCapacity: 5 });
  for (let i = 0; i < 20; i++) {
    ctx.bus.publish("leg.connected", { leg_id: `D${i}` }, { webhook: { url: hole.url() } });
  }
  for (let i = 0; i < 5; i++) {
    ctx.bus.publish("leg.connected", { leg_id: `A${i}` }, { webhook: { url: live.url() } });
  }
  await live.received(5, 1000);
  assert.equal(await counter(ctx.metrics.webhookDropped), 15);
  assert.equal(await counter(ctx.metrics.webhookEnqueued), 10);
});

Deno.test("a final failure is logged with the host, never the secret or the query string", async () => {
  const lines: string[] = [];
  const url = closedPortUrl().replace("/hook", "/hook?token=query-token");
  await using ctx = setup({
    attempts: 2,
    backoffMs: [10],
    logger: new Logger("warn", {}, (line) => lines.push(line)),
  });
  const event = ctx.bus.publish("leg.connected", { leg_id: "L1" }, {
    webhook: { url, secret: "leg-secret" },
  });
  assert.equal(await ctx.dispatcher.drain(2000), true);
  assert.equal((await outcomes(ctx.metrics)).exhausted, 1);
  const failure = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "webhook delivery failed");
  assert.ok(failure, lines.join("\n"));
  assert.equal(failure.event_id, event.eventId);
  assert.equal(failure.type, "leg.connected");
  assert.equal(failure.url_host, new URL(url).host);
  assert.equal(failure.attempts, 2);
  assert.equal(typeof failure.error, "string");
  const all = lines.join("\n");
  assert.ok(!all.includes("query-token"), all);
  assert.ok(!all.includes("leg-secret"), all);
});

Deno.test("drain() resolves true once deliveries finish and false on timeout", async () => {
  await using live = new Receiver();
  await using hole = new Blackhole();
  await using ctx = setup();
  for (let i = 0; i < 3; i++) {
    ctx.bus.publish("leg.connected", { leg_id: `L${i}` }, {
      webhook: { url: live.url() },
    });
  }
  assert.equal(ctx.dispatcher.pending, 3);
  assert.equal(ctx.dispatcher.activeTargets, 1);
  assert.equal(await ctx.dispatcher.drain(2000), true);
  assert.equal(ctx.dispatcher.pending, 0);
  assert.equal(ctx.dispatcher.activeTargets, 0, "an idle lane is removed");
  assert.equal(live.hits.length, 3);
  assert.equal(await ctx.dispatcher.drain(0), true);

  ctx.bus.publish("leg.connected", { leg_id: "B" }, { webhook: { url: hole.url() } });
  const started = performance.now();
  assert.equal(await ctx.dispatcher.drain(100), false);
  assert.ok(performance.now() - started < 1000);
  assert.equal(ctx.dispatcher.pending, 1);
});

Deno.test("close() aborts an in-flight blackhole delivery promptly", async () => {
  await using hole = new Blackhole();
  const { bus, dispatcher, metrics } = setup({
    global: { url: hole.url() },
    attemptTimeoutMs: 10_000,
  });
  for (let i = 0; i < 6; i++) bus.publish("leg.connected", { leg_id: `L${i}` });
  await hole.connections(4, 1000);
  const waiting = dispatcher.drain(10_000);

  const started = performance.now();
  await dispatcher.close();
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 500, `close took ${elapsed} ms`);
  assert.equal(await waiting, false);
  assert.equal(dispatcher.pending, 0);
  assert.equal(bus.subscriberCount, 0);
  // Abandoned deliveries record no outcome.
  assert.deepEqual(await outcomes(metrics), {
    success: 0,
    exhausted: 0,
    marshal_error: 0,
    request_error: 0,
  });
  await dispatcher.close(); // idempotent
  bus.publish("leg.connected", { leg_id: "late" });
  assert.equal(await counter(metrics.webhookEnqueued), 6);
  assert.throws(() => dispatcher.attach(bus), /closed/);
});

Deno.test("close() during a backoff sleep ends the delivery without waiting for the sleep", async () => {
  await using receiver = new Receiver(() => 503);
  const { bus, dispatcher } = setup({ global: { url: receiver.url() }, backoffMs: [10_000] });
  bus.publish("leg.connected", { leg_id: "L1" });
  await receiver.received(1, 1000);
  await sleep(100); // let the 503 arrive so the delivery is in its backoff sleep
  const started = performance.now();
  await dispatcher.close();
  assert.ok(performance.now() - started < 500);
  assert.equal(receiver.hits.length, 1);
  assert.equal(dispatcher.pending, 0);
});
