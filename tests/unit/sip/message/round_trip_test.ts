import assert from "node:assert/strict";
import { authParam } from "../../../../src/sip/message/auth_header.ts";
import { isMediaType } from "../../../../src/sip/message/content_type.ts";
import { SipHeaders } from "../../../../src/sip/message/headers.ts";
import { generateBranch, generateCallId, generateTag } from "../../../../src/sip/message/ids.ts";
import {
  type SipMessage,
  SipRequest,
  type SipResponse,
} from "../../../../src/sip/message/message.ts";
import { SipMethod } from "../../../../src/sip/message/method.ts";
import { contactExpires, type NameAddr, nameAddr } from "../../../../src/sip/message/name_addr.ts";
import { getParam } from "../../../../src/sip/message/params.ts";
import { parseMessage } from "../../../../src/sip/message/parser.ts";
import { serialize } from "../../../../src/sip/message/serializer.ts";
import { sessionExpires } from "../../../../src/sip/message/session_timer.ts";
import { sipUri } from "../../../../src/sip/message/uri.ts";
import { via } from "../../../../src/sip/message/via.ts";
import * as golden from "./fixtures.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function parse(b: Uint8Array | string): SipMessage {
  const r = parseMessage(typeof b === "string" ? enc.encode(b) : b);
  assert.ok(r.ok, r.ok ? "" : r.error.message);
  return r.message;
}

for (const [name, text] of Object.entries(golden.GOLDEN)) {
  Deno.test(`golden ${name} serializes byte for byte and re-parses to an equal structure`, () => {
    const first = parse(text);
    const wire = serialize(first);
    assert.equal(dec.decode(wire), text);
    assert.deepEqual(parse(wire), first);
  });
}

Deno.test("golden INVITE exposes its SDP offer, route set and timers", () => {
  const m = parse(golden.INVITE) as SipRequest;
  assert.equal(m.method, SipMethod.INVITE);
  assert.equal(m.from.displayName, 'Alice "Al" Liddell');
  assert.equal(m.toTag, undefined);
  assert.ok(isMediaType(m.contentType, "application/sdp"));
  assert.equal(m.bodyText, golden.SDP_OFFER);
  assert.equal(m.routes.length, 1);
  assert.deepEqual(m.supported, ["timer", "100rel", "replaces"]);
  assert.ok(m.allow.includes("UPDATE"));
  assert.equal(m.sessionExpires?.seconds, 1800);
  assert.equal(m.minSe, 90);
  assert.equal(m.topVia?.rport, true);
});

Deno.test("golden 180 and 200 carry the To tag, received and rport", () => {
  const ringing = parse(golden.RINGING) as SipResponse;
  assert.equal(ringing.status, 180);
  assert.equal(ringing.toTag, "a6c85cf");
  assert.equal(ringing.topVia?.received, "192.0.2.10");
  assert.equal(ringing.topVia?.rport, 5060);
  const ok = parse(golden.OK_INVITE) as SipResponse;
  assert.deepEqual(
    ok.recordRoutes.map((r) => r.uri.kind === "sip" && [r.uri.host, r.uri.port]),
    [["p2.example.net", undefined], ["p1.example.net", undefined], ["[2001:db8::5]", 5070]],
  );
  assert.equal(ok.sessionExpires?.refresher, "uac");
  assert.deepEqual(ok.require, ["timer"]);
});

Deno.test("golden ACK, BYE, CANCEL and UPDATE keep their CSeq methods", () => {
  assert.deepEqual(parse(golden.ACK).cseq, { seq: 314159, method: "ACK" });
  assert.deepEqual(parse(golden.BYE).cseq, { seq: 314162, method: "BYE" });
  assert.deepEqual(parse(golden.CANCEL).cseq, { seq: 314159, method: "CANCEL" });
  const update = parse(golden.UPDATE);
  assert.deepEqual(update.cseq, { seq: 314161, method: "UPDATE" });
  assert.equal(update.sessionExpires?.refresher, "uac");
  assert.equal(update.topVia?.transport, "TCP");
});

Deno.test("golden OPTIONS has an IPv6 Request-URI and a tel To", () => {
  const m = parse(golden.OPTIONS) as SipRequest;
  assert.ok(m.uri.kind === "sip" && m.uri.host === "[2001:db8::10]" && m.uri.port === 5060);
  assert.equal(m.to.uri.kind, "tel");
  assert.equal(m.topVia?.port, 5062);
});

