import assert from "node:assert/strict";
import {
  authParam,
  formatAuthValue,
  parseAuthValue,
} from "../../../../src/sip/message/auth_header.ts";
import {
  formatMediaType,
  isMediaType,
  mediaTypeParam,
  parseMediaType,
} from "../../../../src/sip/message/content_type.ts";
import { parseTokenList } from "../../../../src/sip/message/option_tags.ts";
import {
  formatCSeq,
  parseCSeq,
  parseDeltaSeconds,
} from "../../../../src/sip/message/scalar_headers.ts";
import {
  formatSessionTimer,
  parseMinSe,
  parseSessionExpires,
  sessionExpires,
} from "../../../../src/sip/message/session_timer.ts";
import { formatSipDate, parseSipDate } from "../../../../src/sip/message/sip_date.ts";

Deno.test("parseCSeq() reads number and method, up to 2**32-1 (RFC 3261 §20.16)", () => {
  assert.deepEqual(parseCSeq("4711 INVITE"), { ok: true, value: { seq: 4711, method: "INVITE" } });
  assert.deepEqual(parseCSeq("0009\t INVITE"), { ok: true, value: { seq: 9, method: "INVITE" } });
  assert.equal(parseCSeq("4294967295 BYE").ok, true);
  for (const bad of ["4294967296 BYE", "INVITE", "1", "-1 INVITE", "1 IN VITE", "1 <INVITE>"]) {
    assert.equal(parseCSeq(bad).ok, false, bad);
  }
  assert.equal(formatCSeq({ seq: 2, method: "ACK" }), "2 ACK");
});

Deno.test("parseDeltaSeconds() accepts 0…2**32-1 and nothing else", () => {
  assert.equal(parseDeltaSeconds("0"), 0);
  assert.equal(parseDeltaSeconds(" 3600 "), 3600);
  assert.equal(parseDeltaSeconds("4294967295"), 4294967295);
  assert.equal(parseDeltaSeconds("4294967296"), undefined);
  assert.equal(parseDeltaSeconds("-1"), undefined);
  assert.equal(parseDeltaSeconds("1h"), undefined);
  assert.equal(parseDeltaSeconds(null), undefined);
});

Deno.test("parseMediaType() reads type, subtype and parameters", () => {
  const r = parseMediaType('multipart/mixed ; boundary="abc;def"; charset=utf-8');
  assert.ok(r.ok);
  assert.equal(r.value.type, "multipart");
  assert.equal(mediaTypeParam(r.value, "BOUNDARY"), "abc;def");
  assert.ok(isMediaType(r.value, "Multipart/Mixed"));
  assert.equal(formatMediaType(r.value), 'multipart/mixed;boundary="abc;def";charset=utf-8');
  assert.equal(parseMediaType("application").ok, false);
  assert.equal(parseMediaType("application/sdp;").ok, false);
});

Deno.test("parseTokenList() reads option tags and allows an empty Supported", () => {
  assert.deepEqual(parseTokenList("timer, 100rel ,replaces"), {
    ok: true,
    value: ["timer", "100rel", "replaces"],
  });
  assert.deepEqual(parseTokenList(""), { ok: true, value: [] });
  assert.equal(parseTokenList("timer,,100rel").ok, false);
  assert.equal(parseTokenList("tim er").ok, false);
});

Deno.test("parseSessionExpires() reads the interval and the refresher (RFC 4028 §4)", () => {
  const r = parseSessionExpires("1800 ; refresher = UAS;x=y");
  assert.ok(r.ok);
  assert.equal(r.value.seconds, 1800);
  assert.equal(r.value.refresher, "uas");
  assert.equal(formatSessionTimer(sessionExpires(90, "uac")), "90;refresher=uac");
  assert.equal(parseSessionExpires("1800;refresher=nobody").ok, false);
  assert.equal(parseSessionExpires("soon").ok, false);
  const min = parseMinSe("90");
  assert.ok(min.ok);
  assert.equal(min.value.seconds, 90);
});

Deno.test("parseAuthValue() reads a digest challenge with quoted and token values", () => {
  const r = parseAuthValue(
    'Digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth,auth-int",\t' +
      'nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=MD5',
  );
  assert.ok(r.ok);
  assert.equal(r.value.scheme, "Digest");
  assert.equal(authParam(r.value, "realm"), "atlanta.com");
  assert.equal(authParam(r.value, "QOP"), "auth,auth-int");
  assert.equal(authParam(r.value, "opaque"), "");
  assert.equal(authParam(r.value, "algorithm"), "MD5");
  assert.equal(authParam(r.value, "missing"), undefined);
  assert.deepEqual(parseAuthValue(formatAuthValue(r.value)), r);
});

Deno.test("parseAuthValue() reads credentials, loose unquoted values and token68", () => {
  const r = parseAuthValue("Digest username=bob, uri=sip:bob@biloxi.com, nc=00000001, qop=auth");
  assert.ok(r.ok);
  assert.equal(authParam(r.value, "uri"), "sip:bob@biloxi.com");
  const bearer = parseAuthValue("Bearer eyJhbGciOi.JIUzI1NiJ9-_=");
  assert.ok(bearer.ok);
  assert.equal(bearer.value.token68, "eyJhbGciOi.JIUzI1NiJ9-_=");
  assert.equal(formatAuthValue(bearer.value), "Bearer eyJhbGciOi.JIUzI1NiJ9-_=");
  for (const bad of ["Digest", "Digest ,", 'Digest realm="x" nonce="y"', "", 'Digest a="b']) {
    assert.equal(parseAuthValue(bad).ok, false, bad);
  }
});

Deno.test("formatAuthValue() quotes what must be quoted", () => {
  assert.equal(
    formatAuthValue({
      scheme: "Digest",
      params: [
        { name: "realm", value: 'a "b"', quoted: true },
        { name: "algorithm", value: "MD5", quoted: false },
        { name: "opaque", value: "", quoted: false },
      ],
    }),
    'Digest realm="a \\"b\\"", algorithm=MD5, opaque=""',
  );
});

Deno.test("parseSipDate() accepts RFC 1123 dates in GMT only (RFC 3261 §20.17)", () => {
  const r = parseSipDate("Sat, 13 Nov 2010 23:29:00 GMT");
  assert.ok(r.ok);
  assert.equal(r.value.getTime(), Date.UTC(2010, 10, 13, 23, 29, 0));
  assert.equal(formatSipDate(r.value), "Sat, 13 Nov 2010 23:29:00 GMT");
  for (
    const bad of [
      "Fri, 01 Jan 2010 16:00:00 EST",
      "sat, 13 Nov 2010 23:29:00 GMT",
      "Sat, 13 Nov 2010 24:00:00 GMT",
      "13 Nov 2010 23:29:00 GMT",
    ]
  ) assert.equal(parseSipDate(bad).ok, false, bad);
});
