import assert from "node:assert/strict";
import {
  canonicalHeaderName,
  compactHeaderName,
  headerKey,
} from "../../../../src/sip/message/header_names.ts";
import { readField, SipHeaders } from "../../../../src/sip/message/headers.ts";
import { nameAddr } from "../../../../src/sip/message/name_addr.ts";
import { parseMessage } from "../../../../src/sip/message/parser.ts";
import { sipUri } from "../../../../src/sip/message/uri.ts";
import { via } from "../../../../src/sip/message/via.ts";

const enc = new TextEncoder();

function parse(lines: string[], body = "") {
  const r = parseMessage(enc.encode(lines.join("\r\n") + "\r\n\r\n" + body));
  assert.ok(r.ok, r.ok ? "" : r.error.message);
  return r.message;
}

const CORE = [
  "Via: SIP/2.0/UDP a.example;branch=z9hG4bK1",
  "From: <sip:a@example.com>;tag=1",
  "To: <sip:b@example.com>",
  "Call-ID: c1",
  "CSeq: 1 OPTIONS",
];

Deno.test("headerKey() expands every compact form (RFC 3261 §7.3.3 and extensions)", () => {
  const expected: Record<string, string> = {
    i: "call-id",
    m: "contact",
    e: "content-encoding",
    l: "content-length",
    c: "content-type",
    f: "from",
    s: "subject",
    k: "supported",
    t: "to",
    v: "via",
    o: "event",
    u: "allow-events",
    r: "refer-to",
    b: "referred-by",
    x: "session-expires",
    y: "identity",
    a: "accept-contact",
    j: "reject-contact",
    d: "request-disposition",
  };
  for (const [short, long] of Object.entries(expected)) {
    assert.equal(headerKey(short), long);
    assert.equal(headerKey(short.toUpperCase()), long);
    assert.equal(compactHeaderName(long), short);
  }
});

Deno.test("canonicalHeaderName() spells known names our way and keeps unknown ones", () => {
  assert.equal(canonicalHeaderName("call-id"), "Call-ID");
  assert.equal(canonicalHeaderName("CSEQ"), "CSeq");
  assert.equal(canonicalHeaderName("www-authenticate"), "WWW-Authenticate");
  assert.equal(canonicalHeaderName("x"), "Session-Expires");
  assert.equal(canonicalHeaderName("X-Custom-Thing"), "X-Custom-Thing");
});

Deno.test("header names are case-insensitive and compact forms find long names", () => {
  const m = parse([
    "OPTIONS sip:b@example.com SIP/2.0",
    "v: SIP/2.0/UDP a.example;branch=z9hG4bK1",
    "f: <sip:a@example.com>;tag=1",
    "t: <sip:b@example.com>",
    "i: c1",
    "cSeQ: 1 OPTIONS",
    "k: timer",
    "x-CUSTOM: one",
  ]);
  assert.equal(m.headers.get("CALL-ID"), "c1");
  assert.equal(m.headers.get("i"), "c1");
  assert.equal(m.callId, "c1");
  assert.deepEqual(m.supported, ["timer"]);
  assert.equal(m.headers.get("X-Custom"), "one");
  assert.deepEqual([...m.headers].map((e) => e.name).slice(0, 6), [
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Supported",
  ]);
});

Deno.test("comma-separated list headers split outside quotes and <…> only", () => {
  const m = parse([
    "OPTIONS sip:b@example.com SIP/2.0",
    "Via: SIP/2.0/UDP a.example;branch=z9hG4bK1, SIP/2.0/TCP b.example;branch=z9hG4bK2",
    "From: <sip:a@example.com>;tag=1",
    "To: <sip:b@example.com>",
    "Call-ID: c1",
    "CSeq: 1 OPTIONS",
    'Contact: "Doe, John" <sip:j,r@x.example;a=1>;q=0.5, <sip:k@y.example>',
    "Route: <sip:p1.example;lr>,<sip:p2.example;lr>",
    'Reason: SIP;cause=200;text="a, b"',
  ]);
  assert.deepEqual(m.via.map((v) => v.host), ["a.example", "b.example"]);
  assert.equal(m.contacts.length, 2);
  const first = m.contacts[0];
  assert.ok(first !== "*" && first.uri.kind === "sip");
  assert.equal(first.displayName, "Doe, John");
  assert.equal(first.uri.user, "j,r");
  assert.deepEqual(m.routes.map((r) => r.uri.kind === "sip" && r.uri.host), [
    "p1.example",
    "p2.example",
  ]);
  assert.deepEqual(m.headers.getAll("Reason"), ['SIP;cause=200;text="a, b"']);
});

Deno.test("repeated header fields keep their order across lines", () => {
  const m = parse([
    "OPTIONS sip:b@example.com SIP/2.0",
    ...CORE,
    "Record-Route: <sip:r1.example;lr>",
    "X-A: 1",
    "Record-Route: <sip:r2.example;lr>, <sip:r3.example;lr>",
    "X-A: 2",
  ]);
  assert.deepEqual(
    m.recordRoutes.map((r) => r.uri.kind === "sip" && r.uri.host),
    ["r1.example", "r2.example", "r3.example"],
  );
  assert.deepEqual(m.headers.getAll("x-a"), ["1", "2"]);
});

Deno.test("folded lines are unfolded into one value (RFC 3261 §7.3.1)", () => {
  const m = parse([
    "OPTIONS sip:b@example.com SIP/2.0",
    ...CORE,
    "Subject: I know you're there,",
    "   pick up the phone",
    "\tand talk to me!",
    "Supported:",
    " timer,",
    "  100rel",
  ]);
  assert.equal(m.headers.get("Subject"), "I know you're there, pick up the phone and talk to me!");
  assert.deepEqual(m.supported, ["timer", "100rel"]);
});

