import assert from "node:assert/strict";
import { type DialogSession, type RemoteOffer, UserAgent } from "../../../../src/sip/dialog/mod.ts";
import { addVia } from "../../../../src/sip/dialog/requests.ts";
import { literalResolver } from "../../../../src/sip/dialog/routing.ts";
import { FakeTransport } from "../../../../src/sip/transport/mod.ts";
import { TransactionLayer } from "../../../../src/sip/transaction/mod.ts";
import {
  advance,
  CALL,
  FakeClock,
  label,
  labels,
  sdp,
  sentRequests,
  sentResponses,
  settle,
  T,
  wire,
  type Wired,
  type WireOptions,
} from "./_helpers.ts";

async function connected(
  options: WireOptions = {},
  headers: [string, string][] = [],
): Promise<Wired & { aliceSession: DialogSession; bobSession: DialogSession }> {
  const w = wire(options);
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice"), headers });
  await settle();
  const answered = w.bob.calls[0].answer(sdp("bob"));
  await settle();
  return { ...w, aliceSession: await call.result, bobSession: await answered };
}

Deno.test("a hold re-INVITE (sendonly) is offered to the peer and its answer comes back", async () => {
  const w = await connected();
  const offers: RemoteOffer[] = [];
  w.bobSession.onOffer = (offer) => {
    offers.push(offer);
    return { sdp: sdp("bob", "recvonly", 2) };
  };
  const result = await (async () => {
    const p = w.aliceSession.reinvite(sdp("alice", "sendonly", 2));
    await settle();
    return await p;
  })();
  assert.equal(offers.length, 1);
  assert.equal(offers[0].kind, "reinvite");
  assert.match(offers[0].sdp, /a=sendonly/);
  assert.equal(result.sdp, sdp("bob", "recvonly", 2));
  assert.equal(w.aliceSession.localSdp, sdp("alice", "sendonly", 2));
  assert.equal(w.aliceSession.remoteSdp, sdp("bob", "recvonly", 2));
  assert.equal(w.bobSession.remoteSdp, sdp("alice", "sendonly", 2));
  await settle();
  assert.deepEqual(labels(w.alice.fake), ["INVITE", "ACK", "INVITE", "ACK"]);
  const [, , reinvite, ack] = w.alice.fake.messages();
  assert.equal(reinvite.cseq.seq, 2);
  assert.equal(ack.cseq.seq, 2);
  assert.equal(reinvite.toTag, w.bob.calls[0].localTag);
  assert.deepEqual(w.bobSession.runningTimers().filter((t) => t.startsWith("2xx")), []);
  w.close();
});

Deno.test("a refused re-INVITE rejects and leaves the session as it was", async () => {
  const w = await connected();
  w.bobSession.onOffer = () => ({ status: 488 });
  const refused = assert.rejects(
    w.aliceSession.reinvite(sdp("alice", "sendonly", 2)),
    (e: Error & { reason?: string }) => e.reason === "not_acceptable",
  );
  await settle();
  await refused;
  assert.equal(w.aliceSession.state, "confirmed");
  assert.equal(w.aliceSession.localSdp, sdp("alice"));
  w.close();
});

Deno.test("re-INVITE glare: both get 491 and both succeed after the RFC 3261 §14.1 back-off", async () => {
  const w = await connected({ alice: { random: () => 0.5 }, bob: { random: () => 0.5 } });
  const a = w.aliceSession.reinvite(sdp("alice", "sendonly", 2));
  const b = w.bobSession.reinvite(sdp("bob", "sendonly", 2));
  await settle();
  assert.equal(sentResponses(w.alice.fake, 491).length, 1);
  assert.equal(sentResponses(w.bob.fake, 491).length, 1);
  // Bob (not the Call-ID owner) retries after 0–2 s: 1000 ms with random 0.5.
  await advance(w.clock, 1000);
  assert.equal(sentRequests(w.bob.fake, "INVITE").length, 2);
  assert.equal(sentRequests(w.alice.fake, "INVITE").length, 2);
  // Alice (the owner) retries after 2.1–4 s: 3050 ms.
  await advance(w.clock, 2000);
  assert.equal(sentRequests(w.alice.fake, "INVITE").length, 2);
  await advance(w.clock, 100);
  assert.equal(sentRequests(w.alice.fake, "INVITE").length, 3);
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ra.response.status, 200);
  assert.equal(rb.response.status, 200);
  assert.equal(w.aliceSession.localSdp, sdp("alice", "sendonly", 2));
  assert.equal(w.bobSession.localSdp, sdp("bob", "sendonly", 2));
  w.close();
});

