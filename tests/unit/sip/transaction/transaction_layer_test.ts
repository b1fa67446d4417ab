import assert from "node:assert/strict";
import { serialize, type SipResponse } from "../../../../src/sip/message/mod.ts";
import { FakeTransport, fakeTransportPair } from "../../../../src/sip/transport/mod.ts";
import {
  buildCancel,
  type IncomingRequest,
  type InviteServerTransaction,
  NonInviteServerTransaction,
  type SipTimers,
  TransactionLayer,
} from "../../../../src/sip/transaction/mod.ts";
import {
  ALICE_ADDR,
  BOB_ADDR,
  BOB_UDP,
  FakeClock,
  flush,
  makeRequest,
  request,
  respond,
} from "./_helpers.ts";

const T: SipTimers = { t1: 500, t2: 4000, t4: 5000 };

function server(options: { handleCancel?: boolean; useSourceSocket?: boolean } = {}) {
  const clock = new FakeClock();
  const fake = new FakeTransport({ local: { host: "192.0.2.2", port: 5060 } });
  const incoming: IncomingRequest[] = [];
  const layer = new TransactionLayer(fake, {
    timers: T,
    clock,
    onRequest: (i) => incoming.push(i),
    ...options,
  });
  return { clock, fake, layer, incoming };
}

function statuses(fake: FakeTransport): string[] {
  return fake.messages().map((m) =>
    m.kind === "response" ? `${m.status} ${m.cseq.method}` : m.method
  );
}

Deno.test("TransactionLayer matches responses by branch and CSeq method (CANCEL vs INVITE)", () => {
  const clock = new FakeClock();
  const fake = new FakeTransport();
  const layer = new TransactionLayer(fake, { timers: T, clock });
  const invite = makeRequest();
  const seen: string[] = [];
  const inviteTx = layer.sendRequest(invite, BOB_UDP, {
    onResponse: (r) => seen.push(`invite ${r.status}`),
  });
  fake.inject(serialize(respond(invite, 180)), BOB_ADDR);
  const cancel = buildCancel(invite);
  assert.equal(cancel.topVia?.branch, invite.topVia?.branch);
  const cancelTx = layer.sendRequest(cancel, BOB_UDP, {
    onResponse: (r) => seen.push(`cancel ${r.status}`),
  });
  assert.deepEqual(layer.counts(), { client: 2, server: 0 });
  fake.inject(serialize(respond(cancel, 200)), BOB_ADDR);
  fake.inject(serialize(respond(invite, 487)), BOB_ADDR);
  assert.deepEqual(seen, ["invite 180", "cancel 200", "invite 487"]);
  assert.equal(cancelTx.state, "completed");
  assert.equal(inviteTx.state, "completed");
  layer.close();
  assert.equal(clock.pending, 0);
});

Deno.test("TransactionLayer matches requests by branch, sent-by and method", () => {
  const { fake, layer, incoming } = server();
  fake.inject(serialize(makeRequest({ method: "OPTIONS" })), ALICE_ADDR);
  fake.inject(serialize(makeRequest({ method: "OPTIONS" })), ALICE_ADDR); // retransmission
  // Same branch from another client (different sent-by): a different transaction.
  fake.inject(serialize(makeRequest({ method: "OPTIONS", sentBy: "192.0.2.9:5060" })), ALICE_ADDR);
  // sent-by without a port matches the default port.
  fake.inject(serialize(makeRequest({ method: "OPTIONS", sentBy: "192.0.2.1" })), ALICE_ADDR);
  // Same branch and sent-by, another method: a different transaction.
  fake.inject(serialize(makeRequest({ method: "INFO" })), ALICE_ADDR);
  assert.equal(incoming.length, 3);
  assert.deepEqual(layer.counts(), { client: 0, server: 3 });
  layer.close();
  assert.deepEqual(layer.counts(), { client: 0, server: 0 });
});

