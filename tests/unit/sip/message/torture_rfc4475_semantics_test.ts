/**
 * RFC 4475 §3.2–3.4 (transaction, application, compatibility) torture messages, one test per corpus file, each checking the handling its
 * section asks for and the fields that make the message interesting.
 */
import assert from "node:assert/strict";
import { authParam } from "../../../../src/sip/message/auth_header.ts";
import { buildErrorResponse } from "../../../../src/sip/message/build_response.ts";
import { isMediaType } from "../../../../src/sip/message/content_type.ts";
import { getParam } from "../../../../src/sip/message/params.ts";
import { parseMessage } from "../../../../src/sip/message/parser.ts";
import { serialize } from "../../../../src/sip/message/serializer.ts";
import { StreamFramer } from "../../../../src/sip/message/stream_framer.ts";
import type { SipUri } from "../../../../src/sip/message/uri.ts";
import { isRfc3261Branch } from "../../../../src/sip/message/via.ts";
import {
  addr,
  answered,
  asSip as sip,
  corpusBytes,
  corpusFiles,
  invalid,
  validRequest,
  validResponse,
} from "./corpus.ts";

const D = "rfc4475";

function torture(file: string, title: string, fn: () => void): void {
  Deno.test(`rfc4475 ${file}: ${title}`, fn);
}

// §3.2 Transaction layer.

torture("badbranch.dat", "§3.2.1 a bare magic cookie is not an RFC 3261 branch", () => {
  const m = validRequest(D, "badbranch.dat");
  assert.equal(m.topVia?.branch, "z9hG4bK");
  assert.equal(isRfc3261Branch(m.topVia?.branch), false);
});

// §3.3 Application layer: parse (or refuse) so the application can answer.

torture("insuf.dat", "§3.3.1 missing From, To and Call-ID get a 400 naming them", () => {
  answered(D, "insuf.dat", 400, "Bad Request - Missing From, To, Call-ID");
  const res = buildErrorResponse(invalid(D, "insuf.dat"));
  assert.deepEqual(res?.headers.getAll("CSeq"), ["193942 INVITE"]);
});

torture("unkscm.dat", "§3.3.2 unknown Request-URI scheme parses for a 416", () => {
  const m = validRequest(D, "unkscm.dat");
  assert.deepEqual(m.uri, {
    kind: "other",
    scheme: "nobodyKnowsThisScheme",
    value: "totallyopaquecontent",
  });
});

torture("novelsc.dat", "§3.3.3 known but atypical Request-URI scheme parses for a 416", () => {
  const m = validRequest(D, "novelsc.dat");
  assert.deepEqual(m.uri, { kind: "other", scheme: "soap.beep", value: "//192.0.2.103:3002" });
});

torture("unksm2.dat", "§3.3.4 unknown URI schemes in To, From and Contact parse", () => {
  const m = validRequest(D, "unksm2.dat");
  assert.deepEqual(m.to.uri, { kind: "other", scheme: "isbn", value: "2983792873" });
  assert.deepEqual(m.from.uri, { kind: "other", scheme: "http", value: "//www.example.com" });
  assert.deepEqual(addr(m.contacts[0]).uri, { kind: "other", scheme: "name", value: "John_Smith" });
});

torture("bext01.dat", "§3.3.5 Require and Proxy-Require option tags are read for a 420", () => {
  const m = validRequest(D, "bext01.dat");
  assert.deepEqual(m.require, ["nothingSupportsThis", "nothingSupportsThisEither"]);
  assert.deepEqual(m.proxyRequire, ["noProxiesSupportThis", "norDoAnyProxiesSupportThis"]);
});

torture("invut.dat", "§3.3.6 unknown Content-Type parses for a 415", () => {
  const m = validRequest(D, "invut.dat");
  assert.ok(isMediaType(m.contentType, "application/unknownformat"));
  assert.equal(m.body.length, 40);
});

torture("regaut01.dat", "§3.3.7 unknown Authorization scheme parses generically", () => {
  const m = validRequest(D, "regaut01.dat");
  const [cred] = m.authorization;
  assert.equal(cred.scheme, "NoOneKnowsThisScheme");
  assert.equal(authParam(cred, "opaque-data"), "here");
});

