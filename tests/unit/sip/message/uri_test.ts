import assert from "node:assert/strict";
import {
  formatUri,
  parseRequestUri,
  parseUri,
  type SipUri,
  sipUri,
  type Uri,
  uriParam,
} from "../../../../src/sip/message/uri.ts";
import { uriEquals } from "../../../../src/sip/message/uri_compare.ts";

function uri(text: string): Uri {
  const r = parseUri(text);
  assert.ok(r.ok, r.ok ? "" : `${text}: ${r.error}`);
  return r.value;
}

function sip(text: string): SipUri {
  const u = uri(text);
  assert.equal(u.kind, "sip");
  return u as SipUri;
}

function rejects(text: string): void {
  assert.equal(parseUri(text).ok, false, `${text} should be rejected`);
}

Deno.test("parseUri() reads every component of a full SIP URI", () => {
  assert.deepEqual(
    sip(
      "sips:alice:secret@atlanta.com:5061;transport=tls;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent",
    ),
    {
      kind: "sip",
      scheme: "sips",
      user: "alice",
      password: "secret",
      host: "atlanta.com",
      port: 5061,
      params: [
        { name: "transport", value: "tls" },
        { name: "lr", value: null },
        { name: "maddr", value: "239.255.255.1" },
      ],
      headers: [
        { name: "subject", value: "project x" },
        { name: "priority", value: "urgent" },
      ],
    },
  );
});

Deno.test("parseUri() leaves absent components absent", () => {
  assert.deepEqual(sip("sip:example.com"), {
    kind: "sip",
    scheme: "sip",
    host: "example.com",
    params: [],
    headers: [],
  });
});

Deno.test("parseUri() treats the scheme case-insensitively", () => {
  assert.equal(sip("SIP:bob@example.com").scheme, "sip");
  assert.equal(sip("SiPs:bob@example.com").scheme, "sips");
});

Deno.test("parseUri() decodes escapes in user, password, parameters and headers", () => {
  const u = sip("sip:%61lice:p%40ss@host;n%61me=v%20al?h%3D=%3Csip:x%3E");
  assert.equal(u.user, "alice");
  assert.equal(u.password, "p@ss");
  assert.deepEqual(u.params, [{ name: "name", value: "v al" }]);
  assert.deepEqual(u.headers, [{ name: "h=", value: "<sip:x>" }]);
});

Deno.test("parseUri() reads telephone-subscriber users with visual separators", () => {
  const u = sip("sip:+1-212-555-1212:1234@gateway.com;user=phone");
  assert.equal(u.user, "+1-212-555-1212");
  assert.equal(u.password, "1234");
  assert.equal(uriParam(u, "user"), "phone");
});

Deno.test("parseUri() reads IPv6 references with and without a port", () => {
  assert.equal(sip("sip:[2001:db8::1]").host, "[2001:db8::1]");
  const u = sip("sip:alice@[2001:db8::1]:5070;transport=tcp");
  assert.equal(u.host, "[2001:db8::1]");
  assert.equal(u.port, 5070);
  assert.equal(uriParam(u, "transport"), "tcp");
});

Deno.test("parseUri() rejects malformed hosts, ports and escapes", () => {
  rejects("sip:2001:db8::1"); // unbracketed IPv6 (RFC 5118 §4.2)
  rejects("sip:[2001:db8:::1]"); // three colons
  rejects("sip:[2001:db8::1"); // unterminated
  rejects("sip:[192.0.2.1]"); // IPv4 in brackets
  rejects("sip:host:99999");
  rejects("sip:host:");
  rejects("sip:host:5060x");
  rejects("sip:256.1.1.1");
  rejects("sip:-bad.example.com");
  rejects("sip:alice@");
  rejects("sip:@host");
  rejects("sip:al%zzice@host");
  rejects("sip:alice@host;;lr");
  rejects("sip:alice@host;=x");
  rejects("sip:alice@host?noequals");
  rejects("sip:alice@ho st");
  rejects("sip:al ice@host");
  rejects("sip:alice@host>");
  rejects("<sip:alice@host>");
  rejects("alice@host");
  rejects("");
});

