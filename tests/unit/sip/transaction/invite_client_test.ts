import assert from "node:assert/strict";
import { serialize } from "../../../../src/sip/message/mod.ts";
import type { FakeTransport } from "../../../../src/sip/transport/mod.ts";
import { InviteClientTransaction, TransactionError } from "../../../../src/sip/transaction/mod.ts";
import {
  BOB_ADDR,
  BOB_TCP,
  BOB_UDP,
  clientSetup,
  flush,
  makeRequest,
  respond,
  T,
} from "./_helpers.ts";

const setup = clientSetup;

function sentMethods(fake: FakeTransport): string[] {
  return fake.messages().map((m) => m.kind === "request" ? m.method : String(m.status));
}

Deno.test("INVITE client retransmits with Timer A doubling until a provisional arrives", () => {
  const { clock, fake, layer } = setup();
  const invite = makeRequest();
  const responses: number[] = [];
  const tx = layer.sendRequest(invite, BOB_UDP, {
    onResponse: (r) => responses.push(r.status),
  });
  assert.ok(tx instanceof InviteClientTransaction);
  assert.equal(tx.state, "calling");
  assert.equal(fake.sent.length, 1);
  clock.advance(499);
  assert.equal(fake.sent.length, 1);
  clock.advance(1); // t = 500: first retransmission (T1)
  assert.equal(fake.sent.length, 2);
  clock.advance(999);
  assert.equal(fake.sent.length, 2);
  clock.advance(1); // t = 1500: interval 2·T1
  assert.equal(fake.sent.length, 3);
  clock.advance(2000); // t = 3500: interval 4·T1
  assert.equal(fake.sent.length, 4);
  for (const r of fake.sent) assert.deepEqual(r.bytes, tx.bytes);

  fake.inject(serialize(respond(invite, 180)), BOB_ADDR);
  assert.equal(tx.state, "proceeding");
  assert.deepEqual(responses, [180]);
  clock.advance(10 * 64 * T.t1); // neither Timer A nor Timer B runs in Proceeding
  assert.equal(fake.sent.length, 4);
  assert.equal(tx.state, "proceeding");
  assert.deepEqual(tx.runningTimers(), []);
  layer.close();
});

Deno.test("INVITE client times out with Timer B after seven transmissions over UDP", async () => {
  const { clock, fake, layer } = setup();
  const tx = layer.sendRequest(makeRequest(), BOB_UDP);
  const final = tx.response();
  clock.advance(64 * T.t1 - 1);
  assert.equal(fake.sent.length, 7); // 0, .5, 1.5, 3.5, 7.5, 15.5, 31.5 s
  assert.equal(tx.state, "calling");
  clock.advance(1);
  assert.equal(tx.state, "terminated");
  assert.deepEqual(await tx.done, { type: "timeout", timer: "B" });
  await assert.rejects(final, (e) => e instanceof TransactionError && e.reason.type === "timeout");
  assert.equal(fake.messages().filter((m) => m.kind === "request" && m.method === "ACK").length, 0);
  assert.deepEqual(layer.counts(), { client: 0, server: 0 });
  assert.equal(clock.pending, 0);
});

Deno.test("INVITE client over TCP sends once and still times out with Timer B", async () => {
  const { clock, fake, layer } = setup("tcp");
  const tx = layer.sendRequest(makeRequest({ transport: "TCP" }), BOB_TCP);
  clock.advance(64 * T.t1 - 1);
  assert.equal(fake.sent.length, 1);
  clock.advance(1);
  assert.deepEqual(await tx.done, { type: "timeout", timer: "B" });
  assert.equal(clock.pending, 0);
});

Deno.test("INVITE client ACKs a non-2xx final and re-ACKs its retransmissions until Timer D", async () => {
  const { clock, fake, layer } = setup();
  const invite = makeRequest({ route: "<sip:proxy.example.com;lr>" });
  const responses: number[] = [];
  const tx = layer.sendRequest(invite, BOB_UDP, { onResponse: (r) => responses.push(r.status) });
  fake.inject(serialize(respond(invite, 100)), BOB_ADDR);
  const busy = respond(invite, 486);
  fake.inject(serialize(busy), BOB_ADDR);
  assert.equal(tx.state, "completed");
  assert.equal((await tx.response()).status, 486);

  const ack = fake.messages().at(-1)!;
  assert.equal(ack.kind, "request");
  if (ack.kind !== "request") return;
  // RFC 3261 §17.1.1.3
  assert.equal(ack.method, "ACK");
  assert.deepEqual(ack.uri, invite.uri);
  assert.equal(ack.via.length, 1);
  assert.equal(ack.headers.get("Via"), invite.headers.get("Via"));
  assert.equal(ack.toTag, "totag9");
  assert.equal(ack.headers.get("From"), invite.headers.get("From"));
  assert.equal(ack.callId, invite.callId);
  assert.deepEqual(ack.cseq, { seq: invite.cseq.seq, method: "ACK" });
  assert.equal(ack.headers.get("Route"), invite.headers.get("Route"));
  assert.equal(fake.sent.at(-1)!.to, BOB_UDP);

  fake.inject(serialize(busy), BOB_ADDR);
  fake.inject(serialize(busy), BOB_ADDR);
  assert.deepEqual(sentMethods(fake), ["INVITE", "ACK", "ACK", "ACK"]);
  assert.deepEqual(responses, [100, 486], "retransmissions are not passed up");

  clock.advance(64 * T.t1 - 1);
  assert.equal(tx.state, "completed");
  assert.equal(fake.sent.length, 4, "no INVITE retransmission after a response");
  clock.advance(1);
  assert.deepEqual(await tx.done, { type: "normal" });
  assert.deepEqual(layer.counts(), { client: 0, server: 0 });
  assert.equal(clock.pending, 0);
});