Deno.test("TransactionLayer answers CANCEL with 200 and the INVITE with 487, then absorbs its ACK", async () => {
  const { clock, fake, layer, incoming } = server();
  const invite = makeRequest();
  fake.inject(serialize(invite), ALICE_ADDR);
  const tx = incoming[0].transaction as InviteServerTransaction;
  const cancelled: string[] = [];
  tx.onCancel = (c) => cancelled.push(c.method);
  tx.respond(respond(invite, 180, "uas-tag"));
  fake.inject(serialize(buildCancel(invite)), ALICE_ADDR);
  assert.deepEqual(cancelled, ["CANCEL"]);
  assert.equal(tx.cancelled, true);
  assert.deepEqual(statuses(fake), ["180 INVITE", "200 CANCEL", "487 INVITE"]);
  const r487 = fake.messages().at(-1) as SipResponse;
  assert.equal(r487.toTag, "uas-tag", "the 487 keeps the To tag of the early response");
  assert.equal(incoming.length, 1, "the CANCEL is answered by the layer");
  const ack = makeRequest({ method: "ACK" });
  ack.headers.set("To", r487.headers.get("To")!);
  fake.inject(serialize(ack), ALICE_ADDR);
  assert.equal(tx.state, "confirmed");
  assert.equal(incoming.length, 1);
  clock.advance(64 * T.t1);
  assert.deepEqual(await tx.done, { type: "normal" });
  assert.deepEqual(layer.counts(), { client: 0, server: 0 });
  assert.equal(clock.pending, 0);
});

Deno.test("TransactionLayer answers a CANCEL matching no INVITE with 481", () => {
  const { fake, layer, incoming } = server();
  fake.inject(serialize(buildCancel(makeRequest())), ALICE_ADDR);
  assert.deepEqual(statuses(fake), ["481 CANCEL"]);
  assert.equal(incoming.length, 0);
  layer.close();
});

Deno.test("TransactionLayer answers CANCEL after the final response with 200 and no 487", () => {
  const { fake, layer, incoming } = server();
  const invite = makeRequest();
  fake.inject(serialize(invite), ALICE_ADDR);
  (incoming[0].transaction as InviteServerTransaction).respond(respond(invite, 486));
  fake.inject(serialize(buildCancel(invite)), ALICE_ADDR);
  assert.deepEqual(statuses(fake), ["486 INVITE", "200 CANCEL"]);
  layer.close();
});

Deno.test("TransactionLayer hands a CANCEL to the TU with its INVITE when handleCancel is false", () => {
  const { fake, layer, incoming } = server({ handleCancel: false });
  const invite = makeRequest();
  fake.inject(serialize(invite), ALICE_ADDR);
  fake.inject(serialize(buildCancel(invite)), ALICE_ADDR);
  assert.equal(incoming.length, 2);
  const c = incoming[1];
  assert.equal(c.request.method, "CANCEL");
  assert.ok(c.transaction instanceof NonInviteServerTransaction);
  assert.equal(c.invite, incoming[0].transaction);
  assert.equal(fake.sent.length, 0);
  layer.close();
});

Deno.test("TransactionLayer passes an ACK for a 2xx to the TU without a transaction", () => {
  const { fake, layer, incoming } = server();
  const invite = makeRequest();
  fake.inject(serialize(invite), ALICE_ADDR);
  const tx = incoming[0].transaction as InviteServerTransaction;
  tx.respond(respond(invite, 200));
  // RFC 3261 §13.2.2.4: the 2xx ACK is a new transaction with its own branch.
  const ack = makeRequest({ method: "ACK", branch: "z9hG4bKack2xx" });
  fake.inject(serialize(ack), ALICE_ADDR);
  assert.equal(incoming.length, 2);
  assert.equal(incoming[1].request.method, "ACK");
  assert.equal(incoming[1].transaction, undefined);
  // An ACK reusing the INVITE's branch (RFC 6026 Accepted) also reaches the TU, with the INVITE.
  fake.inject(serialize(makeRequest({ method: "ACK" })), ALICE_ADDR);
  assert.equal(incoming.length, 3);
  assert.equal(incoming[2].invite, tx);
  assert.deepEqual(layer.counts(), { client: 0, server: 1 });
  layer.close();
});

Deno.test("TransactionLayer passes responses matching no transaction to the TU as stray", () => {
  const { fake, layer } = server();
  const strays: number[] = [];
  layer.onStrayResponse = (r) => strays.push(r.status);
  fake.inject(serialize(respond(makeRequest(), 200)), BOB_ADDR);
  assert.deepEqual(strays, [200]);
  layer.close();
});

