import assert from "node:assert/strict";
import { serialize } from "../../../../src/sip/message/mod.ts";
import { FakeTransport } from "../../../../src/sip/transport/mod.ts";
import {
  type IncomingRequest,
  NonInviteServerTransaction,
  type SipTimers,
  TransactionLayer,
} from "../../../../src/sip/transaction/mod.ts";
import { ALICE_ADDR, FakeClock, makeRequest, respond } from "./_helpers.ts";

const T: SipTimers = { t1: 500, t2: 4000, t4: 5000 };

function setup(transport: "udp" | "tcp" = "udp") {
  const clock = new FakeClock();
  const fake = new FakeTransport({ transport, local: { host: "192.0.2.2", port: 5060 } });
  const incoming: IncomingRequest[] = [];
  const layer = new TransactionLayer(fake, {
    timers: T,
    clock,
    onRequest: (i) => incoming.push(i),
  });
  return { clock, fake, layer, incoming };
}

function statuses(fake: FakeTransport): number[] {
  return fake.messages().map((m) => (m.kind === "response" ? m.status : 0));
}

function serverTx(incoming: IncomingRequest[]): NonInviteServerTransaction {
  const tx = incoming.at(-1)?.transaction;
  assert.ok(tx instanceof NonInviteServerTransaction);
  return tx;
}

Deno.test("non-INVITE server discards retransmissions in Trying and sends no 100 itself", () => {
  const { clock, fake, layer, incoming } = setup();
  const req = makeRequest({ method: "OPTIONS" });
  fake.inject(serialize(req), ALICE_ADDR);
  fake.inject(serialize(req), ALICE_ADDR);
  clock.advance(5000);
  assert.equal(incoming.length, 1);
  assert.equal(serverTx(incoming).state, "trying");
  assert.equal(fake.sent.length, 0);
  layer.close();
});

Deno.test("non-INVITE server re-sends the latest provisional in Proceeding", () => {
  const { fake, layer, incoming } = setup();
  const req = makeRequest({ method: "SUBSCRIBE" });
  fake.inject(serialize(req), ALICE_ADDR);
  const tx = serverTx(incoming);
  tx.respond(respond(req, 100));
  assert.equal(tx.state, "proceeding");
  fake.inject(serialize(req), ALICE_ADDR);
  assert.deepEqual(statuses(fake), [100, 100]);
  layer.close();
});

Deno.test("non-INVITE server re-sends the final in Completed and discards later finals until Timer J", async () => {
  const { clock, fake, layer, incoming } = setup();
  const req = makeRequest({ method: "BYE" });
  fake.inject(serialize(req), ALICE_ADDR);
  const tx = serverTx(incoming);
  assert.equal(tx.respond(respond(req, 200)), true);
  assert.equal(tx.state, "completed");
  assert.equal(tx.respond(respond(req, 500)), false);
  fake.inject(serialize(req), ALICE_ADDR);
  fake.inject(serialize(req), ALICE_ADDR);
  assert.deepEqual(statuses(fake), [200, 200, 200]);
  clock.advance(64 * T.t1 - 1);
  assert.equal(fake.sent.length, 3, "no retransmission without a request retransmission");
  assert.equal(tx.state, "completed");
  clock.advance(1);
  assert.deepEqual(await tx.done, { type: "normal" });
  assert.equal(clock.pending, 0);
  assert.deepEqual(layer.counts(), { client: 0, server: 0 });
  // After Timer J the same request is new again.
  fake.inject(serialize(req), ALICE_ADDR);
  assert.equal(incoming.length, 2);
  layer.close();
});

Deno.test("non-INVITE server over TCP terminates at once after the final (Timer J is zero)", async () => {
  const { clock, fake, incoming } = setup("tcp");
  const req = makeRequest({ method: "OPTIONS", transport: "TCP" });
  fake.inject(serialize(req), ALICE_ADDR);
  const tx = serverTx(incoming);
  tx.respond(respond(req, 200));
  assert.deepEqual(await tx.done, { type: "normal" });
  assert.equal(clock.pending, 0);
  assert.deepEqual(statuses(fake), [200]);
});