Deno.test("a second re-INVITE while one is in progress is refused locally", async () => {
  const w = await connected();
  const first = w.aliceSession.reinvite(sdp("alice", "sendonly", 2));
  await assert.rejects(w.aliceSession.reinvite(sdp("alice", "inactive", 3)), /in progress/);
  await settle();
  await first;
  w.close();
});

Deno.test("UPDATE carries an offer (RFC 3311) and, without SDP, refreshes the session", async () => {
  const w = await connected();
  const offers: RemoteOffer[] = [];
  w.bobSession.onOffer = (offer) => {
    offers.push(offer);
    return { sdp: sdp("bob", "sendrecv", 5) };
  };
  const p = w.aliceSession.update({ sdp: sdp("alice", "sendrecv", 5) });
  await settle();
  const r = await p;
  assert.equal(offers[0]?.kind, "update");
  assert.equal(r.sdp, sdp("bob", "sendrecv", 5));
  assert.equal(w.aliceSession.remoteSdp, sdp("bob", "sendrecv", 5));
  const bare = w.aliceSession.update();
  await settle();
  assert.equal((await bare).response.status, 200);
  assert.equal(offers.length, 1);
  const updates = sentRequests(w.alice.fake, "UPDATE");
  assert.equal(updates.length, 2);
  assert.equal(updates[1].body.length, 0);
  assert.ok(updates[0].headers.has("Contact")); // a target refresh request
  w.close();
});

Deno.test("INFO is delivered to the peer and answered 200", async () => {
  const w = await connected();
  const got: string[] = [];
  w.bobSession.onInfo = (r) => got.push(`${r.headers.get("Content-Type")}|${r.bodyText}`);
  const p = w.aliceSession.info("Signal=5\r\nDuration=160\r\n", "application/dtmf-relay");
  await settle();
  assert.equal((await p).response.status, 200);
  assert.deepEqual(got, ["application/dtmf-relay|Signal=5\r\nDuration=160\r\n"]);
  w.close();
});

Deno.test("OPTIONS inside a dialog is answered 200 with Allow", async () => {
  const w = await connected();
  const p = w.aliceSession.request("OPTIONS");
  await settle();
  const r = await p;
  assert.equal(r.response.status, 200);
  assert.match(r.response.headers.get("Allow") ?? "", /UPDATE/);
  w.close();
});

Deno.test("a request whose CSeq goes backwards is refused with 500", async () => {
  const w = await connected();
  const info = w.aliceSession.info("x", "text/plain");
  await settle();
  await info; // Bob's remote CSeq is now 2
  const { request } = w.aliceSession.dialog.buildRequest("INFO", { cseq: 1 });
  addVia(request, literalResolver(CALL.uri), w.alice.fake.local);
  const tx = w.alice.layer.sendRequest(request, literalResolver(CALL.uri));
  await settle();
  assert.equal((await tx.response()).status, 500);
  assert.equal(w.bobSession.state, "confirmed");
  w.close();
});

Deno.test("Record-Route makes a route set: reversed for the UAC, in order for the UAS", async () => {
  const rr = "<sip:p1.example.com;lr>, <sip:p2.example.com:5080;lr>";
  const w = await connected({}, [["Record-Route", rr]]);
  const ok = sentResponses(w.bob.fake, 200, "INVITE")[0];
  assert.deepEqual(ok.headers.getAll("Record-Route"), [
    "<sip:p1.example.com;lr>",
    "<sip:p2.example.com:5080;lr>",
  ]);
  const aliceInfo = w.aliceSession.info("a", "text/plain");
  const bobInfo = w.bobSession.info("b", "text/plain");
  await settle();
  await Promise.all([aliceInfo, bobInfo]);
  const fromAlice = w.alice.fake.sent.filter((r) =>
    r.message?.kind === "request" && r.message.method !== "INVITE"
  );
  assert.deepEqual(fromAlice.map((r) => label(r.message!)), ["ACK", "INFO"]);
  for (const sent of fromAlice) {
    const m = sent.message!;
    assert.deepEqual(m.headers.getAll("Route"), [
      "<sip:p2.example.com:5080;lr>",
      "<sip:p1.example.com;lr>",
    ]);
    assert.equal(m.kind === "request" && m.uri.kind === "sip" && m.uri.host, "192.0.2.2");
    assert.deepEqual(sent.to, { host: "p2.example.com", port: 5080, transport: "udp" });
  }
  const bobSent = w.bob.fake.sent.find((r) =>
    r.message?.kind === "request" && r.message.method === "INFO"
  )!;
  assert.deepEqual(bobSent.message!.headers.getAll("Route"), [
    "<sip:p1.example.com;lr>",
    "<sip:p2.example.com:5080;lr>",
  ]);
  const bobUri = bobSent.message!.kind === "request" ? bobSent.message!.uri : undefined;
  assert.equal(bobUri?.kind === "sip" && `${bobUri.user}@${bobUri.host}`, "vb@192.0.2.1");
  assert.deepEqual(bobSent.to, { host: "p1.example.com", port: 5060, transport: "udp" });
  w.close();
});