Deno.test("TransactionLayer matches RFC 2543 requests that lack a magic-cookie branch", () => {
  const { clock, fake, layer, incoming } = server();
  const invite = request(`INVITE sip:bob@192.0.2.2 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: old-1
CSeq: 7 INVITE
Content-Length: 0

`);
  fake.inject(serialize(invite), ALICE_ADDR);
  fake.inject(serialize(invite), ALICE_ADDR);
  assert.equal(incoming.length, 1, "the retransmission matched");
  const tx = incoming[0].transaction as InviteServerTransaction;
  const reject = respond(invite, 603, "b9");
  tx.respond(reject);
  const ack = request(`ACK sip:bob@192.0.2.2 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>;tag=b9
Call-ID: old-1
CSeq: 7 ACK
Content-Length: 0

`);
  fake.inject(serialize(ack), ALICE_ADDR);
  assert.equal(tx.state, "confirmed");
  assert.equal(incoming.length, 1);
  layer.close();
  assert.equal(clock.pending, 0);
});

Deno.test("client and server transactions over a fake transport pair complete an INVITE despite loss", async () => {
  const clock = new FakeClock();
  const [a, b] = fakeTransportPair();
  let lost = 0;
  // Lose the first INVITE and the first 486 on the way.
  a.drop = (r) => r.message?.kind === "request" && r.message.method === "INVITE" && lost++ === 0;
  b.drop = (r) => r.message?.kind === "response" && r.message.status === 486 && lost++ === 1;
  const uac = new TransactionLayer(a, { timers: T, clock });
  const uas = new TransactionLayer(b, {
    timers: T,
    clock,
    onRequest: ({ request: req, transaction }) => transaction?.respond(respond(req, 486)),
  });
  const tx = uac.sendRequest(makeRequest(), { host: "192.0.2.2", port: 5060, transport: "udp" });
  const final = tx.response();
  await flush();
  clock.advance(T.t1); // Timer A: the INVITE again, answered with a 486 that is lost
  await flush();
  assert.equal(uas.counts().server, 1);
  clock.advance(T.t1); // Timer G re-sends the 486
  await flush();
  assert.equal((await final).status, 486);
  await flush();
  const uasTx = uas.serverTransactions()[0];
  assert.equal(uasTx.state, "confirmed", "the ACK generated by the client reached the server");
  clock.advance(64 * T.t1);
  assert.deepEqual(await tx.done, { type: "normal" });
  assert.deepEqual(await uasTx.done, { type: "normal" });
  assert.deepEqual(uac.counts(), { client: 0, server: 0 });
  assert.deepEqual(uas.counts(), { client: 0, server: 0 });
  assert.equal(clock.pending, 0);
});

Deno.test("TransactionLayer counts return to zero after 1000 transactions", async () => {
  const clock = new FakeClock();
  const [a, b] = fakeTransportPair();
  const uac = new TransactionLayer(a, { timers: T, clock });
  const uas = new TransactionLayer(b, {
    timers: T,
    clock,
    onRequest: ({ request: req, transaction }) => transaction?.respond(respond(req, 200)),
  });
  const pending = [];
  for (let i = 0; i < 1000; i++) {
    const req = makeRequest({ method: "OPTIONS", branch: `z9hG4bKmany${i}`, cseq: i + 1 });
    pending.push(uac.sendRequest(req, BOB_UDP).response());
  }
  await flush(50);
  assert.equal((await Promise.all(pending)).every((r) => r.status === 200), true);
  assert.deepEqual(uac.counts(), { client: 1000, server: 0 });
  assert.deepEqual(uas.counts(), { client: 0, server: 1000 });
  clock.advance(64 * T.t1);
  assert.deepEqual(uac.counts(), { client: 0, server: 0 });
  assert.deepEqual(uas.counts(), { client: 0, server: 0 });
  assert.equal(clock.pending, 0);
});

Deno.test("TransactionLayer close() terminates every transaction and is idempotent", async () => {
  const { clock, fake, layer, incoming } = server();
  fake.inject(serialize(makeRequest()), ALICE_ADDR);
  const client = layer.sendRequest(
    makeRequest({ method: "OPTIONS", branch: "z9hG4bKc1" }),
    BOB_UDP,
  );
  const final = client.response();
  assert.ok(clock.pending > 0);
  layer.close();
  layer.close();
  assert.equal(clock.pending, 0);
  assert.deepEqual(await client.done, { type: "aborted" });
  assert.deepEqual(await incoming[0].transaction!.done, { type: "aborted" });
  await assert.rejects(final);
  assert.throws(() => layer.sendRequest(makeRequest({ method: "OPTIONS" }), BOB_UDP));
  fake.inject(serialize(makeRequest({ method: "OPTIONS", branch: "z9hG4bKlate" })), ALICE_ADDR);
  assert.equal(incoming.length, 1, "nothing is received after close");
});

