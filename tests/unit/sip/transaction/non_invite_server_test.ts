import assert from "node:assert/strict";
import { serialize } from "../../../../src/sip/message/mod.ts";
import {
  type IncomingRequest,
  NonInviteServerTransaction,
} from "../../../../src/sip/transaction/mod.ts";
import {
  ALICE_ADDR,
  lastServerTx,
  makeRequest,
  respond,
  serverSetup,
  statuses,
  T,
} from "./_helpers.ts";

const setup = serverSetup;

function serverTx(incoming: IncomingRequest[]): NonInviteServerTransaction {
  return lastServerTx(incoming, NonInviteServerTransaction);
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
