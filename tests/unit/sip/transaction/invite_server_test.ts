import assert from "node:assert/strict";
import { serialize, type SipResponse } from "../../../../src/sip/message/mod.ts";
import {
  type IncomingRequest,
  InviteServerTransaction,
} from "../../../../src/sip/transaction/mod.ts";
import {
  ALICE_ADDR,
  flush,
  lastServerTx,
  makeRequest,
  respond,
  serverSetup,
  statuses,
  T,
} from "./_helpers.ts";

const setup = serverSetup;

function serverTx(incoming: IncomingRequest[]): InviteServerTransaction {
  return lastServerTx(incoming, InviteServerTransaction);
}

Deno.test("INVITE server sends 100 Trying after 200 ms when the TU has not responded", () => {
  const { clock, fake, layer, incoming } = setup();
  fake.inject(serialize(makeRequest()), ALICE_ADDR);
  assert.equal(incoming.length, 1);
  const tx = serverTx(incoming);
  assert.equal(tx.state, "proceeding");
  clock.advance(199);
  assert.equal(fake.sent.length, 0);
  clock.advance(1);
  assert.deepEqual(statuses(fake), [100]);
  const trying = fake.messages()[0] as SipResponse;
  assert.equal(trying.toTag, undefined, "no To tag on the transaction's own 100 (§17.2.1)");
  assert.deepEqual(fake.sent[0].to, { host: "192.0.2.1", port: 5060, transport: "udp" });
  layer.close();
});

Deno.test("INVITE server sends no 100 Trying when the TU responds within 200 ms", () => {
  const { clock, fake, layer, incoming } = setup();
  const invite = makeRequest();
  fake.inject(serialize(invite), ALICE_ADDR);
  clock.advance(150);
  serverTx(incoming).respond(respond(invite, 180));
  clock.advance(1000);
  assert.deepEqual(statuses(fake), [180]);
  layer.close();
});

Deno.test("INVITE server answers a retransmitted INVITE with the latest provisional", () => {
  const { clock, fake, layer, incoming } = setup();
  const invite = makeRequest();
  fake.inject(serialize(invite), ALICE_ADDR);
  fake.inject(serialize(invite), ALICE_ADDR); // before any response: nothing to re-send
  assert.equal(fake.sent.length, 0);
  clock.advance(200);
  fake.inject(serialize(invite), ALICE_ADDR);
  serverTx(incoming).respond(respond(invite, 183));
  fake.inject(serialize(invite), ALICE_ADDR);
  assert.deepEqual(statuses(fake), [100, 100, 183, 183]);
  assert.equal(incoming.length, 1, "retransmissions are absorbed, not passed to the TU");
  assert.deepEqual(layer.counts(), { client: 0, server: 1 });
  layer.close();
});

Deno.test("INVITE server retransmits a non-2xx final with Timer G doubling capped at T2 until ACK", async () => {
  const { clock, fake, layer, incoming } = setup();
  const invite = makeRequest();
  fake.inject(serialize(invite), ALICE_ADDR);
  const tx = serverTx(incoming);
  const busy = respond(invite, 486);
  assert.equal(tx.respond(busy), true);
  assert.equal(tx.state, "completed");
  const times: number[] = [];
  let seen = fake.sent.length;
  while (clock.now < 16_000) {
    clock.advance(1);
    while (fake.sent.length > seen) {
      times.push(clock.now);
      seen++;
    }
  }
  // G: 500, 1000, 2000, 4000, 4000 … (RFC 3261 §17.2.1)
  assert.deepEqual(times, [500, 1500, 3500, 7500, 11500, 15500]);
  assert.equal(tx.respond(respond(invite, 500)), false, "a second final is discarded");
  fake.inject(serialize(invite), ALICE_ADDR); // retransmitted INVITE gets the final again
  assert.equal(statuses(fake).at(-1), 486);

  const ack = makeRequest({ method: "ACK" });
  ack.headers.set("To", busy.headers.get("To")!);
  fake.inject(serialize(ack), ALICE_ADDR);
  assert.equal(tx.state, "confirmed");
  const after = fake.sent.length;
  fake.inject(serialize(ack), ALICE_ADDR); // absorbed
  clock.advance(T.t4 - 1);
  assert.equal(fake.sent.length, after, "no retransmission after ACK");
  assert.equal(incoming.length, 1, "the ACK for a non-2xx never reaches the TU");
  clock.advance(1);
  assert.deepEqual(await tx.done, { type: "normal" });
  assert.equal(clock.pending, 0);
  assert.deepEqual(layer.counts(), { client: 0, server: 0 });
});

Deno.test("INVITE server gives up with Timer H when no ACK arrives", async () => {
  const { clock, fake, layer, incoming } = setup();
  const invite = makeRequest();
  fake.inject(serialize(invite), ALICE_ADDR);
  const tx = serverTx(incoming);
  tx.respond(respond(invite, 404));
  clock.advance(64 * T.t1 - 1);
  assert.equal(tx.state, "completed");
  clock.advance(1);
  assert.deepEqual(await tx.done, { type: "timeout", timer: "H" });
  // 1 + retransmissions at .5, 1.5, 3.5, 7.5, 11.5 … 31.5 s
  assert.equal(fake.sent.length, 11);
  assert.equal(clock.pending, 0);
  assert.deepEqual(layer.counts(), { client: 0, server: 0 });
});

Deno.test("INVITE server over TCP sends the final once and Timer I is zero", async () => {
  const { clock, fake, incoming } = setup("tcp");
  const invite = makeRequest({ transport: "TCP" });
  fake.inject(serialize(invite), ALICE_ADDR);
  const tx = serverTx(incoming);
  tx.respond(respond(invite, 486));
  assert.deepEqual(tx.runningTimers(), ["H"]);
  clock.advance(10_000);
  assert.equal(fake.sent.length, 1);
  const ack = makeRequest({ method: "ACK", transport: "TCP" });
  fake.inject(serialize(ack), ALICE_ADDR);
  assert.deepEqual(await tx.done, { type: "normal" });
  assert.equal(clock.pending, 0);
});

Deno.test("INVITE server after a 2xx absorbs INVITE retransmissions and ends with Timer L", async () => {
  const { clock, fake, layer, incoming } = setup();
  const invite = makeRequest();
  fake.inject(serialize(invite), ALICE_ADDR);
  const tx = serverTx(incoming);
  const ok = respond(invite, 200);
  tx.respond(ok);
  assert.equal(tx.state, "accepted");
  fake.inject(serialize(invite), ALICE_ADDR);
  assert.deepEqual(statuses(fake), [200], "the TU, not the transaction, re-sends a 2xx");
  assert.equal(tx.respond(ok), true, "TU retransmissions of the 2xx pass through");
  assert.equal(tx.respond(respond(invite, 486)), false);
  assert.equal(incoming.length, 1);
  clock.advance(64 * T.t1);
  assert.deepEqual(await tx.done, { type: "normal" });
  assert.deepEqual(statuses(fake), [200, 200]);
  assert.equal(clock.pending, 0);
  assert.deepEqual(layer.counts(), { client: 0, server: 0 });
});

Deno.test("INVITE server reports a transport error while sending a response (§17.2.4)", async () => {
  const { clock, fake, incoming } = setup();
  const invite = makeRequest();
  fake.inject(serialize(invite), ALICE_ADDR);
  const tx = serverTx(incoming);
  fake.failSends = true;
  tx.respond(respond(invite, 480));
  await flush();
  const reason = await tx.done;
  assert.equal(reason.type, "transport-error");
  assert.equal(clock.pending, 0);
});
