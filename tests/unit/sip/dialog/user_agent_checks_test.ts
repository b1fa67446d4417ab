/**
 * The UAS checks of RFC 3261 §8.2 the user agent core makes before a request reaches a dialog or
 * the application: Request-URI scheme (416), body type (415) and, for a new INVITE, Accept (406).
 */
import assert from "node:assert/strict";
import type { SipResponse } from "../../../../src/sip/message/mod.ts";
import { FakeTransport } from "../../../../src/sip/transport/mod.ts";
import { TransactionLayer } from "../../../../src/sip/transaction/mod.ts";
import { type IncomingCall, UserAgent } from "../../../../src/sip/dialog/mod.ts";
import { CALL, FakeClock, labels, sdp, settle, T, wire } from "./_helpers.ts";

interface RequestSpec {
  readonly method: string;
  readonly uri?: string;
  readonly headers?: readonly string[];
  readonly body?: string;
  readonly branch?: string;
}

/** A UA at 192.0.2.2 taking requests from 192.0.2.1, recording the calls it is offered. */
function lone() {
  const clock = new FakeClock();
  const fake = new FakeTransport({ local: { host: "192.0.2.2", port: 5060 } });
  const layer = new TransactionLayer(fake, { timers: T, clock });
  const calls: IncomingCall[] = [];
  const ua = new UserAgent({
    transactions: layer,
    localFor: () => fake.local,
    clock,
    onInvite: (call) => calls.push(call),
  });
  let n = 0;
  return {
    fake,
    calls,
    /** Sends a request outside any dialog and returns what the UA answered to it, if anything. */
    send(spec: RequestSpec): SipResponse | undefined {
      const before = fake.messages().length;
      const body = spec.body ?? "";
      const branch = spec.branch ?? `z9hG4bKchk${++n}`;
      fake.inject(
        [
          `${spec.method} ${spec.uri ?? "sip:bob@192.0.2.2"} SIP/2.0`,
          `Via: SIP/2.0/UDP 192.0.2.1:5060;branch=${branch}`,
          "Max-Forwards: 70",
          "From: <sip:alice@192.0.2.1>;tag=f1",
          "To: <sip:bob@192.0.2.2>",
          `Call-ID: checks-${n}`,
          `CSeq: 7 ${spec.method}`,
          ...(spec.headers ?? []),
          `Content-Length: ${new TextEncoder().encode(body).length}`,
          "",
          body,
        ].join("\r\n"),
        { host: "192.0.2.1", port: 5060 },
      );
      const replies = fake.messages().slice(before);
      assert.ok(replies.length <= 1, `one answer at most, got ${labels(fake).join(", ")}`);
      const r = replies[0];
      assert.ok(r === undefined || r.kind === "response");
      return r as SipResponse | undefined;
    },
    close() {
      ua.close();
      layer.close();
    },
  };
}

const OFFER = sdp("alice");

// ---- §8.2.2.1: Request-URI scheme ----

Deno.test("a request to a Request-URI scheme we do not serve gets 416 (RFC 3261 §8.2.2.1)", () => {
  const l = lone();
  // RFC 4475 §3.3.2 (unkscm) and §3.3.3 (novelsc).
  for (
    const uri of ["nobodyKnowsThisScheme:totallyopaquecontent", "soap.beep://192.0.2.103:3002"]
  ) {
    const r = l.send({ method: "OPTIONS", uri });
    assert.equal(r?.status, 416, uri);
    assert.ok(r?.toTag, "a To tag of ours (§8.2.6.2)");
  }
  const invite = l.send({
    method: "INVITE",
    uri: "im:bob@example.com",
    headers: ["Content-Type: application/sdp"],
    body: OFFER,
  });
  assert.equal(invite?.status, 416);
  assert.equal(l.calls.length, 0, "no call is offered to the application");
  l.close();
});

Deno.test("sip, sips and tel Request-URIs pass the scheme check", () => {
  const l = lone();
  for (const uri of ["sip:bob@192.0.2.2", "SIPS:bob@192.0.2.2", "tel:+15551234567"]) {
    assert.equal(l.send({ method: "OPTIONS", uri })?.status, 200, uri);
  }
  l.close();
});

Deno.test("ACK and CANCEL to an unknown scheme get no 416: ACK dropped, CANCEL matched", () => {
  const l = lone();
  assert.equal(l.send({ method: "ACK", uri: "foo:bar" }), undefined, "an ACK is never answered");
  // RFC 3261 §9.2: a CANCEL is judged by the INVITE it names; here none, so 481.
  assert.equal(l.send({ method: "CANCEL", uri: "foo:bar" })?.status, 481);
  l.close();
});

// ---- §8.2.3: body type ----

Deno.test("an INVITE with a body type we cannot read gets 415 with Accept (§8.2.3)", () => {
  const l = lone();
  // RFC 4475 §3.3.6 (invut).
  const r = l.send({
    method: "INVITE",
    headers: ["Content-Type: application/unknownformat"],
    body: '<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n',
  });
  assert.equal(r?.status, 415);
  assert.equal(r?.headers.get("Accept"), "application/sdp");
  assert.equal(l.calls.length, 0);
  const multipart = l.send({
    method: "INVITE",
    headers: ['Content-Type: multipart/mixed;boundary="x"'],
    body: "--x\r\n\r\nhello\r\n--x--\r\n",
  });
  assert.equal(multipart?.status, 415);
  l.close();
});

