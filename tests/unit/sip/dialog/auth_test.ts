import assert from "node:assert/strict";
import { type AuthValue, formatUri, type SipRequest } from "../../../../src/sip/message/mod.ts";
import { digestResponse, parseDigestChallenge } from "../../../../src/sip/auth/digest.ts";
import { CallFailedError } from "../../../../src/sip/dialog/mod.ts";
import { CALL, labels, sdp, settle, wire } from "./_helpers.ts";

const CREDS = { username: "alice", password: "s3cret" };
const CHALLENGE = 'Digest realm="voiceblender", nonce="abc123", qop="auth", algorithm=MD5';

function param(v: AuthValue, name: string): string | undefined {
  return v.params.find((p) => p.name.toLowerCase() === name)?.value;
}

/** What a registrar would do: recompute the digest from the challenge and the credentials. */
function verify(request: SipRequest, credentials: AuthValue, challenge: string): boolean {
  const parsed = parseDigestChallenge({
    scheme: "Digest",
    params: challenge.slice(7).split(", ").map((kv) => {
      const [name, value] = kv.split("=");
      return { name, value: value.replace(/"/g, ""), quoted: value.startsWith('"') };
    }),
  })!;
  const expected = digestResponse(parsed, CREDS, {
    method: request.method,
    uri: formatUri(request.uri),
  }, { nc: parseInt(param(credentials, "nc") ?? "1", 16), cnonce: param(credentials, "cnonce") });
  return param(expected, "response") === param(credentials, "response") &&
    param(credentials, "uri") === formatUri(request.uri);
}

Deno.test("a 401 is answered once with a correct digest, CSeq+1 and the same Call-ID and From tag", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice"), auth: CREDS });
  await settle();
  const first = w.bob.calls[0];
  assert.equal(first.request.authorization.length, 0);
  first.reject(401, { headers: [["WWW-Authenticate", CHALLENGE]] });
  await settle();
  const second = w.bob.calls[1];
  assert.ok(second, "the INVITE was retried");
  const creds = second.request.authorization[0];
  assert.ok(creds);
  assert.equal(param(creds, "username"), "alice");
  assert.equal(param(creds, "realm"), "voiceblender");
  assert.ok(verify(second.request, creds, CHALLENGE));
  assert.equal(second.request.cseq.seq, first.request.cseq.seq + 1);
  assert.equal(second.request.callId, first.request.callId);
  assert.equal(second.request.fromTag, first.request.fromTag);
  assert.notEqual(second.request.topVia?.branch, first.request.topVia?.branch);
  const answered = second.answer(sdp("bob"));
  await settle();
  await answered;
  const session = await call.result;
  assert.equal(session.dialog.localSeq, second.request.cseq.seq);
  // RFC 3261 §13.2.2.4: the ACK carries the INVITE's credentials.
  const ack = w.alice.fake.messages().at(-1)!;
  assert.equal(ack.kind === "request" && ack.method, "ACK");
  assert.equal(ack.cseq.seq, second.request.cseq.seq);
  assert.equal(ack.headers.get("Authorization"), second.request.headers.get("Authorization"));
  // The retry may leave before the transaction's ACK of the 401: compare as a multiset.
  assert.deepEqual(labels(w.alice.fake).sort(), ["ACK", "ACK", "INVITE", "INVITE"]);
  w.close();
});

Deno.test("a 407 is answered with Proxy-Authorization", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, auth: CREDS });
  await settle();
  w.bob.calls[0].reject(407, { headers: [["Proxy-Authenticate", CHALLENGE]] });
  await settle();
  const second = w.bob.calls[1];
  const creds = second.request.proxyAuthorization[0];
  assert.ok(creds);
  assert.equal(second.request.authorization.length, 0);
  assert.ok(verify(second.request, creds, CHALLENGE));
  second.reject(486);
  await settle();
  await assert.rejects(call.result, (e) => e instanceof CallFailedError && e.reason === "busy");
  w.close();
});

Deno.test("a second challenge after the retry fails the call as unauthorized", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, auth: CREDS });
  await settle();
  w.bob.calls[0].reject(401, { headers: [["WWW-Authenticate", CHALLENGE]] });
  await settle();
  w.bob.calls[1].reject(401, { headers: [["WWW-Authenticate", CHALLENGE]] });
  await settle();
  await assert.rejects(
    call.result,
    (e) => e instanceof CallFailedError && e.reason === "unauthorized" && e.status === 401,
  );
  assert.equal(w.bob.calls.length, 2);
  // The retry may leave before the transaction's ACK of the 401: compare as a multiset.
  assert.deepEqual(labels(w.alice.fake).sort(), ["ACK", "ACK", "INVITE", "INVITE"]);
  w.close();
});