Deno.test("INVITE client over TCP ACKs a non-2xx and terminates at once (Timer D is zero)", async () => {
  const { clock, fake, layer } = setup("tcp");
  const invite = makeRequest({ transport: "TCP" });
  const tx = layer.sendRequest(invite, BOB_TCP);
  fake.inject(serialize(respond(invite, 603)), BOB_ADDR);
  assert.deepEqual(sentMethods(fake), ["INVITE", "ACK"]);
  assert.deepEqual(await tx.done, { type: "normal" });
  assert.equal(clock.pending, 0);
  assert.deepEqual(layer.counts(), { client: 0, server: 0 });
});

Deno.test("INVITE client passes 2xx up without ACKing and passes 2xx retransmissions up until Timer M", async () => {
  const { clock, fake, layer } = setup();
  const invite = makeRequest();
  const responses: string[] = [];
  const tx = layer.sendRequest(invite, BOB_UDP, {
    onResponse: (r) => responses.push(`${r.status}/${r.toTag}`),
  });
  clock.advance(T.t1); // one retransmission
  fake.inject(serialize(respond(invite, 200, "forkA")), BOB_ADDR);
  assert.equal(tx.state, "accepted");
  fake.inject(serialize(respond(invite, 200, "forkA")), BOB_ADDR);
  fake.inject(serialize(respond(invite, 200, "forkB")), BOB_ADDR);
  fake.inject(serialize(respond(invite, 180, "forkC")), BOB_ADDR); // ignored in Accepted
  assert.deepEqual(responses, ["200/forkA", "200/forkA", "200/forkB"]);
  assert.deepEqual(sentMethods(fake), ["INVITE", "INVITE"], "the TU sends the ACK for a 2xx");
  clock.advance(64 * T.t1);
  assert.deepEqual(await tx.done, { type: "normal" });
  assert.equal(fake.sent.length, 2);
  assert.equal(clock.pending, 0);
});

Deno.test("INVITE client reports a transport error to the TU (RFC 3261 §17.1.4)", async () => {
  const { clock, fake, layer } = setup();
  fake.failSends = true;
  const tx = layer.sendRequest(makeRequest(), BOB_UDP);
  const final = tx.response();
  await flush();
  const reason = await tx.done;
  assert.equal(reason.type, "transport-error");
  await assert.rejects(final, TransactionError);
  assert.equal(clock.pending, 0);
  assert.deepEqual(layer.counts(), { client: 0, server: 0 });
});

Deno.test("INVITE client Timer C restarts on each provisional and calls onTimerC", async () => {
  const { clock, fake, layer } = setup();
  const invite = makeRequest();
  let fired = 0;
  const tx = layer.sendRequest(invite, BOB_UDP, { timerC: 180_000, onTimerC: () => fired++ });
  clock.advance(10_000);
  fake.inject(serialize(respond(invite, 180)), BOB_ADDR);
  clock.advance(179_999);
  assert.equal(fired, 0, "the provisional restarted Timer C");
  clock.advance(1);
  assert.equal(fired, 1);
  assert.equal(tx.state, "proceeding");
  tx.terminate();
  assert.deepEqual(await tx.done, { type: "aborted" });
  assert.equal(clock.pending, 0);
});

Deno.test("INVITE client without onTimerC ends with a Timer C timeout", async () => {
  const { clock, fake, layer } = setup();
  const invite = makeRequest();
  const tx = layer.sendRequest(invite, BOB_UDP, { timerC: 180_000 });
  fake.inject(serialize(respond(invite, 183)), BOB_ADDR);
  clock.advance(180_000);
  assert.deepEqual(await tx.done, { type: "timeout", timer: "C" });
  assert.equal(clock.pending, 0);
});

Deno.test("INVITE client is destroyed 64*T1 after CANCEL when no final response arrives", async () => {
  const { clock, fake, layer } = setup();
  const invite = makeRequest();
  const tx = layer.sendRequest(invite, BOB_UDP) as InviteClientTransaction;
  fake.inject(serialize(respond(invite, 180)), BOB_ADDR);
  assert.equal(tx.hasProvisional, true);
  tx.cancelSent();
  clock.advance(64 * T.t1 - 1);
  assert.equal(tx.state, "proceeding");
  clock.advance(1);
  assert.deepEqual(await tx.done, { type: "timeout", timer: "CancelGuard" });
  assert.equal(clock.pending, 0);
});

Deno.test("INVITE client ignores responses once terminated", async () => {
  const { clock, fake, layer } = setup("tcp");
  const invite = makeRequest({ transport: "TCP" });
  const seen: number[] = [];
  const tx = layer.sendRequest(invite, BOB_TCP, { onResponse: (r) => seen.push(r.status) });
  fake.inject(serialize(respond(invite, 404)), BOB_ADDR);
  await tx.done;
  let stray = 0;
  layer.onStrayResponse = () => stray++;
  fake.inject(serialize(respond(invite, 404)), BOB_ADDR);
  assert.deepEqual(seen, [404]);
  assert.equal(stray, 1, "a response after termination is stray (RFC 3261 §18.1.2)");
  assert.equal(clock.pending, 0);
});
