/**
 * RFC 5118 IPv6 torture messages, one test per corpus file.
 */
import assert from "node:assert/strict";
import type { NameAddr } from "../../../../src/sip/message/name_addr.ts";
import { getParam } from "../../../../src/sip/message/params.ts";
import type { SipUri, Uri } from "../../../../src/sip/message/uri.ts";
import { corpusFiles, invalid, validRequest } from "./corpus.ts";

const D = "rfc5118";
const tested = new Set<string>();

function torture(file: string, title: string, fn: () => void): void {
  tested.add(file);
  Deno.test(`rfc5118 ${file}: ${title}`, fn);
}

function sip(uri: Uri): SipUri {
  assert.equal(uri.kind, "sip");
  return uri as SipUri;
}

function contactHost(c: NameAddr | "*"): string {
  assert.notEqual(c, "*");
  return sip((c as NameAddr).uri).host;
}

torture("ipv6-good", "§4.1 bracketed IPv6 references parse everywhere", () => {
  const m = validRequest(D, "ipv6-good");
  assert.equal(sip(m.uri).host, "[2001:db8::10]");
  assert.equal(sip(m.uri).port, undefined);
  assert.equal(m.topVia?.host, "[2001:db8::9:1]");
  assert.equal(contactHost(m.contacts[0]), "[2001:db8::1]");
});

torture("ipv6-bad", "§4.2 an unbracketed IPv6 Request-URI gets a 400", () => {
  const err = invalid(D, "ipv6-bad");
  assert.equal(err.status, 400);
  assert.equal(err.reason, "Bad Request - Malformed Request-URI");
  assert.equal(err.canRespond, true);
});

torture("port-ambiguous", "§4.3 the :5070 inside the brackets is part of the address", () => {
  const m = validRequest(D, "port-ambiguous");
  assert.equal(sip(m.uri).host, "[2001:db8::10:5070]");
  assert.equal(sip(m.uri).port, undefined);
});

torture("port-unambiguous", "§4.4 the :5070 after the brackets is the port", () => {
  const m = validRequest(D, "port-unambiguous");
  assert.equal(sip(m.uri).host, "[2001:db8::10]");
  assert.equal(sip(m.uri).port, 5070);
});

torture("via-received-param-with-delim", "§4.5 bracketed IPv6 received is accepted", () => {
  const v = validRequest(D, "via-received-param-with-delim").topVia;
  assert.equal(v?.host, "[2001:db8::9:1]");
  assert.equal(v?.received, "2001:db8::9:255");
  assert.equal(getParam(v?.params ?? [], "received"), "[2001:db8::9:255]");
  assert.equal(v?.branch, "z9hG4bKas3-111");
});

torture("via-received-param-no-delim", "§4.5 unbracketed IPv6 received is accepted", () => {
  const v = validRequest(D, "via-received-param-no-delim").topVia;
  assert.equal(v?.received, "2001:db8::9:255");
  assert.equal(v?.branch, "z9hG4bKas3");
});

torture("ipv6-in-sdp", "§4.6 IPv6 in the SDP body is carried untouched", () => {
  const m = validRequest(D, "ipv6-in-sdp");
  assert.equal(m.contentLength, 241);
  assert.ok(m.bodyText.includes("c=IN IP6 2001:db8::20\r\n"));
  assert.equal(sip(m.to.uri).host, "[2001:db8::10]");
});

torture("mult-ip-in-header", "§4.7 Via values mixing IPv4 and IPv6 sent-by", () => {
  const m = validRequest(D, "mult-ip-in-header");
  assert.deepEqual(
    m.via.map((v) => [v.transport, v.host, v.port, v.received]),
    [
      ["UDP", "[2001:db8::9:1]", 6050, undefined],
      ["UDP", "192.0.2.1", undefined, undefined],
      ["TCP", "[2001:db8::9:255]", undefined, "192.0.2.200"],
    ],
  );
});

torture("mult-ip-in-sdp", "§4.8 several addresses in the SDP body are carried untouched", () => {
  const m = validRequest(D, "mult-ip-in-sdp");
  assert.ok(m.bodyText.includes("c=IN IP4 192.0.2.1\r\n"));
  assert.ok(m.bodyText.includes("c=IN IP6 2001:db8::1\r\n"));
  assert.equal(contactHost(m.contacts[0]), "[2001:db8::9:1]");
});

torture("ipv4-mapped-ipv6", "§4.9 IPv4-mapped IPv6 references parse", () => {
  const m = validRequest(D, "ipv4-mapped-ipv6");
  assert.equal(m.via[0].host, "[::ffff:192.0.2.10]");
  assert.equal(m.via[0].port, 19823);
  assert.equal(m.via[1].host, "[::ffff:192.0.2.2]");
  assert.equal(contactHost(m.contacts[0]), "[::ffff:192.0.2.2]");
});

torture("ipv6-bug-abnf-3-colons", "§4.10 three colons before an IPv4 tail get a 400", () => {
  const err = invalid(D, "ipv6-bug-abnf-3-colons");
  assert.equal(err.status, 400);
  assert.equal(err.reason, "Bad Request - Malformed Request-URI");
});

torture("ipv6-correct-abnf-2-colons", "§4.10 two colons before an IPv4 tail parse", () => {
  const m = validRequest(D, "ipv6-correct-abnf-2-colons");
  assert.equal(sip(m.uri).host, "[2001:db8::192.0.2.1]");
  assert.equal(sip(m.to.uri).host, "[2001:db8::192.0.2.1]");
});

Deno.test("rfc5118 corpus: every file has its own test", () => {
  assert.deepEqual([...tested].sort(), corpusFiles(D));
  assert.equal(tested.size, 12);
});