Deno.test("SipHeaders appends typed values, formatting and re-reading them", () => {
  const h = new SipHeaders();
  h.append(
    "Via",
    via({ transport: "UDP", host: "h.example", params: [{ name: "branch", value: "z9hG4bKa" }] }),
  );
  h.append("To", nameAddr({ displayName: "Bob", uri: sipUri({ user: "bob", host: "b.example" }) }));
  h.append("Max-Forwards", 70);
  h.append("Supported", ["timer", "replaces"]);
  h.append("X-Thing", "value");
  assert.deepEqual([...h].map((e) => `${e.name}: ${e.value}`), [
    "Via: SIP/2.0/UDP h.example;branch=z9hG4bKa",
    'To: "Bob" <sip:bob@b.example>',
    "Max-Forwards: 70",
    "Supported: timer, replaces",
    "X-Thing: value",
  ]);
  assert.equal(h.first("Max-Forwards"), 70);
  assert.equal(h.first("Via")?.branch, "z9hG4bKa");
});

Deno.test("SipHeaders parses raw values of known headers and refuses malformed ones", () => {
  const h = new SipHeaders([["CSeq", "7 INVITE"]]);
  assert.deepEqual(h.first("CSeq"), { seq: 7, method: "INVITE" });
  assert.throws(() => h.append("CSeq", "seven INVITE"), /Cannot parse CSeq header/);
  assert.throws(() => h.append("Via", "SIP/2.0/UDP"), TypeError);
  assert.throws(() => h.append("Bad Name", "x"), TypeError);
});

Deno.test("SipHeaders refuses CR, LF and NUL in values (header injection)", () => {
  const h = new SipHeaders();
  for (const value of ["a\r\nVia: evil", "a\nb", "a\rb", "a\0b", "x\r\n\r\nbody"]) {
    assert.throws(() => h.append("X-Note", value), /control characters/);
    assert.throws(() => h.set("Subject", value), /control characters/);
  }
  assert.equal(h.size, 0);
});

Deno.test("SipHeaders prepend, set, delete and removeFirst keep the rest in order", () => {
  const h = new SipHeaders([
    ["Via", "SIP/2.0/UDP b.example;branch=z9hG4bKb"],
    ["X-A", "1"],
    ["Via", "SIP/2.0/UDP c.example;branch=z9hG4bKc"],
    ["X-A", "2"],
  ]);
  h.prepend("Via", "SIP/2.0/UDP a.example;branch=z9hG4bKa");
  assert.deepEqual(h.all("Via").map((v) => v.host), ["a.example", "b.example", "c.example"]);
  assert.ok(h.removeFirst("v"));
  assert.deepEqual(h.all("Via").map((v) => v.host), ["b.example", "c.example"]);
  h.set("x-a", "3");
  assert.deepEqual([...h].map((e) => e.value), [
    "SIP/2.0/UDP b.example;branch=z9hG4bKb",
    "3",
    "SIP/2.0/UDP c.example;branch=z9hG4bKc",
  ]);
  assert.equal(h.delete("VIA"), 2);
  assert.equal(h.has("via"), false);
  assert.equal(h.removeFirst("Via"), false);
});

Deno.test("SipHeaders.clone() is independent of the original", () => {
  const h = new SipHeaders([["X-A", "1"]]);
  const c = h.clone();
  c.append("X-B", "2");
  assert.equal(h.size, 1);
  assert.equal(c.size, 2);
});

Deno.test("readField() keeps a malformed list line whole so a 400 can echo it", () => {
  const r = readField("Via", "SIP/2.0/UDP a;;, SIP/2.0/UDP b");
  assert.equal(r.error, "empty parameter");
  assert.deepEqual(r.entries.map((e) => [e.value, e.ok]), [[
    "SIP/2.0/UDP a;;, SIP/2.0/UDP b",
    false,
  ]]);
});

Deno.test("a malformed Expires is tolerated as absent (RFC 4475 §3.1.2.4)", () => {
  const m = parse([
    "REGISTER sip:example.com SIP/2.0",
    ...CORE.slice(0, 4),
    "CSeq: 1 REGISTER",
    "Expires: 99999999999999",
  ]);
  assert.equal(m.expires, undefined);
  assert.equal(m.headers.get("Expires"), "99999999999999");
  const ok = parse([
    "REGISTER sip:example.com SIP/2.0",
    ...CORE.slice(0, 4),
    "CSeq: 1 REGISTER",
    "Expires: 600",
  ]);
  assert.equal(ok.expires, 600);
});

Deno.test("a Contact * shares its line with no other value (RFC 3261 §20.10)", () => {
  assert.equal(readField("Contact", "*").error, undefined);
  assert.equal(readField("Contact", "*, <sip:a@b>").error, "* must be the only Contact");
  assert.throws(() => new SipHeaders([["m", "<sip:a@b>, *"]]), TypeError);
});

Deno.test("readField() stops reading a list line longer than the value budget", () => {
  const line = Array.from({ length: 50 }, (_, i) => `<sip:h${i}.example>`).join(", ");
  assert.equal(readField("Route", line, 10).error, "too many values");
  assert.equal(readField("Route", line, 50).entries.length, 50);
});

Deno.test("SipHeaders refuses CR and LF even at the ends of a value", () => {
  const h = new SipHeaders();
  for (const value of ["value\r\n", "\r\nVia: SIP/2.0/UDP evil", "\nx"]) {
    assert.throws(() => h.append("X-Note", value), /control characters/);
  }
  h.append("X-Note", " \tpadded\t ");
  assert.equal(h.get("X-Note"), "padded");
});
