import assert from "node:assert/strict";
import { CallFailedError, type DialogEnd } from "../../../../src/sip/dialog/mod.ts";
import {
  advance,
  CALL,
  labels,
  sdp,
  sentRequests,
  sentResponses,
  settle,
  T,
  wire,
} from "./_helpers.ts";

Deno.test("a call from UAC to UAS goes 180, 200, ACK and the UAC's BYE ends both sides", async () => {
  const w = wire();
  const { alice, bob } = w;
  const call = alice.ua.invite({ ...CALL, sdp: sdp("alice"), headers: [["X-Leg", "42"]] });
  await settle();
  const incoming = bob.calls[0];
  assert.ok(incoming);
  assert.equal(incoming.offer, sdp("alice"));
  assert.equal(incoming.request.headers.get("X-Leg"), "42");
  assert.ok(incoming.ring());
  await settle();
  assert.equal(call.state, "proceeding");
  const answered = incoming.answer(sdp("bob"));
  await settle();
  const aliceSession = await call.result;
  const bobSession = await answered;
  assert.equal(aliceSession.remoteSdp, sdp("bob"));
  assert.equal(bobSession.remoteSdp, sdp("alice"));
  assert.deepEqual(labels(alice.fake), ["INVITE", "ACK"]);
  assert.deepEqual(labels(bob.fake), ["180 INVITE", "200 INVITE"]);

  // RFC 3261 §12.1.1: one To tag for every response; §13.2.2.4: ACK with the INVITE's CSeq.
  const [ringing, ok] = bob.fake.messages();
  assert.equal(ringing.toTag, incoming.localTag);
  assert.equal(ok.toTag, incoming.localTag);
  const [invite, ack] = alice.fake.messages();
  assert.equal(ack.cseq.seq, invite.cseq.seq);
  assert.equal(ack.cseq.method, "ACK");
  assert.notEqual(ack.topVia?.branch, invite.topVia?.branch);
  assert.equal(ack.kind === "request" && ack.uri.kind === "sip" && ack.uri.user, "vb");
  assert.equal(invite.maxForwards, 70);
  assert.equal(invite.headers.get("Contact"), "<sip:vb@192.0.2.1:5060>");
  assert.deepEqual(invite.supported, ["timer"]);
  assert.equal(alice.ua.dialogCount, 1);
  assert.equal(bob.ua.dialogCount, 1);

  const ends: DialogEnd[] = [];
  bobSession.onEnded = (e) => ends.push(e);
  await aliceSession.bye();
  await settle();
  assert.equal((await aliceSession.ended).reason, "local_bye");
  assert.equal(ends[0]?.reason, "remote_bye");
  assert.equal(sentResponses(bob.fake, 200, "BYE").length, 1);
  assert.equal(alice.ua.dialogCount, 0);
  assert.equal(bob.ua.dialogCount, 0);
  assert.deepEqual(aliceSession.runningTimers(), []);
  assert.deepEqual(bobSession.runningTimers(), []);
  w.close();
  assert.equal(w.clock.pending, 0);
});

Deno.test("the UAS can hang up with BYE and the UAC sees remote_bye", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  const answered = w.bob.calls[0].answer(sdp("bob"));
  await settle();
  const [aliceSession, bobSession] = [await call.result, await answered];
  await bobSession.bye();
  await settle();
  assert.equal((await aliceSession.ended).reason, "remote_bye");
  assert.equal((await bobSession.ended).reason, "local_bye");
  const bye = sentRequests(w.bob.fake, "BYE")[0];
  // RFC 3261 §12.2.1.1: Bob's BYE targets Alice's Contact with the tags swapped.
  assert.equal(bye.uri.kind === "sip" && bye.uri.host, "192.0.2.1");
  assert.equal(bye.fromTag, w.bob.calls[0].localTag);
  assert.equal(bye.toTag, call.localTag);
  assert.equal(bye.cseq.seq, 1);
  w.close();
});

Deno.test("a 183 with SDP reaches the early media callback and creates an early dialog", async () => {
  const w = wire();
  const early: string[] = [];
  const provisional: number[] = [];
  const call = w.alice.ua.invite({
    ...CALL,
    sdp: sdp("alice"),
    onEarlyMedia: (body) => early.push(body),
    onProvisional: (r) => provisional.push(r.status),
  });
  await settle();
  const incoming = w.bob.calls[0];
  assert.ok(incoming.progress(sdp("bob-early")));
  await settle();
  assert.deepEqual(early, [sdp("bob-early")]);
  assert.deepEqual(provisional, [183]);
  assert.equal(incoming.state, "early");
  assert.equal(call.earlyDialogs.length, 1);
  assert.equal(call.earlyDialogs[0].remoteTag, incoming.localTag);
  const answered = incoming.answer(sdp("bob"));
  await settle();
  await answered;
  const session = await call.result;
  assert.equal(session.dialog.remoteTag, incoming.localTag);
  assert.equal(call.earlyDialogs.length, 0);
  w.close();
});

Deno.test("CANCEL during ringing gives 487 and cancelled on both sides", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  const incoming = w.bob.calls[0];
  const cancels: string[] = [];
  incoming.onCancelled = (r) => cancels.push(r.method);
  incoming.ring();
  await settle();
  call.cancel();
  await settle();
  await assert.rejects(
    call.result,
    (e) => e instanceof CallFailedError && e.reason === "cancelled",
  );
  assert.deepEqual(cancels, ["CANCEL"]);
  assert.equal(incoming.state, "cancelled");
  assert.deepEqual(labels(w.alice.fake), ["INVITE", "CANCEL", "ACK"]);
  assert.deepEqual(labels(w.bob.fake), ["180 INVITE", "200 CANCEL", "487 INVITE"]);
  assert.equal(w.bob.fake.messages()[2].toTag, incoming.localTag);
  await assert.rejects(incoming.answer(sdp("bob")));
  assert.equal(w.alice.ua.dialogCount, 0);
  assert.equal(w.bob.ua.dialogCount, 0);
  w.close();
});

