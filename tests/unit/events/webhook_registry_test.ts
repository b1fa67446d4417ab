import assert from "node:assert/strict";
import { BadRequest } from "../../../src/errors.ts";
import { WebhookRegistry, webhookView } from "../../../src/events/webhook_registry.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("add() assigns a UUID and list(), get() and remove() manage the hooks", () => {
  const registry = new WebhookRegistry({ now: () => new Date("2026-01-02T03:04:05.678Z") });
  const a = registry.add({ url: "http://127.0.0.1:9000/a", secret: "s1" });
  const b = registry.add({ url: "https://example.invalid/b" });
  assert.match(a.id, UUID);
  assert.notEqual(a.id, b.id);
  assert.equal(a.createdAt, "2026-01-02T03:04:05.678Z");
  assert.equal(a.secret, "s1");
  assert.equal(b.secret, undefined);
  assert.deepEqual(registry.list().map((h) => h.id), [a.id, b.id]);
  assert.equal(registry.size, 2);
  assert.equal(registry.get(b.id), b);
  assert.equal(registry.remove(a.id), true);
  assert.equal(registry.remove(a.id), false);
  assert.equal(registry.get(a.id), undefined);
  assert.deepEqual(registry.list(), [b]);
});

Deno.test("a registered hook is immutable", () => {
  const registry = new WebhookRegistry();
  const hook = registry.add({ url: "http://127.0.0.1:9000/", events: ["leg.*"] });
  assert.throws(() => {
    (hook as { url: string }).url = "http://elsewhere.invalid/";
  }, TypeError);
  assert.throws(() => (hook.events as string[]).push("room.created"), TypeError);
});

Deno.test("matching() admits exact types and prefix.* wildcards, and everything without a filter", () => {
  const registry = new WebhookRegistry();
  const all = registry.add({ url: "http://127.0.0.1:1/all" });
  const empty = registry.add({ url: "http://127.0.0.1:1/empty", events: [] });
  const star = registry.add({ url: "http://127.0.0.1:1/star", events: ["*"] });
  const legs = registry.add({ url: "http://127.0.0.1:1/legs", events: ["leg.*"] });
  const exact = registry.add({ url: "http://127.0.0.1:1/exact", events: ["room.created"] });
  const mixed = registry.add({
    url: "http://127.0.0.1:1/mixed",
    events: ["sip.registration_attempt", "recording.*"],
  });
  const ids = (type: string) => registry.matching(type).map((h) => h.id);

  assert.deepEqual(ids("leg.connected"), [all.id, empty.id, star.id, legs.id]);
  assert.deepEqual(ids("room.created"), [all.id, empty.id, star.id, exact.id]);
  assert.deepEqual(ids("room.deleted"), [all.id, empty.id, star.id]);
  assert.deepEqual(ids("recording.finished"), [all.id, empty.id, star.id, mixed.id]);
  assert.deepEqual(ids("sip.registration_attempt"), [all.id, empty.id, star.id, mixed.id]);
  // `leg.*` needs the dot: neither the bare prefix nor a longer word matches.
  assert.deepEqual(ids("leg"), [all.id, empty.id, star.id]);
  assert.deepEqual(ids("legacy.event"), [all.id, empty.id, star.id]);
});

Deno.test("add() rejects a missing, malformed or non-http URL and a malformed filter", () => {
  const registry = new WebhookRegistry();
  const bad: unknown[] = [
    {},
    { url: "" },
    { url: "not a url" },
    { url: "ftp://127.0.0.1/x" },
    { url: "javascript:alert(1)" },
    { url: 42 },
    { url: "http://127.0.0.1/", secret: 7 },
    { url: "http://127.0.0.1/", events: "leg.*" },
    { url: "http://127.0.0.1/", events: [1] },
    { url: "http://127.0.0.1/", events: ["leg*"] },
    { url: "http://127.0.0.1/", events: ["*.connected"] },
    { url: "http://127.0.0.1/", events: ["leg..x"] },
  ];
  for (const input of bad) {
    assert.throws(
      () => registry.add(input as { url: string }),
      BadRequest,
      `expected BadRequest for ${JSON.stringify(input)}`,
    );
  }
  assert.equal(registry.size, 0);
});

Deno.test("webhookView() never contains the secret and reports has_secret instead", () => {
  const registry = new WebhookRegistry({ now: () => new Date("2026-01-02T03:04:05.000Z") });
  const secret = "very-secret-value";
  const signed = registry.add({ url: "http://127.0.0.1:9000/a", secret, events: ["leg.*"] });
  const unsigned = registry.add({ url: "http://127.0.0.1:9000/b" });

  const view = webhookView(signed);
  assert.deepEqual(view, {
    id: signed.id,
    url: "http://127.0.0.1:9000/a",
    events: ["leg.*"],
    has_secret: true,
    created_at: "2026-01-02T03:04:05.000Z",
  });
  assert.ok(!JSON.stringify(view).includes(secret));
  assert.ok(!("secret" in view));
  assert.deepEqual(webhookView(unsigned), {
    id: unsigned.id,
    url: "http://127.0.0.1:9000/b",
    has_secret: false,
    created_at: "2026-01-02T03:04:05.000Z",
  });
  assert.ok(!JSON.stringify(registry.list().map(webhookView)).includes(secret));
});
