import assert from "node:assert/strict";
import { buildEnvelope, legacyBody, rfc3339Nano } from "../../../src/events/envelope.ts";
import { EventBus } from "../../../src/events/bus.ts";

Deno.test("rfc3339Nano() keeps microseconds and trims trailing zeros like Go", () => {
  const ms = Date.UTC(2026, 10, 25, 20, 48, 26, 123);
  assert.equal(rfc3339Nano(ms + 0.456), "2026-11-25T20:48:26.123456Z");
  assert.equal(rfc3339Nano(ms), "2026-11-25T20:48:26.123Z");
  assert.equal(rfc3339Nano(Date.UTC(2026, 0, 1)), "2026-01-01T00:00:00Z");
  assert.equal(rfc3339Nano(Date.UTC(2026, 0, 1) + 0.5), "2026-01-01T00:00:00.0005Z");
});

Deno.test("buildEnvelope() sorts keys, drops undefined and empty app_id, and base fields win", () => {
  const env = buildEnvelope(
    { type: "room.created", timestamp: "t", event_id: "e", instance_id: "i" },
    { room_id: "r", app_id: "", type: "spoofed", extra: undefined },
  );
  assert.deepEqual(Object.keys(env), ["event_id", "instance_id", "room_id", "timestamp", "type"]);
  assert.equal(env.type, "room.created");
});

Deno.test("legacyBody() adds a data object with the event fields only", () => {
  const body = JSON.parse(legacyBody({
    event_id: "e",
    instance_id: "i",
    leg_id: "L",
    timestamp: "t",
    type: "leg.connected",
  }));
  assert.equal(body.leg_id, "L");
  assert.deepEqual(body.data, { leg_id: "L" });
});

Deno.test("EventBus.publish() stamps one event_id shared by every subscriber", () => {
  const bus = new EventBus("inst", { clock: () => Date.UTC(2026, 0, 1) });
  const seen: string[][] = [[], []];
  const offA = bus.subscribe((e) => seen[0].push(e.json));
  const offB = bus.subscribe((e) => seen[1].push(e.json));
  const ev = bus.publish("room.created", { room_id: "r", app_id: "a" });
  assert.equal(seen[0][0], seen[1][0]);
  assert.equal(ev.appId, "a");
  assert.equal(JSON.parse(ev.json).event_id, ev.eventId);
  assert.equal(JSON.parse(ev.json).timestamp, "2026-01-01T00:00:00Z");
  offA();
  bus.publish("room.deleted", { room_id: "r" });
  assert.equal(seen[0].length, 1);
  assert.equal(seen[1].length, 2);
  offB();
  assert.equal(bus.subscriberCount, 0);
});

Deno.test("EventBus.publish() isolates a throwing listener from the others", () => {
  const bus = new EventBus("inst");
  let got = 0;
  bus.subscribe(() => {
    throw new Error("boom");
  });
  bus.subscribe(() => got++);
  bus.publish("room.created", {});
  assert.equal(got, 1);
});
