import assert from "node:assert/strict";
import type { DialogEnd, DialogSession } from "../../../../src/sip/dialog/mod.ts";
import {
  advance,
  CALL,
  sdp,
  sentRequests,
  sentResponses,
  settle,
  wire,
  type Wired,
  type WireOptions,
} from "./_helpers.ts";

const SECOND = 1000;

async function connected(
  options: WireOptions = {},
  invite: { sessionExpires?: number; headers?: [string, string][] } = {},
): Promise<Wired & { aliceSession: DialogSession; bobSession: DialogSession }> {
  const w = wire(options);
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice"), ...invite });
  await settle();
  const answered = w.bob.calls[0].answer(sdp("bob"));
  await settle();
  return { ...w, aliceSession: await call.result, bobSession: await answered };
}

/** Alice keeps no session timer but says she supports one, so Bob makes her the refresher. */
const SILENT_ALICE: WireOptions = { alice: { sessionTimer: { enabled: false } } };
const SAYS_TIMER: [string, string][] = [["Supported", "timer"]];

Deno.test("the UAS picks refresher=uac when the caller supports timers, with the default 1800 s", async () => {
  const w = await connected();
  const ok = sentResponses(w.bob.fake, 200, "INVITE")[0];
  assert.equal(ok.headers.get("Session-Expires"), "1800;refresher=uac");
  assert.deepEqual(ok.require, ["timer"]);
  assert.deepEqual(w.aliceSession.sessionTimer, { interval: 1800, weRefresh: true });
  assert.deepEqual(w.bobSession.sessionTimer, { interval: 1800, weRefresh: false });
  w.close();
});

Deno.test("the refresher sends an UPDATE at interval/2 and the other side never expires", async () => {
  const w = await connected();
  await advance(w.clock, 900 * SECOND - 1000, 10 * SECOND);
  assert.equal(sentRequests(w.alice.fake, "UPDATE").length, 0);
  await advance(w.clock, 1000, 500);
  const updates = sentRequests(w.alice.fake, "UPDATE");
  assert.equal(updates.length, 1);
  assert.equal(updates[0].headers.get("Session-Expires"), "1800;refresher=uac");
  assert.equal(
    sentResponses(w.bob.fake, 200, "UPDATE")[0].headers.get("Session-Expires"),
    "1800;refresher=uac",
  );
  await advance(w.clock, 2700 * SECOND, 10 * SECOND);
  assert.equal(sentRequests(w.alice.fake, "UPDATE").length, 4); // 900, 1800, 2700, 3600 s
  assert.equal(sentRequests(w.bob.fake, "BYE").length, 0);
  assert.equal(w.bobSession.state, "confirmed");
  w.close();
  assert.equal(w.clock.pending, 0);
});

Deno.test("with refreshWith=reinvite the refresher re-INVITEs with its current SDP", async () => {
  const w = await connected({ alice: { sessionTimer: { refreshWith: "reinvite" } } });
  await advance(w.clock, 900 * SECOND, 10 * SECOND);
  const invites = sentRequests(w.alice.fake, "INVITE");
  assert.equal(invites.length, 2);
  assert.equal(invites[1].bodyText, sdp("alice"));
  assert.equal(sentRequests(w.alice.fake, "ACK").length, 2);
  w.close();
});

Deno.test("without refreshes the other side hangs up at interval − min(32, interval/3) with session_expired", async () => {
  const w = await connected(SILENT_ALICE, { headers: SAYS_TIMER });
  assert.deepEqual(w.bobSession.sessionTimer, { interval: 1800, weRefresh: false });
  assert.equal(w.aliceSession.sessionTimer, undefined);
  const ends: DialogEnd[] = [];
  w.aliceSession.onEnded = (e) => ends.push(e);
  await advance(w.clock, 1767 * SECOND, 10 * SECOND);
  assert.equal(sentRequests(w.bob.fake, "BYE").length, 0);
  await advance(w.clock, SECOND, 500);
  assert.equal(sentRequests(w.bob.fake, "BYE").length, 1);
  assert.equal((await w.bobSession.ended).reason, "session_expired");
  assert.deepEqual(ends.map((e) => e.reason), ["remote_bye"]);
  w.close();
});

Deno.test("the lenient expiry rule waits interval + 32 s", async () => {
  const w = await connected(
    { ...SILENT_ALICE, bob: { sessionTimer: { expiry: "lenient" } } },
    { headers: SAYS_TIMER },
  );
  await advance(w.clock, 1831 * SECOND, 10 * SECOND);
  assert.equal(sentRequests(w.bob.fake, "BYE").length, 0);
  await advance(w.clock, SECOND, 500);
  assert.equal((await w.bobSession.ended).reason, "session_expired");
  w.close();
});

Deno.test("any re-INVITE (a hold) restarts the expiry timer", async () => {
  const w = await connected(SILENT_ALICE, { headers: SAYS_TIMER });
  await advance(w.clock, 1000 * SECOND, 10 * SECOND);
  const hold = w.aliceSession.reinvite(sdp("alice", "sendonly", 2), { headers: SAYS_TIMER });
  await settle();
  await hold;
  assert.deepEqual(w.bobSession.sessionTimer, { interval: 1800, weRefresh: false });
  await advance(w.clock, 1767 * SECOND, 10 * SECOND);
  assert.equal(sentRequests(w.bob.fake, "BYE").length, 0);
  await advance(w.clock, SECOND, 500);
  assert.equal(sentRequests(w.bob.fake, "BYE").length, 1);
  w.close();
});

Deno.test("a Session-Expires below Min-SE 90 is raised to 90, never answered 422", async () => {
  const w = await connected({}, { sessionExpires: 30 });
  const invite = sentRequests(w.alice.fake, "INVITE")[0];
  assert.equal(invite.headers.get("Session-Expires"), "30");
  assert.equal(sentResponses(w.bob.fake, 422).length, 0);
  const ok = sentResponses(w.bob.fake, 200, "INVITE")[0];
  assert.equal(ok.headers.get("Session-Expires"), "90;refresher=uac");
  assert.deepEqual(w.aliceSession.sessionTimer, { interval: 90, weRefresh: true });
  await advance(w.clock, 45 * SECOND, 500);
  assert.equal(sentRequests(w.alice.fake, "UPDATE").length, 1);
  w.close();
});

Deno.test("a caller without timer support makes the UAS the refresher (refresher=uas)", async () => {
  const w = await connected(SILENT_ALICE);
  const ok = sentResponses(w.bob.fake, 200, "INVITE")[0];
  assert.equal(ok.headers.get("Session-Expires"), "1800;refresher=uas");
  assert.deepEqual(ok.require, []);
  await advance(w.clock, 900 * SECOND, 10 * SECOND);
  assert.equal(sentRequests(w.bob.fake, "UPDATE").length, 1);
  assert.equal(w.aliceSession.state, "confirmed");
  w.close();
});

Deno.test("a 422 is retried once with the Min-SE it asks for (RFC 4028 §7.4)", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice"), sessionExpires: 100 });
  await settle();
  w.bob.calls[0].reject(422, { headers: [["Min-SE", "300"]] });
  await settle();
  const retry = w.bob.calls[1];
  assert.equal(retry.request.headers.get("Session-Expires"), "300");
  assert.equal(retry.request.cseq.seq, 2);
  const answered = retry.answer(sdp("bob"));
  await settle();
  await answered;
  assert.deepEqual((await call.result).sessionTimer, { interval: 300, weRefresh: true });
  w.close();
});
