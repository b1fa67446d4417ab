import assert from "node:assert/strict";
import { serialize } from "../../../../src/sip/message/mod.ts";
import type { FakeTransport } from "../../../../src/sip/transport/mod.ts";
import {
  NonInviteClientTransaction,
  TransactionError,
} from "../../../../src/sip/transaction/mod.ts";
import {
  BOB_ADDR,
  BOB_TCP,
  BOB_UDP,
  clientSetup,
  type FakeClock,
  flush,
  makeRequest,
  respond,
  T,
} from "./_helpers.ts";

const setup = clientSetup;

/** Times (ms) at which the fake recorded a send, sampled by stepping the clock 1 ms. */
function sendTimes(clock: FakeClock, fake: FakeTransport, until: number): number[] {
  const times: number[] = [0];
  let seen = fake.sent.length;
  while (clock.now < until) {
    clock.advance(1);
    while (fake.sent.length > seen) {
      times.push(clock.now);
      seen++;
    }
  }
  return times;
}

Deno.test("non-INVITE client retransmits with Timer E doubling capped at T2", () => {
  const { clock, fake, layer } = setup();
  const tx = layer.sendRequest(makeRequest({ method: "OPTIONS" }), BOB_UDP);
  assert.ok(tx instanceof NonInviteClientTransaction);
  assert.equal(tx.state, "trying");
  // Intervals 500, 1000, 2000, 4000, 4000, … (RFC 3261 §17.1.2.2)
  const times = sendTimes(clock, fake, 20_000);
  assert.deepEqual(times, [0, 500, 1500, 3500, 7500, 11500, 15500, 19500]);
  layer.close();
  assert.equal(clock.pending, 0);
});

Deno.test("non-INVITE client keeps retransmitting every T2 in Proceeding", () => {
  const { clock, fake, layer } = setup();
  const req = makeRequest({ method: "REGISTER" });
  const seen: number[] = [];
  const tx = layer.sendRequest(req, BOB_UDP, { onResponse: (r) => seen.push(r.status) });
  clock.advance(600); // one retransmission at 500; next Timer E due at 1500
  fake.inject(serialize(respond(req, 100)), BOB_ADDR);
  assert.equal(tx.state, "proceeding");
  assert.equal(fake.sent.length, 2);
  const times = sendTimes(clock, fake, 14_000);
  // The Timer E armed in Trying fires at 1500, then every T2.
  assert.deepEqual(times.slice(1), [1500, 5500, 9500, 13500]);
  fake.inject(serialize(respond(req, 100)), BOB_ADDR);
  assert.deepEqual(seen, [100, 100], "provisionals in Proceeding are passed up");
  layer.close();
});

Deno.test("non-INVITE client times out with Timer F after eleven transmissions", async () => {
  const { clock, fake, layer } = setup();
  const tx = layer.sendRequest(makeRequest({ method: "OPTIONS" }), BOB_UDP);
  const final = tx.response();
  clock.advance(64 * T.t1 - 1);
  assert.equal(fake.sent.length, 11);
  clock.advance(1);
  assert.deepEqual(await tx.done, { type: "timeout", timer: "F" });
  await assert.rejects(
    final,
    (e) => e instanceof TransactionError && e.reason.type === "timeout" && e.reason.timer === "F",
  );
  assert.deepEqual(layer.counts(), { client: 0, server: 0 });
  assert.equal(clock.pending, 0);
});

Deno.test("non-INVITE client absorbs final retransmissions in Completed until Timer K", async () => {
  const { clock, fake, layer } = setup();
  const req = makeRequest({ method: "BYE" });
  const seen: number[] = [];
  const tx = layer.sendRequest(req, BOB_UDP, { onResponse: (r) => seen.push(r.status) });
  const ok = serialize(respond(req, 200));
  fake.inject(ok, BOB_ADDR);
  assert.equal(tx.state, "completed");
  assert.equal((await tx.response()).status, 200);
  fake.inject(ok, BOB_ADDR);
  fake.inject(serialize(respond(req, 500)), BOB_ADDR);
  assert.deepEqual(seen, [200]);
  clock.advance(T.t4 - 1);
  assert.equal(fake.sent.length, 1, "no retransmission once Completed");
  assert.equal(tx.state, "completed");
  clock.advance(1);
  assert.deepEqual(await tx.done, { type: "normal" });
  assert.equal(clock.pending, 0);
});

Deno.test("non-INVITE client over TCP has no Timer E and a zero Timer K", async () => {
  const { clock, fake, layer } = setup("tcp");
  const req = makeRequest({ method: "OPTIONS", transport: "TCP" });
  const tx = layer.sendRequest(req, BOB_TCP);
  assert.deepEqual(tx.runningTimers(), ["F"]);
  clock.advance(10_000);
  assert.equal(fake.sent.length, 1);
  fake.inject(serialize(respond(req, 200)), BOB_ADDR);
  assert.deepEqual(await tx.done, { type: "normal" });
  assert.equal(clock.pending, 0);
});

Deno.test("non-INVITE client reports a transport failure on a retransmission", async () => {
  const { clock, fake, layer } = setup();
  const tx = layer.sendRequest(makeRequest({ method: "OPTIONS" }), BOB_UDP);
  fake.failSends = true;
  clock.advance(T.t1);
  await flush();
  const reason = await tx.done;
  assert.equal(reason.type, "transport-error");
  assert.equal(clock.pending, 0);
  assert.deepEqual(layer.counts(), { client: 0, server: 0 });
});
