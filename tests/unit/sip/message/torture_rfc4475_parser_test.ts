/**
 * RFC 4475 §3.1 (parser: valid and invalid) torture messages, one test per corpus file, each checking the handling its
 * section asks for and the fields that make the message interesting.
 */
import assert from "node:assert/strict";
import { buildErrorResponse } from "../../../../src/sip/message/build_response.ts";
import { isMediaType, mediaTypeParam } from "../../../../src/sip/message/content_type.ts";
import { getParam } from "../../../../src/sip/message/params.ts";
import { serialize } from "../../../../src/sip/message/serializer.ts";
import { StreamFramer } from "../../../../src/sip/message/stream_framer.ts";
import { parseUri } from "../../../../src/sip/message/uri.ts";
import { uriEquals } from "../../../../src/sip/message/uri_compare.ts";
import { isRfc3261Branch } from "../../../../src/sip/message/via.ts";
import {
  addr,
  answered,
  asSip as sip,
  corpusBytes,
  dropped,
  invalid,
  validRequest,
  validResponse,
} from "./corpus.ts";

const D = "rfc4475";

function torture(file: string, title: string, fn: () => void): void {
  Deno.test(`rfc4475 ${file}: ${title}`, fn);
}

// §3.1.1 Valid messages: must parse.

torture("wsinv.dat", "§3.1.1.1 short tortuous INVITE parses through its LWS and escapes", () => {
  const m = validRequest(D, "wsinv.dat");
  assert.equal(m.method, "INVITE");
  const ruri = sip(m.uri);
  assert.equal(ruri.user, "vivekg");
  assert.equal(ruri.host, "chair-dnrc.example.com");
  assert.deepEqual(ruri.params, [{ name: "unknownparam", value: null }]);
  assert.equal(m.toTag, "1918181833n");
  assert.equal(m.from.displayName, 'J Rosenberg \\"');
  assert.equal(m.fromTag, "98asjd8");
  assert.equal(m.maxForwards, 68);
  assert.deepEqual(m.cseq, { seq: 9, method: "INVITE" });
  assert.equal(m.callId, "wsinv.ndaksdj@192.0.2.1");
  assert.deepEqual(
    m.via.map((v) => [v.transport, v.host, v.branch]),
    [
      ["UDP", "192.0.2.2", "390skdjuw"],
      ["TCP", "spindle.example.com", "z9hG4bK9ikj8"],
      ["UDP", "192.168.255.111", "z9hG4bK30239"],
    ],
  );
  assert.equal(isRfc3261Branch(m.topVia?.branch), false);
  assert.equal(m.headers.get("Subject"), "");
  assert.equal(
    m.headers.get("newfangledheader"),
    "newfangled value continued newfangled value",
  );
  assert.equal(m.headers.get("UnknownHeaderWithUnusualValue"), ";;,,;;,;");
  assert.deepEqual(sip(m.routes[0].uri).params, [
    { name: "lr", value: null },
    { name: "unknownwith", value: "value" },
    { name: "unknown-no-value", value: null },
  ]);
  const contact = addr(m.contacts[0]);
  assert.equal(contact.displayName, 'Quoted string ""');
  assert.deepEqual(contact.params, [
    { name: "newparam", value: "newvalue" },
    { name: "secondparam", value: null },
    { name: "q", value: "0.33" },
  ]);
  assert.equal(m.body.length, 150);
});

