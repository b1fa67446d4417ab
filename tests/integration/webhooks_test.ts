/**
 * Event routing end to end: EventBus → WebhookDispatcher → real HTTP receivers, with the global
 * target, per-leg targets and hooks registered at run time (compat-notes §1 "Webhooks", C1, C2).
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { EventBus } from "../../src/events/bus.ts";
import { WebhookDispatcher } from "../../src/events/webhook_dispatcher.ts";
import { WebhookRegistry } from "../../src/events/webhook_registry.ts";
import { Logger } from "../../src/log/logger.ts";
import { Metrics } from "../../src/metrics/metrics.ts";

interface Hit {
  readonly path: string;
  readonly headers: Headers;
  readonly raw: Uint8Array;
  readonly json: Record<string, unknown>;
}

/** One HTTP server on an ephemeral loopback port; each target is a path on it. */
class Receiver implements AsyncDisposable {
  readonly hits: Hit[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  constructor() {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const raw = new Uint8Array(await req.arrayBuffer());
      this.hits.push({
        path: new URL(req.url).pathname,
        headers: req.headers,
        raw,
        json: JSON.parse(new TextDecoder().decode(raw)),
      });
      return new Response(null, { status: 204 });
    });
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.#server.addr.port}${path}`;
  }

  at(path: string): Hit[] {
    return this.hits.filter((h) => h.path === path);
  }

  typesAt(path: string): string[] {
    return this.at(path).map((h) => String(h.json.type)).sort();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.#server.shutdown();
  }
}

function setup(receiver: Receiver, globalSecret?: string) {
  const metrics = new Metrics({ activeLegs: () => 0, activeRooms: () => 0 }, { runtime: false });
  const bus = new EventBus("test-instance");
  const registry = new WebhookRegistry();
  const dispatcher = new WebhookDispatcher({
    global: { url: receiver.url("/global"), secret: globalSecret },
    registry,
    metrics,
    logger: new Logger("error", {}, () => {}),
    backoffMs: [50, 100],
    attemptTimeoutMs: 2000,
  });
  dispatcher.attach(bus);
  return { bus, registry, dispatcher, [Symbol.asyncDispose]: () => dispatcher.close() };
}

function signatureOk(hit: Hit, secret: string): boolean {
  const expected = createHmac("sha256", secret).update(hit.raw).digest("hex");
  return hit.headers.get("x-signature-256") === `sha256=${expected}`;
}

Deno.test("a per-leg webhook is exclusive: the global target and registered hooks do not get the event", async () => {
  await using receiver = new Receiver();
  await using ctx = setup(receiver);
  ctx.registry.add({ url: receiver.url("/registered") });

  const event = ctx.bus.publish("leg.connected", { leg_id: "L1", leg_type: "sip_inbound" }, {
    webhook: { url: receiver.url("/leg"), secret: "leg-secret" },
  });
  assert.equal(await ctx.dispatcher.drain(2000), true);

  assert.deepEqual(receiver.hits.map((h) => h.path), ["/leg"]);
  const [hit] = receiver.hits;
  assert.equal(new TextDecoder().decode(hit.raw), event.json);
  assert.ok(signatureOk(hit, "leg-secret"));
});

Deno.test("without a per-leg hook the global target gets the flat body and a registered hook the body with a data duplicate", async () => {
  await using receiver = new Receiver();
  await using ctx = setup(receiver, "global-secret");
  ctx.registry.add({ url: receiver.url("/registered"), secret: "hook-secret" });
  ctx.registry.add({ url: receiver.url("/unsigned") });

  const event = ctx.bus.publish("leg.ringing", {
    leg_id: "L1",
    app_id: "app-7",
    from: "alice",
    to: "bob",
  });
  assert.equal(await ctx.dispatcher.drain(2000), true);
  assert.equal(receiver.hits.length, 3);

  const [global] = receiver.at("/global");
  assert.equal(new TextDecoder().decode(global.raw), event.json);
  assert.equal("data" in global.json, false);
  assert.ok(signatureOk(global, "global-secret"));

  const [registered] = receiver.at("/registered");
  assert.equal(registered.json.leg_id, "L1"); // flat keys still there
  assert.deepEqual(registered.json.data, {
    app_id: "app-7",
    from: "alice",
    leg_id: "L1",
    to: "bob",
  });
  assert.ok(signatureOk(registered, "hook-secret"));

  const [unsigned] = receiver.at("/unsigned");
  assert.deepEqual(unsigned.raw, registered.raw);
  assert.equal(unsigned.headers.get("x-signature-256"), null);

  // One event id for every target.
  for (const hit of receiver.hits) {
    assert.equal(hit.headers.get("x-event-id"), event.eventId);
    assert.equal(hit.json.event_id, event.eventId);
  }
});

Deno.test("registered hook filters admit exact types and prefix wildcards", async () => {
  await using receiver = new Receiver();
  await using ctx = setup(receiver);
  ctx.registry.add({ url: receiver.url("/legs"), events: ["leg.*"] });
  ctx.registry.add({ url: receiver.url("/created"), events: ["room.created"] });
  ctx.registry.add({ url: receiver.url("/all") });

  ctx.bus.publish("leg.connected", { leg_id: "L1" });
  ctx.bus.publish("leg.disconnected", { leg_id: "L1" });
  ctx.bus.publish("room.created", { room_id: "R1" });
  ctx.bus.publish("room.deleted", { room_id: "R1" });
  assert.equal(await ctx.dispatcher.drain(2000), true);

  const all = ["leg.connected", "leg.disconnected", "room.created", "room.deleted"];
  assert.deepEqual(receiver.typesAt("/legs"), ["leg.connected", "leg.disconnected"]);
  assert.deepEqual(receiver.typesAt("/created"), ["room.created"]);
  assert.deepEqual(receiver.typesAt("/all"), all);
  assert.deepEqual(receiver.typesAt("/global"), all);
});

Deno.test("a removed hook stops receiving events and a new one starts", async () => {
  await using receiver = new Receiver();
  await using ctx = setup(receiver);
  const first = ctx.registry.add({ url: receiver.url("/first") });

  ctx.bus.publish("room.created", { room_id: "R1" });
  assert.equal(await ctx.dispatcher.drain(2000), true);
  assert.equal(ctx.registry.remove(first.id), true);
  ctx.registry.add({ url: receiver.url("/second") });
  ctx.bus.publish("room.deleted", { room_id: "R1" });
  assert.equal(await ctx.dispatcher.drain(2000), true);

  assert.deepEqual(receiver.typesAt("/first"), ["room.created"]);
  assert.deepEqual(receiver.typesAt("/second"), ["room.deleted"]);
  assert.deepEqual(receiver.typesAt("/global"), ["room.created", "room.deleted"]);
});
