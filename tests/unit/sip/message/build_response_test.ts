import assert from "node:assert/strict";
import { buildResponse } from "../../../../src/sip/message/build_response.ts";
import type { SipRequest } from "../../../../src/sip/message/message.ts";
import { parseMessage } from "../../../../src/sip/message/parser.ts";
import { serialize } from "../../../../src/sip/message/serializer.ts";
import { reasonPhrase } from "../../../../src/sip/message/status.ts";
import { INVITE } from "./fixtures.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function request(text: string): SipRequest {
  const r = parseMessage(enc.encode(text));
  assert.ok(r.ok && r.message.kind === "request");
  return r.message;
}

const TWO_VIAS = [
  "INVITE sip:bob@biloxi.example SIP/2.0",
  "Via: SIP/2.0/UDP proxy.example;branch=z9hG4bKp1, SIP/2.0/UDP pc.example:5062;branch=z9hG4bKc1;received=192.0.2.9",
  "Max-Forwards: 69",
  "To: Bob <sip:bob@biloxi.example>",
  "From: <sip:alice@atlanta.example>;tag=9fxced76sl",
  "Call-ID: 3848276298220188511@atlanta.example",
  "CSeq: 1 INVITE",
  "Timestamp: 54",
  "Contact: <sip:alice@pc.example>",
  "Content-Length: 0",
  "",
  "",
].join("\r\n");

Deno.test("buildResponse() copies Via values in order, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2)", () => {
  const res = buildResponse(request(TWO_VIAS), 486, undefined, { toTag: "8321234356" });
  assert.equal(
    dec.decode(serialize(res)),
    [
      "SIP/2.0 486 Busy Here",
      "Via: SIP/2.0/UDP proxy.example;branch=z9hG4bKp1",
      "Via: SIP/2.0/UDP pc.example:5062;branch=z9hG4bKc1;received=192.0.2.9",
      "From: <sip:alice@atlanta.example>;tag=9fxced76sl",
      "To: Bob <sip:bob@biloxi.example>;tag=8321234356",
      "Call-ID: 3848276298220188511@atlanta.example",
      "CSeq: 1 INVITE",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
  );
  assert.equal(res.toTag, "8321234356");
  assert.equal(res.to.displayName, "Bob");
});

Deno.test("buildResponse() keeps an existing To tag and adds none unless asked", () => {
  const req = request(TWO_VIAS);
  assert.equal(buildResponse(req, 180).toTag, undefined);
  req.headers.set("To", "<sip:bob@biloxi.example>;tag=existing");
  assert.equal(buildResponse(req, 200, "OK", { toTag: "other" }).toTag, "existing");
  assert.throws(() => buildResponse(request(TWO_VIAS), 200, "OK", { toTag: "bad tag" }), TypeError);
});

Deno.test("buildResponse() copies Timestamp into a 100 only (RFC 3261 §8.2.6.1)", () => {
  const req = request(TWO_VIAS);
  assert.equal(buildResponse(req, 100).headers.get("Timestamp"), "54");
  assert.equal(buildResponse(req, 180).headers.get("Timestamp"), undefined);
  assert.equal(buildResponse(req, 100).reason, "Trying");
});

Deno.test("buildResponse() appends extra headers and a body", () => {
  const res = buildResponse(request(INVITE), 200, "OK", {
    toTag: "t",
    headers: [["Contact", "<sip:vb@198.51.100.7>"], ["Content-Type", "application/sdp"]],
    body: "v=0\r\n",
  });
  assert.equal(res.headers.get("Contact"), "<sip:vb@198.51.100.7>");
  assert.equal(res.bodyText, "v=0\r\n");
  assert.ok(
    dec.decode(serialize(res)).endsWith(
      "Content-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n",
    ),
  );
  assert.equal(res.headers.get("Route"), undefined, "Route is not copied");
  assert.equal(res.headers.get("Max-Forwards"), undefined);
});

Deno.test("reasonPhrase() knows the standard codes and falls back to the class", () => {
  assert.equal(reasonPhrase(200), "OK");
  assert.equal(reasonPhrase(481), "Call/Transaction Does Not Exist");
  assert.equal(reasonPhrase(422), "Session Interval Too Small");
  assert.equal(reasonPhrase(499), "Client Error");
  assert.equal(reasonPhrase(699), "Global Failure");
});
