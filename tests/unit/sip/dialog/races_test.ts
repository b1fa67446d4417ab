import assert from "node:assert/strict";
import { CallFailedError } from "../../../../src/sip/dialog/mod.ts";
import { addVia } from "../../../../src/sip/dialog/requests.ts";
import { serialize } from "../../../../src/sip/message/mod.ts";
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

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("a 2xx retransmitted after the INVITE transaction ended is ACKed again by the dialog", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  const answered = w.bob.calls[0].answer(sdp("bob"));
  await settle();
  await Promise.all([call.result, answered]);
  await advance(w.clock, 64 * T.t1 + 1000, 1000); // Timer M has ended Alice's transaction
  assert.equal(w.alice.layer.counts().client, 0);
  const ok = w.bob.fake.sent.find((r) => r.message?.kind === "response")!;
  w.alice.fake.inject(ok.bytes, w.bob.fake.local);
  await settle();
  const acks = sentRequests(w.alice.fake, "ACK");
  assert.equal(acks.length, 2);
  assert.equal(acks[1].topVia?.branch, acks[0].topVia?.branch);
  w.close();
});

Deno.test("a second fork's 2xx is ACKed and then ended with BYE (RFC 3261 §13.2.2.4)", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  const incoming = w.bob.calls[0];
  const answered = incoming.answer(sdp("bob"));
  await settle();
  const session = await call.result;
  await answered;
  // The same 200 from another fork: another To tag.
  const ok = decoder.decode(w.bob.fake.sent.find((r) => r.message?.kind === "response")!.bytes);
  const fork = ok.replace(`tag=${incoming.localTag}`, "tag=forked1");
  w.alice.fake.inject(encoder.encode(fork), w.bob.fake.local);
  await settle();
  const acks = sentRequests(w.alice.fake, "ACK");
  assert.deepEqual(acks.map((a) => a.toTag), [incoming.localTag, "forked1"]);
  const byes = sentRequests(w.alice.fake, "BYE");
  assert.deepEqual(byes.map((b) => b.toTag), ["forked1"]);
  assert.equal(session.state, "confirmed");
  w.close();
});

Deno.test("a CANCEL crossing the 2xx ends the call: ACK, BYE and a cancelled result", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  const incoming = w.bob.calls[0];
  incoming.ring();
  await settle();
  const answered = incoming.answer(sdp("bob"));
  call.cancel(); // the 200 is already on its way
  await settle();
  await assert.rejects(
    call.result,
    (e) => e instanceof CallFailedError && e.reason === "cancelled",
  );
  await answered;
  await settle();
  assert.deepEqual(labels(w.alice.fake), ["INVITE", "CANCEL", "ACK", "BYE"]);
  assert.equal(sentResponses(w.bob.fake, 487).length, 0);
  assert.equal((await incoming.session!.ended).reason, "remote_bye");
  assert.equal(incoming.state, "answered");
  w.close();
});

Deno.test("a BYE in the early dialog gets 200, the INVITE 487, and the call is cancelled", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  const incoming = w.bob.calls[0];
  const cancelled: string[] = [];
  incoming.onCancelled = (r) => cancelled.push(r.method);
  incoming.ring();
  await settle();
  const { request: bye } = call.earlyDialogs[0].buildRequest("BYE");
  const to = { host: "192.0.2.2", port: 5060, transport: "udp" } as const;
  addVia(bye, to, w.alice.fake.local);
  w.alice.fake.send(serialize(bye), to);
  await settle();
  assert.deepEqual(cancelled, ["BYE"]);
  assert.deepEqual(labels(w.bob.fake), ["180 INVITE", "200 BYE", "487 INVITE"]);
  await assert.rejects(
    call.result,
    (e) => e instanceof CallFailedError && e.reason === "cancelled",
  );
  w.close();
});

Deno.test("closing the user agents clears every timer and fails what is pending", async () => {
  const w = wire();
  const ringing = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  const other = w.alice.ua.invite({ ...CALL, sdp: sdp("alice"), sessionExpires: 600 });
  await settle();
  w.bob.calls[0].ring();
  const answered = w.bob.calls[1].answer(sdp("bob"));
  await settle();
  const session = await other.result;
  await answered;
  assert.ok(w.clock.pending > 0);
  w.close();
  await assert.rejects(ringing.result, (e) => e instanceof CallFailedError);
  assert.equal((await session.ended).reason, "closed");
  assert.equal((await w.bob.calls[1].session!.ended).reason, "closed");
  assert.equal(w.bob.calls[0].state, "closed");
  assert.equal(w.alice.ua.dialogCount, 0);
  assert.equal(w.bob.ua.dialogCount, 0);
  assert.deepEqual(w.alice.layer.counts(), { client: 0, server: 0 });
  assert.equal(w.clock.pending, 0);
});