Deno.test("sendRequest() refuses ACK, a request without a branch and a branch in use", () => {
  const clock = new FakeClock();
  const layer = new TransactionLayer(new FakeTransport(), { timers: T, clock });
  assert.throws(() => layer.sendRequest(makeRequest({ method: "ACK" }), BOB_UDP), TypeError);
  const noBranch = request(`OPTIONS sip:bob@192.0.2.2 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: nb-1
CSeq: 1 OPTIONS
Content-Length: 0

`);
  assert.throws(() => layer.sendRequest(noBranch, BOB_UDP), TypeError);
  layer.sendRequest(makeRequest({ method: "OPTIONS" }), BOB_UDP);
  assert.throws(() => layer.sendRequest(makeRequest({ method: "OPTIONS" }), BOB_UDP), Error);
  layer.close();
});

Deno.test("TransactionLayer answers 501 when no TU handler is set and survives a throwing TU", () => {
  const clock = new FakeClock();
  const fake = new FakeTransport();
  const layer = new TransactionLayer(fake, { timers: T, clock });
  fake.inject(serialize(makeRequest({ method: "MESSAGE" })), ALICE_ADDR);
  assert.deepEqual(statuses(fake), ["501 MESSAGE"]);
  layer.onRequest = () => {
    throw new Error("TU bug");
  };
  fake.inject(serialize(makeRequest({ method: "OPTIONS", branch: "z9hG4bKthrow" })), ALICE_ADDR);
  layer.onRequest = ({ request: req, transaction }) => transaction?.respond(respond(req, 200));
  fake.inject(serialize(makeRequest({ method: "OPTIONS", branch: "z9hG4bKafter" })), ALICE_ADDR);
  assert.deepEqual(statuses(fake), ["501 MESSAGE", "200 OPTIONS"]);
  layer.close();
});

Deno.test("responses follow received/rport, and SIP_USE_SOURCE_SOCKET sends them to the source", () => {
  const from = { host: "198.51.100.7", port: 40000 };
  const cases: [string, boolean, { host: string; port: number }][] = [
    ["10.0.0.9:5070", false, { host: "198.51.100.7", port: 5070 }], // §18.2.2 received + sent-by port
    ["10.0.0.9:5070;rport", false, { host: "198.51.100.7", port: 40000 }], // RFC 3581 §4
    ["10.0.0.9:5070", true, { host: "198.51.100.7", port: 40000 }], // SIP_USE_SOURCE_SOCKET
    ["198.51.100.7", false, { host: "198.51.100.7", port: 5060 }], // sent-by, default port
  ];
  for (const [sentBy, useSourceSocket, expected] of cases) {
    const { fake, layer, incoming } = server({ useSourceSocket });
    const [host, ...params] = sentBy.split(";");
    const req = makeRequest({ method: "OPTIONS", sentBy: host });
    if (params.length) req.headers.set("Via", `${req.headers.get("Via")};${params.join(";")}`);
    fake.inject(serialize(req), from);
    incoming[0].transaction!.respond(respond(req, 200));
    assert.deepEqual(fake.sent[0].to, { ...expected, transport: "udp" }, sentBy);
    layer.close();
  }
});

Deno.test("transactions on the real clock with shrunk timers leave no timer behind", async () => {
  const [a, b] = fakeTransportPair();
  const small: SipTimers = { t1: 2, t2: 16, t4: 20 };
  const uac = new TransactionLayer(a, { timers: small });
  const served: Promise<unknown>[] = [];
  const uas = new TransactionLayer(b, {
    timers: small,
    tryingDelayMs: 5,
    onRequest: ({ request: req, transaction }) => {
      if (req.method !== "INVITE" || !transaction) return; // OPTIONS stays unanswered
      served.push(transaction.done);
      setTimeout(() => transaction.respond(respond(req, 480)), 20);
    },
  });
  const invite = uac.sendRequest(makeRequest(), BOB_UDP);
  assert.equal((await invite.response()).status, 480);
  const options = uac.sendRequest(makeRequest({ method: "OPTIONS", branch: "z9hG4bKo" }), BOB_UDP);
  assert.deepEqual(await options.done, { type: "timeout", timer: "F" });
  assert.deepEqual(await invite.done, { type: "normal" });
  assert.deepEqual(await Promise.all(served), [{ type: "normal" }]);
  assert.deepEqual(uac.counts(), { client: 0, server: 0 });
  assert.deepEqual(uas.counts(), { client: 0, server: 1 }, "the unanswered OPTIONS");
  uac.close();
  uas.close();
  assert.deepEqual(uas.counts(), { client: 0, server: 0 });
});