Deno.test("an INVITE with a Content-Encoding but identity gets 415 with Accept-Encoding", () => {
  const l = lone();
  const r = l.send({
    method: "INVITE",
    headers: ["Content-Type: application/sdp", "Content-Encoding: gzip"],
    body: OFFER,
  });
  assert.equal(r?.status, 415);
  assert.equal(r?.headers.get("Accept-Encoding"), "identity");
  assert.equal(l.calls.length, 0);
  l.close();
});

Deno.test("an INVITE with an SDP body, or none, passes the body check", () => {
  const l = lone();
  assert.equal(
    l.send({ method: "INVITE", headers: ["Content-Type: Application/SDP"], body: OFFER }),
    undefined,
    "no final answer before the application's",
  );
  assert.equal(l.send({ method: "INVITE" }), undefined);
  assert.equal(l.calls.length, 2);
  assert.equal(l.calls[0].offer, OFFER);
  assert.equal(l.calls[1].offer, undefined);
  l.close();
});

Deno.test("the body check is for offers only: an OPTIONS with a text body gets 200", () => {
  const l = lone();
  const r = l.send({ method: "OPTIONS", headers: ["Content-Type: text/plain"], body: "hello" });
  assert.equal(r?.status, 200);
  l.close();
});

Deno.test("an in-dialog UPDATE with an unreadable body gets 415; the session goes on", async () => {
  const w = wire();
  const call = w.alice.ua.invite({ ...CALL, sdp: sdp("alice") });
  await settle();
  const answered = w.bob.calls[0].answer(sdp("bob"));
  await settle();
  const [aliceSession, bobSession] = [await call.result, await answered];
  let offers = 0;
  bobSession.onOffer = () => {
    offers++;
    return { sdp: sdp("bob", "sendrecv", 2) };
  };
  const body = "not an offer";
  const before = w.bob.fake.messages().length;
  w.bob.fake.inject(
    [
      "UPDATE sip:vb@192.0.2.2:5060 SIP/2.0",
      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKupd415",
      "Max-Forwards: 70",
      `From: <sip:alice@192.0.2.1>;tag=${aliceSession.dialog.localTag}`,
      `To: <sip:bob@192.0.2.2>;tag=${bobSession.dialog.localTag}`,
      `Call-ID: ${aliceSession.dialog.callId}`,
      "CSeq: 99 UPDATE",
      "Content-Type: text/plain",
      `Content-Length: ${body.length}`,
      "",
      body,
    ].join("\r\n"),
    w.alice.fake.local,
  );
  await settle();
  assert.deepEqual(labels(w.bob.fake).slice(before), ["415 UPDATE"]);
  assert.equal(offers, 0, "the session saw no offer");
  assert.equal(w.bob.ua.dialogCount, 1, "the session goes on");
  w.close();
});

// ---- §21.4.7: Accept ----

Deno.test("an INVITE whose Accept excludes SDP gets 406 with Accept: application/sdp", () => {
  const l = lone();
  for (
    const accept of [
      "text/nobodyKnowsThis", // RFC 4475 §3.3.15 (sdp01)
      "application/isup, text/plain",
      "application/sdp;q=0",
      "application/sdp;q=0.000, */*;q=0",
      "",
    ]
  ) {
    const r = l.send({
      method: "INVITE",
      headers: [`Accept: ${accept}`, "Content-Type: application/sdp"],
      body: OFFER,
    });
    assert.equal(r?.status, 406, `Accept: ${accept}`);
    assert.equal(r?.headers.get("Accept"), "application/sdp");
  }
  assert.equal(l.calls.length, 0);
  l.close();
});

Deno.test("an INVITE whose Accept allows SDP, or that has none, becomes a call", () => {
  const l = lone();
  const accepts = [
    undefined,
    "application/sdp",
    "APPLICATION/SDP;level=1",
    "text/plain, application/*",
    "*/*;q=0.1",
    'application/isup;x="a,b", application/sdp;q=0.5',
  ];
  for (const accept of accepts) {
    const headers = ["Content-Type: application/sdp"];
    if (accept !== undefined) headers.push(`Accept: ${accept}`);
    assert.equal(l.send({ method: "INVITE", headers, body: OFFER }), undefined, `${accept}`);
  }
  // Two Accept fields are one list (RFC 3261 §7.3.1).
  const two = ["Content-Type: application/sdp", "Accept: text/plain", "Accept: application/sdp"];
  assert.equal(l.send({ method: "INVITE", headers: two, body: OFFER }), undefined);
  assert.equal(l.calls.length, accepts.length + 1);
  l.close();
});

Deno.test("an INVITE whose application handler throws gets 500 instead of hanging", () => {
  const clock = new FakeClock();
  const fake = new FakeTransport({ local: { host: "192.0.2.2", port: 5060 } });
  const layer = new TransactionLayer(fake, { timers: T, clock });
  const ua = new UserAgent({
    transactions: layer,
    localFor: () => fake.local,
    clock,
    onInvite: () => {
      throw new Error("application bug");
    },
  });
  try {
    fake.inject(
      [
        "INVITE sip:bob@192.0.2.2 SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKthrow1",
        "Max-Forwards: 70",
        "From: <sip:alice@192.0.2.1>;tag=f1",
        "To: <sip:bob@192.0.2.2>",
        "Call-ID: throws-1",
        "CSeq: 1 INVITE",
        "Content-Type: application/sdp",
        `Content-Length: ${new TextEncoder().encode(OFFER).length}`,
        "",
        OFFER,
      ].join("\r\n"),
      { host: "192.0.2.1", port: 5060 },
    );
    const finals = fake.messages().filter((m) => m.kind === "response" && m.status >= 200);
    assert.deepEqual(finals.map((m) => (m as SipResponse).status), [500]);
  } finally {
    ua.close();
    layer.close();
  }
});