Deno.test("golden REGISTER exposes Contact expires, instance id and digest credentials", () => {
  const m = parse(golden.REGISTER);
  const c = m.contacts[0] as NameAddr;
  assert.equal(contactExpires(c), 3600);
  assert.equal(
    getParam(c.params, "+sip.instance"),
    '"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"',
  );
  assert.equal(m.expires, 3600);
  const [cred] = m.authorization;
  assert.equal(authParam(cred, "username"), "carol");
  assert.equal(authParam(cred, "nc"), "00000001");
  assert.equal(authParam(cred, "qop"), "auth");
});

Deno.test("golden 401 exposes its digest challenge", () => {
  const m = parse(golden.UNAUTHORIZED);
  const [ch] = m.wwwAuthenticate;
  assert.equal(ch.scheme, "Digest");
  assert.equal(authParam(ch, "realm"), "example.com");
  assert.equal(authParam(ch, "nonce"), "ea9c8e88df84f1cec4341ae6cbe5a359");
  assert.equal(authParam(ch, "stale"), "FALSE");
});

Deno.test("a request built through the API serializes to a byte-exact fixpoint", () => {
  const headers = new SipHeaders();
  headers.append(
    "Via",
    via({
      transport: "UDP",
      host: "198.51.100.7",
      port: 5060,
      params: [{ name: "branch", value: generateBranch() }, { name: "rport", value: null }],
    }),
  );
  headers.append("Max-Forwards", 70);
  headers.append(
    "From",
    nameAddr({
      displayName: 'VoiceBlender "VB"',
      uri: sipUri({ user: "vb", host: "vb.example" }),
      params: [{ name: "tag", value: generateTag() }],
    }),
  );
  headers.append(
    "To",
    nameAddr({
      uri: sipUri({
        user: "+15551234",
        host: "carrier.example",
        params: [{ name: "user", value: "phone" }],
      }),
    }),
  );
  headers.append("Call-ID", generateCallId("vb.example"));
  headers.append("CSeq", { seq: 1, method: SipMethod.INVITE });
  headers.append("Session-Expires", sessionExpires(1800, "uac"));
  headers.append("Supported", ["timer"]);
  headers.append("Content-Type", "application/sdp");
  const req = new SipRequest({
    method: SipMethod.INVITE,
    uri: sipUri({
      user: "+15551234",
      host: "carrier.example",
      params: [{ name: "user", value: "phone" }],
    }),
    headers,
    body: golden.SDP_OFFER,
  });
  const wire = serialize(req);
  const back = parse(wire);
  assert.deepEqual(serialize(back), wire);
  assert.equal(back.contentLength, req.body.length);
  assert.deepEqual((back as SipRequest).uri, req.uri);
  assert.deepEqual(back.from, req.from);
  assert.ok(dec.decode(wire).includes(`\r\nContent-Length: ${req.body.length}\r\n\r\nv=0`));
});

Deno.test("serialize() rewrites a stale Content-Length in place and adds a missing one", () => {
  const m = parse(golden.BYE);
  m.body = enc.encode("body!");
  const text = dec.decode(serialize(m));
  assert.ok(
    text.includes(
      'Reason: SIP;cause=200;text="Call completed elsewhere"\r\nContent-Length: 5\r\n\r\nbody!',
    ),
  );
  m.headers.delete("Content-Length");
  assert.ok(dec.decode(serialize(m)).endsWith("Content-Length: 5\r\n\r\nbody!"));
});

Deno.test("foreign formatting (compact names, lists on one line, folding) round-trips structurally", () => {
  const foreign = [
    "OPTIONS sip:b@example.com SIP/2.0",
    "v: SIP/2.0/UDP a.example;branch=z9hG4bK1 , SIP/2.0/UDP b.example;branch=z9hG4bK2",
    "f: <sip:a@example.com>;tag=1",
    "t: sip:b@example.com",
    "i: c1",
    "CSeq: 1 OPTIONS",
    "m: <sip:a@a.example>,",
    "  <sip:a@b.example>;q=0.1",
    "l: 0",
    "",
    "",
  ].join("\r\n");
  const first = parse(foreign);
  const again = parse(serialize(first));
  assert.deepEqual(again, first);
  assert.equal(again.via.length, 2);
  assert.equal(again.contacts.length, 2);
});