Deno.test("cancel() before any provisional waits for one before sending CANCEL", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  call.cancel();
  await settle();
  assert.deepEqual(labels(w.alice.fake), ["INVITE"]); // RFC 3261 §9.1
  w.bob.calls[0].ring();
  await settle();
  await assert.rejects(
    call.result,
    (e) => e instanceof CallFailedError && e.reason === "cancelled",
  );
  assert.deepEqual(labels(w.alice.fake), ["INVITE", "CANCEL", "ACK"]);
  w.close();
});

Deno.test("an aborted signal cancels the call", async () => {
  const w = wire();
  const ac = new AbortController();
  const call = w.alice.ua.invite({ ...CALL, signal: ac.signal });
  await settle();
  w.bob.calls[0].ring();
  await settle();
  ac.abort();
  await settle();
  await assert.rejects(
    call.result,
    (e) => e instanceof CallFailedError && e.reason === "cancelled",
  );
  w.close();
});

Deno.test("each final failure status maps to its CDR reason", async () => {
  const cases: [number, string][] = [
    [486, "busy"],
    [480, "unavailable"],
    [404, "not_found"],
    [403, "forbidden"],
    [408, "timeout"],
    [487, "cancelled"],
    [488, "not_acceptable"],
    [503, "service_unavailable"],
    [603, "declined"],
    [500, "sip_500"],
    [302, "sip_302"],
  ];
  for (const [status, reason] of cases) {
    const w = wire();
    const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
    await settle();
    assert.ok(w.bob.calls[0].reject(status));
    await settle();
    await assert.rejects(
      call.result,
      (e) => e instanceof CallFailedError && e.reason === reason && e.status === status,
      `status ${status}`,
    );
    assert.equal(w.bob.calls[0].state, "rejected");
    assert.deepEqual(labels(w.alice.fake), ["INVITE", "ACK"]);
    assert.equal(w.bob.ua.dialogCount, 0);
    w.close();
  }
});

Deno.test("a UAC with challenges but no credentials fails with unauthorized", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL });
  await settle();
  w.bob.calls[0].reject(407, {
    headers: [["Proxy-Authenticate", 'Digest realm="x", nonce="n"']],
  });
  await settle();
  await assert.rejects(
    call.result,
    (e) => e instanceof CallFailedError && e.reason === "unauthorized",
  );
  w.close();
});

Deno.test("a transport failure makes the call fail with invite_failed", async () => {
  const w = wire();
  w.alice.fake.failSends = true;
  const call = w.alice.ua.invite({ ...CALL });
  await settle();
  await assert.rejects(
    call.result,
    (e) => e instanceof CallFailedError && e.reason === "invite_failed",
  );
  w.close();
});

Deno.test("without an onInvite handler a new INVITE is refused with 480", async () => {
  const w = wire({ bob: { onInvite: undefined } });
  w.bob.ua.onInvite = undefined;
  const call = w.alice.ua.invite({ ...CALL });
  await settle();
  await assert.rejects(
    call.result,
    (e) => e instanceof CallFailedError && e.reason === "unavailable",
  );
  w.close();
});

Deno.test("an outbound proxy becomes a loose Route and the destination of the INVITE", async () => {
  const w = wire();
  const proxied = w.alice.ua.invite({
    ...CALL,
    outboundProxy: { ...CALL.uri, user: undefined, host: "proxy.example.net", port: 5070 },
    headers: [["P-Asserted-Identity", "<sip:+15551234@example.net>"], ["Privacy", "id"]],
  });
  await settle();
  const sent = w.alice.fake.sent[0];
  assert.deepEqual(sent.to, { host: "proxy.example.net", port: 5070, transport: "udp" });
  const invite = sent.message!;
  assert.equal(invite.headers.get("Route"), "<sip:proxy.example.net:5070;lr>");
  assert.equal(
    invite.kind === "request" && invite.uri.kind === "sip" && invite.uri.host,
    "192.0.2.2",
  );
  assert.equal(invite.headers.get("Privacy"), "id");
  proxied.close();
  w.close();
});

Deno.test("an INVITE that is never answered fails with invite_failed after Timer B", async () => {
  const w = wire();
  w.alice.fake.drop = () => true;
  const call = w.alice.ua.invite({ ...CALL });
  const failed = assert.rejects(
    call.result,
    (e) => e instanceof CallFailedError && e.reason === "invite_failed" && e.status === undefined,
  );
  await settle(); // the INVITE leaves once its destination is resolved
  await advance(w.clock, 64 * T.t1, 500);
  await failed;
  assert.equal(sentRequests(w.alice.fake, "INVITE").length, 7); // Timer A: 0, .5, 1.5, 3.5 … 31.5 s
  w.close();
});

Deno.test("a BYE sent right after the answer never overtakes the ACK", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  void w.bob.calls[0].answer(sdp("bob"));
  const session = await call.result;
  const bye = session.bye();
  await settle();
  await bye;
  assert.deepEqual(labels(w.alice.fake), ["INVITE", "ACK", "BYE"]);
  assert.equal((await w.bob.calls[0].session!.ended).reason, "remote_bye");
  w.close();
});