torture("multi01.dat", "§3.3.8 single-valued header fields given twice get a 400", () => {
  const err = invalid(D, "multi01.dat");
  assert.equal(err.status, 400);
  assert.match(err.reason, /^Bad Request - Multiple (CSeq|Call-ID|To|From|Max-Forwards)$/);
  assert.equal(err.canRespond, true);
});

torture("mcl01.dat", "§3.3.9 two Content-Length values get a 400 and kill a stream", () => {
  answered(D, "mcl01.dat", 400, "Bad Request - Multiple Content-Length");
  const events = new StreamFramer().push(corpusBytes(D, "mcl01.dat"));
  assert.deepEqual(events.map((e) => e.type), ["fatal"]);
});

torture("bcast.dat", "§3.3.10 200 with a broadcast second Via parses (the UAC drops it)", () => {
  const m = validResponse(D, "bcast.dat");
  assert.equal(m.via.length, 2);
  assert.equal(m.via[1].host, "255.255.255.255");
});

torture("zeromf.dat", "§3.3.11 Max-Forwards of zero parses", () => {
  assert.equal(validRequest(D, "zeromf.dat").maxForwards, 0);
});

torture(
  "cparam01.dat",
  "§3.3.12 parameter after an unbracketed Contact is a header parameter",
  () => {
    const c = addr(validRequest(D, "cparam01.dat").contacts[0]);
    assert.deepEqual(sip(c.uri).params, []);
    assert.deepEqual(c.params, [{ name: "unknownparam", value: null }]);
  },
);

torture("cparam02.dat", "§3.3.13 parameter inside <> is a URI parameter", () => {
  const c = addr(validRequest(D, "cparam02.dat").contacts[0]);
  assert.deepEqual(sip(c.uri).params, [{ name: "unknownparam", value: null }]);
  assert.deepEqual(c.params, []);
});

torture("regescrt.dat", "§3.3.14 escaped Route header inside a bracketed Contact decodes", () => {
  const c = addr(validRequest(D, "regescrt.dat").contacts[0]);
  assert.deepEqual(sip(c.uri).headers, [{ name: "Route", value: "<sip:sip.example.com>" }]);
});

torture("sdp01.dat", "§3.3.15 unacceptable Accept with an SDP body parses for a 406", () => {
  const m = validRequest(D, "sdp01.dat");
  assert.equal(m.headers.get("Accept"), "text/nobodyKnowsThis");
  assert.ok(isMediaType(m.contentType, "application/sdp"));
});

// §3.4 Backward compatibility.

torture("inv2543.dat", "§3.4.1 RFC 2543 INVITE without branch, tags or lengths parses", () => {
  const m = validRequest(D, "inv2543.dat");
  assert.equal(m.topVia?.branch, undefined);
  assert.equal(m.fromTag, undefined);
  assert.equal(m.maxForwards, undefined);
  assert.equal(m.contentLength, undefined);
  assert.equal(getParam((m.recordRoutes[0].uri as SipUri).params, "maddr"), "ss1.example.com");
  const raw = corpusBytes(D, "inv2543.dat");
  assert.deepEqual(m.body, raw.subarray(raw.length - m.body.length));
  assert.ok(m.bodyText.startsWith("v=0\r\n") && m.bodyText.endsWith("RTP/AVP 0\r\n"));
});

Deno.test("rfc4475 corpus: every file has exactly one test across the torture test files", () => {
  const names: string[] = [];
  for (const f of ["torture_rfc4475_parser_test.ts", "torture_rfc4475_semantics_test.ts"]) {
    const text = Deno.readTextFileSync(new URL(f, import.meta.url));
    for (const m of text.matchAll(/^torture\(\s*"([^"]+)"/gm)) names.push(m[1]);
  }
  assert.deepEqual(names.sort(), corpusFiles(D));
  assert.equal(names.length, 49);
});

Deno.test("rfc4475 corpus: every accepted message survives serialize and parse unchanged", () => {
  for (const file of corpusFiles(D)) {
    const first = parseMessage(corpusBytes(D, file));
    if (!first.ok) continue;
    const bytes = serialize(first.message);
    const again = parseMessage(bytes);
    assert.ok(again.ok, `${file} re-parses: ${again.ok ? "" : again.error.message}`);
    assert.deepEqual(serialize(again.message), bytes, `${file} serializes to a fixpoint`);
    if (first.message.contentLength === first.message.body.length) {
      assert.deepEqual(again.message, first.message, `${file} keeps its structure`);
    }
  }
});
