import assert from "node:assert/strict";
import { CallFailedError, type DialogEnd } from "../../../../src/sip/dialog/mod.ts";
import { advance, CALL, sdp, sentRequests, sentResponses, settle, T, wire } from "./_helpers.ts";

Deno.test("the UAS re-sends its 2xx with T1 doubling to T2 while the ACK is lost, and the UAC re-ACKs each", async () => {
  const w = wire();
  // Lose every ACK Alice sends.
  w.alice.fake.drop = (r) => r.message?.kind === "request" && r.message.method === "ACK";
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  const answered = w.bob.calls[0].answer(sdp("bob"));
  await settle();
  const aliceSession = await call.result;
  const times: number[] = [];
  let seen = sentResponses(w.bob.fake, 200, "INVITE").length;
  for (let t = 0; t < 64 * T.t1 - 100; t += 100) {
    await advance(w.clock, 100);
    const now = sentResponses(w.bob.fake, 200, "INVITE").length;
    if (now > seen) times.push(w.clock.now);
    seen = now;
  }
  // RFC 3261 §13.3.1.4: T1, 2·T1, 4·T1 … capped at T2, measured from the first 2xx at 0.
  assert.deepEqual(times, [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  // §13.2.2.4: every retransmitted 2xx gets the same ACK again.
  const acks = sentRequests(w.alice.fake, "ACK");
  assert.equal(acks.length, 11);
  assert.ok(acks.every((a) => a.topVia?.branch === acks[0].topVia?.branch));
  assert.equal(aliceSession.state, "confirmed");
  w.close();
  await assert.rejects(answered);
});

Deno.test("without an ACK after 64·T1 the UAS sends BYE and the answer fails", async () => {
  const w = wire();
  w.alice.fake.drop = (r) => r.message?.kind === "request" && r.message.method === "ACK";
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  const incoming = w.bob.calls[0];
  const answered = incoming.answer(sdp("bob"));
  await settle();
  const aliceSession = await call.result;
  const aliceEnds: DialogEnd[] = [];
  aliceSession.onEnded = (e) => aliceEnds.push(e);
  await advance(w.clock, 64 * T.t1 - 100);
  assert.equal(sentRequests(w.bob.fake, "BYE").length, 0);
  await advance(w.clock, 100);
  assert.equal(sentRequests(w.bob.fake, "BYE").length, 1);
  await assert.rejects(
    answered,
    (e) => e instanceof CallFailedError && e.reason === "invite_failed",
  );
  const bobSession = incoming.session!;
  assert.equal((await bobSession.ended).reason, "ack_timeout");
  assert.deepEqual(aliceEnds.map((e) => e.reason), ["remote_bye"]);
  assert.equal(w.bob.ua.dialogCount, 0);
  assert.deepEqual(bobSession.runningTimers(), []);
  w.close();
  assert.equal(w.clock.pending, 0);
});

Deno.test("a BYE asked for before the ACK waits for it (RFC 3261 §15)", async () => {
  const w = wire();
  let holdAck = true;
  const held: Uint8Array[] = [];
  w.alice.fake.drop = (r) => {
    if (holdAck && r.message?.kind === "request" && r.message.method === "ACK") {
      held.push(r.bytes);
      return true;
    }
    return false;
  };
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  const answered = w.bob.calls[0].answer(sdp("bob"));
  await settle();
  await call.result;
  const bobSession = w.bob.calls[0].session!;
  const bye = bobSession.bye();
  await settle();
  assert.equal(sentRequests(w.bob.fake, "BYE").length, 0);
  holdAck = false;
  w.bob.fake.inject(held[0], w.alice.fake.local);
  await settle();
  await answered;
  await bye;
  assert.equal(sentRequests(w.bob.fake, "BYE").length, 1);
  assert.equal((await bobSession.ended).reason, "local_bye");
  w.close();
});

Deno.test("a BYE that overtakes a lost ACK ends the answered call as remote_bye and stops the 2xx", async () => {
  const w = wire();
  // Alice's ACK is lost; she hangs up before Bob's first 2xx retransmission draws another.
  w.alice.fake.drop = (r) => r.message?.kind === "request" && r.message.method === "ACK";
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  const incoming = w.bob.calls[0];
  const answered = incoming.answer(sdp("bob"));
  await settle();
  const aliceSession = await call.result;
  await aliceSession.bye();
  const bobSession = await answered;
  assert.equal(bobSession, incoming.session, "the answer resolves with the session");
  const end = await bobSession.ended;
  assert.equal(end.reason, "remote_bye");
  assert.equal(bobSession.state, "terminated");
  assert.deepEqual(bobSession.runningTimers(), [], "no 2xx retransmission left running");
  const sent = sentResponses(w.bob.fake, 200, "INVITE").length;
  await advance(w.clock, 64 * T.t1);
  assert.equal(sentResponses(w.bob.fake, 200, "INVITE").length, sent, "the 2xx is not re-sent");
  assert.equal(sentRequests(w.bob.fake, "BYE").length, 0, "Bob sends no BYE of his own");
  assert.deepEqual(sentResponses(w.bob.fake, 200, "BYE").length, 1);
  assert.equal(w.bob.ua.dialogCount, 0);
  w.close();
});