torture("intmeth.dat", "§3.1.1.2 wide range of valid characters in every element", () => {
  const m = validRequest(D, "intmeth.dat");
  assert.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
  const ruri = sip(m.uri);
  assert.equal(ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.equal(ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  assert.equal(ruri.host, "example.com");
  assert.equal(m.topVia?.branch, "z9hG4bK-.!%66*_+`'~");
  assert.equal(m.to.displayName, "BEL:\x07 NUL:\x00 DEL:\x7f");
  assert.equal(sip(m.to.uri).user, ruri.user);
  assert.equal(m.from.displayName, "token1~` token2'+_ token3*%!.-");
  assert.equal(getParam(m.from.params, "fromParam''~+*_!.-%"), '"работающий"');
  assert.equal(m.fromTag, "_token~1'+`*%!-.");
  assert.equal(m.callId, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
  assert.equal(m.cseq.method, m.method);
  assert.equal(m.maxForwards, 255);
  assert.equal(m.headers.get("extensionHeader-!.%*+_`'~"), "\ufeff大停電");
});

torture("esc01.dat", "§3.1.1.3 %-escapes decode in user, parameters and names", () => {
  const m = validRequest(D, "esc01.dat");
  const ruri = sip(m.uri);
  assert.equal(ruri.user, "sips:user@example.com");
  assert.equal(ruri.host, "example.net");
  const plain = parseUri("sip:user@example.com");
  assert.ok(plain.ok);
  assert.ok(uriEquals(m.to.uri, plain.value), "sip:%75se%72@example.com equals sip:user@…");
  assert.equal(sip(m.from.uri).user, "I have spaces");
  const contact = sip(addr(m.contacts[0]).uri);
  assert.equal(contact.user, "caller");
  assert.deepEqual(contact.params, [
    { name: "lr", value: null },
    { name: "name", value: "value%41" },
  ]);
  assert.ok(isMediaType(m.contentType, "application/sdp"), "compact c: is Content-Type");
});

torture("escnull.dat", "§3.1.1.4 escaped NULs in URIs parse to NUL characters", () => {
  const m = validRequest(D, "escnull.dat");
  assert.equal(sip(m.to.uri).user, "null-\0-null");
  assert.equal(sip(m.from.uri).user, "null-\0-null");
  assert.deepEqual(m.contacts.map((c) => sip(addr(c).uri).user), ["\0", "\0\0"]);
  assert.equal(m.contentLength, 0);
});

torture("esc02.dat", "§3.1.1.5 % that is not an escape stays literal in tokens and names", () => {
  const m = validRequest(D, "esc02.dat");
  assert.equal(m.method, "RE%47IST%45R", "an unknown method, not REGISTER");
  assert.equal(m.cseq.method, "RE%47IST%45R");
  assert.equal(m.to.displayName, "%Z%45");
  assert.equal(m.topVia?.branch, "z9hG4bK209%fzsnel234");
  assert.deepEqual(
    m.contacts.map((c) => sip(addr(c).uri).host),
    ["host1.example.com", "host3.example.com"],
  );
  assert.equal(m.headers.get("C%6Fntact"), "<sip:alias2@host2.example.com>");
});

torture("lwsdisp.dat", "§3.1.1.6 display name directly followed by <", () => {
  const m = validRequest(D, "lwsdisp.dat");
  assert.equal(m.from.displayName, "caller");
  assert.equal(sip(m.from.uri).user, "caller");
  assert.equal(m.fromTag, "323");
});

torture("longreq.dat", "§3.1.1.7 long values and 34 Via values in many spellings", () => {
  const m = validRequest(D, "longreq.dat");
  assert.ok(m.to.displayName?.startsWith("I have a user name of extremeextreme"));
  assert.equal(sip(m.to.uri).port, 6000);
  assert.equal(m.via.length, 34);
  assert.equal(m.via[0].host, "sip33.example.com");
  assert.equal(m.via[33].received, "192.0.2.5");
  assert.ok(m.via[33].branch?.startsWith("verylonglong"));
  assert.ok((m.fromTag ?? "").length > 100);
  assert.ok(m.callId.startsWith("longreq.onereallyreally"));
  assert.equal(m.contentLength, 150);
  assert.equal(m.body.length, 150);
});

torture("dblreq.dat", "§3.1.1.8 octets after Content-Length in a datagram are discarded", () => {
  const m = validRequest(D, "dblreq.dat");
  assert.equal(m.method, "REGISTER");
  assert.equal(m.callId, "dblreq.0ha0isndaksdj99sdfafnl3lk233412");
  assert.equal(m.body.length, 0);
});

torture("semiuri.dat", "§3.1.1.9 semicolons in the user part are not URI parameters", () => {
  const m = validRequest(D, "semiuri.dat");
  const ruri = sip(m.uri);
  assert.equal(ruri.user, "user;par=u@example.net");
  assert.equal(ruri.host, "example.com");
  assert.deepEqual(ruri.params, []);
  assert.equal(
    m.headers.get("Accept"),
    "application/sdp, application/pkcs7-mime, multipart/mixed, multipart/signed, " +
      "message/sip, message/sipfrag",
  );
});

torture("transports.dat", "§3.1.1.10 varied and unknown Via transports", () => {
  const m = validRequest(D, "transports.dat");
  assert.deepEqual(m.via.map((v) => v.transport), ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
});

torture("mpart01.dat", "§3.1.1.11 multipart body with binary octets kept intact", () => {
  const m = validRequest(D, "mpart01.dat");
  assert.equal(m.method, "MESSAGE");
  assert.ok(isMediaType(m.contentType, "multipart/mixed"));
  assert.equal(mediaTypeParam(m.contentType!, "boundary"), "7a9cbec02ceef655");
  assert.equal(m.body.length, 553);
  assert.equal(m.topVia?.rport, true);
  const raw = corpusBytes(D, "mpart01.dat");
  assert.deepEqual(m.body, raw.subarray(raw.length - 553));
});

torture("unreason.dat", "§3.1.1.12 UTF-8 reason phrase", () => {
  const m = validResponse(D, "unreason.dat");
  assert.equal(m.status, 200);
  assert.ok(m.reason.startsWith("= 2**3 * 5**2 "));
  assert.ok(m.reason.endsWith("простое"));
});

torture("noreason.dat", "§3.1.1.13 empty reason phrase", () => {
  const m = validResponse(D, "noreason.dat");
  assert.equal(m.status, 100);
  assert.equal(m.reason, "");
});

// §3.1.2 Invalid messages: refused, with a 400 when a response can be formed.

torture("badinv01.dat", "§3.1.2.1 empty Via and Contact parameters get a 400", () => {
  answered(D, "badinv01.dat", 400, "Bad Request - Malformed Via");
  const res = buildErrorResponse(invalid(D, "badinv01.dat"));
  assert.deepEqual(res?.headers.getAll("Via"), ["SIP/2.0/UDP 192.0.2.15;;,;,,"]);
  assert.equal(invalid(D, "badinv01.dat").topVia?.host, "192.0.2.15");
});

torture("clerr.dat", "§3.1.2.2 Content-Length beyond the datagram gets a 400", () => {
  answered(D, "clerr.dat", 400, "Bad Request - Content-Length exceeds body");
  // On a stream the framer simply waits for the rest of the body.
  const framer = new StreamFramer();
  assert.deepEqual(framer.push(corpusBytes(D, "clerr.dat")), []);
  assert.ok(framer.buffered > 0);
});

torture("ncl.dat", "§3.1.2.3 negative Content-Length gets a 400 and kills a stream", () => {
  answered(D, "ncl.dat", 400, "Bad Request - Malformed Content-Length");
  const events = new StreamFramer().push(corpusBytes(D, "ncl.dat"));
  assert.deepEqual(events.map((e) => e.type), ["fatal"]);
});

torture("scalar02.dat", "§3.1.2.4 overlarge CSeq in a request gets a 400", () => {
  answered(D, "scalar02.dat", 400, "Bad Request - Malformed CSeq");
});

torture("scalarlg.dat", "§3.1.2.5 overlarge scalars in a response are dropped", () => {
  dropped(D, "scalarlg.dat");
});

torture("quotbal.dat", "§3.1.2.6 unterminated quoted display name gets a 400", () => {
  answered(D, "quotbal.dat", 400, "Bad Request - Malformed To");
});

torture("ltgtruri.dat", "§3.1.2.7 Request-URI in <> gets a 400", () => {
  answered(D, "ltgtruri.dat", 400, "Bad Request - Malformed Request-URI");
});

torture("lwsruri.dat", "§3.1.2.8 LWS inside the Request-URI gets a 400", () => {
  answered(D, "lwsruri.dat", 400, "Bad Request - Malformed Request-Line");
});

torture("lwsstart.dat", "§3.1.2.9 multiple SP between Request-Line elements gets a 400", () => {
  answered(D, "lwsstart.dat", 400, "Bad Request - Malformed Request-Line");
});

torture("trws.dat", "§3.1.2.10 trailing SP on the Request-Line is tolerated, not forwarded", () => {
  const m = validRequest(D, "trws.dat");
  assert.equal(m.method, "OPTIONS");
  assert.equal(sip(m.uri).user, "remote-target");
  const out = new TextDecoder().decode(serialize(m));
  assert.ok(out.startsWith("OPTIONS sip:remote-target@example.com SIP/2.0\r\n"));
});

torture("escruri.dat", "§3.1.2.11 escaped headers in the Request-URI get a 400", () => {
  answered(D, "escruri.dat", 400, "Bad Request - Malformed Request-URI");
});

torture("baddate.dat", "§3.1.2.12 a non-GMT Date gets a 400", () => {
  answered(D, "baddate.dat", 400, "Bad Request - Malformed Date");
});

torture("regbadct.dat", "§3.1.2.13 Contact URI with headers outside <> gets a 400", () => {
  answered(D, "regbadct.dat", 400, "Bad Request - Malformed Contact");
});

torture("badaspec.dat", "§3.1.2.14 spaces inside <addr-spec> get a 400", () => {
  answered(D, "badaspec.dat", 400, "Bad Request - Malformed To");
});

torture("baddn.dat", "§3.1.2.15 unquoted display name with a comma gets a 400", () => {
  answered(D, "baddn.dat", 400, "Bad Request - Malformed From");
});

torture("badvers.dat", "§3.1.2.16 SIP/7.0 gets 505 Version Not Supported", () => {
  answered(D, "badvers.dat", 505, "Version Not Supported");
  assert.equal(invalid(D, "badvers.dat").method, "OPTIONS");
});

torture("mismatch01.dat", "§3.1.2.17 CSeq method unlike the Request-Line gets a 400", () => {
  answered(D, "mismatch01.dat", 400, "Bad Request - CSeq method mismatch");
});

torture("mismatch02.dat", "§3.1.2.18 unknown method with a CSeq mismatch gets a 400", () => {
  answered(D, "mismatch02.dat", 400, "Bad Request - CSeq method mismatch");
  assert.equal(invalid(D, "mismatch02.dat").method, "NEWMETHOD");
});

torture("bigcode.dat", "§3.1.2.19 a status code above 699 is dropped", () => {
  dropped(D, "bigcode.dat");
});