// ---- outside any dialog ----

function lone() {
  const clock = new FakeClock();
  const fake = new FakeTransport({ local: { host: "192.0.2.2", port: 5060 } });
  const layer = new TransactionLayer(fake, { timers: T, clock });
  const ua = new UserAgent({ transactions: layer, localFor: () => fake.local, clock });
  return {
    fake,
    inject(method: string, extra: { toTag?: string; headers?: string } = {}) {
      const to = extra.toTag ? `<sip:bob@192.0.2.2>;tag=${extra.toTag}` : "<sip:bob@192.0.2.2>";
      fake.inject(
        [
          `${method} sip:bob@192.0.2.2 SIP/2.0`,
          `Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK${method}${extra.toTag ?? ""}`,
          "Max-Forwards: 70",
          "From: <sip:alice@192.0.2.1>;tag=f1",
          `To: ${to}`,
          "Call-ID: lone-call",
          `CSeq: 7 ${method === "ACK" ? "ACK" : method}`,
          ...(extra.headers ? [extra.headers] : []),
          "Content-Length: 0",
          "",
          "",
        ].join("\r\n"),
        { host: "192.0.2.1", port: 5060 },
      );
    },
    close() {
      ua.close();
      layer.close();
    },
  };
}

Deno.test("a request with a To tag matching no dialog gets 481 (RFC 3261 §12.2.2)", () => {
  const l = lone();
  l.inject("BYE", { toTag: "nope" });
  l.inject("INFO", { toTag: "nope" });
  l.inject("INVITE", { toTag: "nope" });
  assert.deepEqual(labels(l.fake), ["481 BYE", "481 INFO", "481 INVITE"]);
  l.close();
});

Deno.test("a BYE outside any dialog gets 481 with a To tag of ours", () => {
  const l = lone();
  l.inject("BYE");
  const [r] = l.fake.messages();
  assert.equal(r.kind === "response" && r.status, 481);
  assert.ok(r.toTag);
  l.close();
});

Deno.test("an ACK matching no dialog is dropped without a response", () => {
  const l = lone();
  l.inject("ACK", { toTag: "nope" });
  l.inject("ACK");
  assert.deepEqual(labels(l.fake), []);
  l.close();
});

Deno.test("out-of-dialog OPTIONS is 200, MESSAGE 405, an unknown method 501, Require: 100rel 420", () => {
  const l = lone();
  l.inject("OPTIONS");
  l.inject("MESSAGE");
  l.inject("FOO");
  l.inject("INVITE", { headers: "Require: 100rel" });
  assert.deepEqual(labels(l.fake), ["200 OPTIONS", "405 MESSAGE", "501 FOO", "420 INVITE"]);
  assert.equal(l.fake.messages()[3].headers.get("Unsupported"), "100rel");
  l.close();
});

Deno.test("an in-dialog request to a closed session's tags gets 481", async () => {
  const w = await connected();
  w.bobSession.close();
  const refused = assert.rejects(
    w.aliceSession.info("x", "text/plain"),
    (e: Error & { status?: number }) => e.status === 481,
  );
  await settle();
  await refused;
  // RFC 3261 §12.2.1.2: a 481 ends the dialog for the sender too.
  assert.equal((await w.aliceSession.ended).reason, "request_failed");
  w.close();
});