Deno.test("parseUri() keeps tel URIs with their parameters", () => {
  assert.deepEqual(uri("tel:+1-201-555-0123;ext=1234;phone-context=example.com"), {
    kind: "tel",
    scheme: "tel",
    number: "+1-201-555-0123",
    params: [
      { name: "ext", value: "1234" },
      { name: "phone-context", value: "example.com" },
    ],
  });
  assert.equal(parseUri("tel:").ok, false);
  assert.equal(parseUri("tel:+").ok, false);
  assert.equal(parseUri("tel:12 34").ok, false);
});

Deno.test("parseUri() keeps unknown schemes opaque", () => {
  assert.deepEqual(uri("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"), {
    kind: "other",
    scheme: "urn",
    value: "uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
  });
  rejects("mailto:a b@example.com");
  rejects("http:");
});

Deno.test("parseRequestUri() refuses URI headers (RFC 3261 §19.1.1 Table 1)", () => {
  assert.equal(parseRequestUri("sip:bob@example.com?Subject=hi").ok, false);
  assert.equal(parseRequestUri("sip:bob@example.com;transport=tcp").ok, true);
});

Deno.test("formatUri() re-escapes only what each component needs", () => {
  const u = sipUri({
    user: "I have spaces@;?",
    password: "p:w",
    host: "example.com",
    port: 5060,
    params: [{ name: "lr", value: null }, { name: "x", value: "a b;c" }],
    headers: [{ name: "Subject", value: "hi there&co" }],
  });
  assert.equal(
    formatUri(u),
    "sip:I%20have%20spaces%40;?:p%3Aw@example.com:5060;lr;x=a%20b%3Bc?Subject=hi%20there%26co",
  );
  assert.deepEqual(sip(formatUri(u)), u);
});

Deno.test("formatUri() and parseUri() round-trip non-ASCII and NUL characters", () => {
  for (const user of ["\0", "Ünïcödé", "a%b", "😀"]) {
    const u = sipUri({ user, host: "h.example" });
    assert.deepEqual(sip(formatUri(u)), u);
  }
});

Deno.test("uriEquals() follows the RFC 3261 §19.1.4 equivalent examples", () => {
  const pairs: [string, string][] = [
    ["sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"],
    ["sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"],
    ["sip:carol@chicago.com", "sip:carol@chicago.com;security=on"],
    ["sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"],
    [
      "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
      "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
    ],
    [
      "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
      "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
    ],
    ["sip:alice@[2001:DB8::1]", "sip:alice@[2001:db8:0::1]"],
  ];
  for (const [a, b] of pairs) assert.ok(uriEquals(uri(a), uri(b)), `${a} == ${b}`);
});

Deno.test("uriEquals() follows the RFC 3261 §19.1.4 non-equivalent examples", () => {
  const pairs: [string, string][] = [
    ["SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"],
    ["sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"],
    ["sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp;user=phone"],
    ["sip:bob@biloxi.com;transport=udp", "sip:bob@biloxi.com;transport=tcp"],
    ["sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"],
    ["sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"],
    ["sip:bob@biloxi.com", "sips:bob@biloxi.com"],
    ["sip:bob@biloxi.com", "sip:bob@biloxi.com;maddr=192.0.2.1"],
    ["sip:bob:pw@biloxi.com", "sip:bob@biloxi.com"],
    ["sip:bob@biloxi.com", "tel:+15551234"],
  ];
  for (const [a, b] of pairs) assert.ok(!uriEquals(uri(a), uri(b)), `${a} != ${b}`);
});

Deno.test("uriEquals() compares tel numbers without visual separators (RFC 3966 §4)", () => {
  assert.ok(uriEquals(uri("tel:+1-201-555-0123"), uri("tel:+1(201)5550123")));
  assert.ok(!uriEquals(uri("tel:+1-201-555-0123"), uri("tel:+1-201-555-0124")));
  assert.ok(!uriEquals(uri("tel:5550123;phone-context=a.com"), uri("tel:5550123")));
});

Deno.test("uriEquals() compares other schemes by scheme and exact text", () => {
  assert.ok(uriEquals(uri("URN:x"), uri("urn:x")));
  assert.ok(!uriEquals(uri("urn:x"), uri("urn:X")));
});
