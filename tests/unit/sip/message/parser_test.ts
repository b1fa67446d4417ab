import assert from "node:assert/strict";
import { buildErrorResponse } from "../../../../src/sip/message/build_response.ts";
import type { SipRequest } from "../../../../src/sip/message/message.ts";
import { isKeepAlive, parseMessage } from "../../../../src/sip/message/parser.ts";
import { serialize } from "../../../../src/sip/message/serializer.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const HEAD = [
  "MESSAGE sip:b@example.com SIP/2.0",
  "Via: SIP/2.0/UDP a.example:5060;branch=z9hG4bK1;rport",
  "Max-Forwards: 70",
  "From: <sip:a@example.com>;tag=1",
  "To: <sip:b@example.com>",
  "Call-ID: c1@a.example",
  "CSeq: 1 MESSAGE",
  "Content-Type: text/plain",
];

function bytes(lines: readonly string[], body = ""): Uint8Array {
  return enc.encode(lines.join("\r\n") + "\r\n\r\n" + body);
}

function ok(b: Uint8Array): SipRequest {
  const r = parseMessage(b);
  assert.ok(r.ok, r.ok ? "" : r.error.message);
  assert.equal(r.message.kind, "request");
  return r.message as SipRequest;
}

function err(b: Uint8Array) {
  const r = parseMessage(b);
  assert.ok(!r.ok, "should be refused");
  return r.error;
}

Deno.test("parseMessage() takes the rest of a datagram as body without Content-Length (RFC 3261 §18.3)", () => {
  const m = ok(bytes(HEAD, "hello\r\nworld"));
  assert.equal(m.bodyText, "hello\r\nworld");
  assert.equal(m.contentLength, undefined);
});

Deno.test("parseMessage() truncates a datagram body to a smaller Content-Length", () => {
  const m = ok(bytes([...HEAD, "Content-Length: 5"], "hello, and garbage"));
  assert.equal(m.bodyText, "hello");
});

Deno.test("parseMessage() refuses a Content-Length beyond the datagram with a 400", () => {
  const e = err(bytes([...HEAD, "Content-Length: 50"], "short"));
  assert.equal(e.status, 400);
  assert.equal(e.reason, "Bad Request - Content-Length exceeds body");
  assert.equal(e.canRespond, true);
});

Deno.test("parseMessage() refuses non-numeric, negative and repeated Content-Length", () => {
  for (const cl of ["five", "-1", "1.5", "0x10", ""]) {
    assert.equal(
      err(bytes([...HEAD, `Content-Length: ${cl}`])).reason,
      "Bad Request - Malformed Content-Length",
      cl,
    );
  }
  assert.equal(
    err(bytes([...HEAD, "l: 0", "Content-Length: 0"])).reason,
    "Bad Request - Multiple Content-Length",
  );
});

Deno.test("parseMessage() skips CRLFs before the start line (RFC 3261 §7.5)", () => {
  const m = ok(enc.encode("\r\n\r\n\r\n" + dec.decode(bytes([...HEAD, "Content-Length: 0"]))));
  assert.equal(m.method, "MESSAGE");
});

Deno.test("isKeepAlive() recognises datagrams made only of CRLFs", () => {
  assert.equal(isKeepAlive(enc.encode("\r\n\r\n")), true);
  assert.equal(isKeepAlive(enc.encode("\r\n")), true);
  assert.equal(isKeepAlive(enc.encode("")), false);
  assert.equal(isKeepAlive(enc.encode("\r\nX")), false);
  assert.equal(parseMessage(enc.encode("\r\n\r\n")).ok, false);
});

Deno.test("parseMessage() refuses a message without the empty line after the headers", () => {
  const text = HEAD.join("\r\n") + "\r\n";
  const e = err(enc.encode(text));
  assert.equal(e.reason, "Bad Request - Truncated message");
  assert.equal(e.canRespond, false);
});

Deno.test("parseMessage() enforces size and header count limits", () => {
  const big = bytes([...HEAD, "X-Big: " + "a".repeat(2000)]);
  assert.equal(parseMessage(big, { maxBytes: 1000 }).ok, false);
  const e = err(bytes([...HEAD, "X-Big: " + "a".repeat(70_000)]));
  assert.equal(e.status, 513);
  assert.equal(e.canRespond, false);
  assert.equal(parseMessage(big, { maxHeaderBytes: 1000 }).ok, false);
  const many = Array.from({ length: 300 }, (_, i) => `X-N${i}: ${i}`);
  const tooMany = err(bytes([...HEAD, ...many]));
  assert.equal(tooMany.reason, "Bad Request - Too many headers");
  assert.ok(ok(bytes([...HEAD, ...many.slice(0, 100)])));
  assert.equal(parseMessage(bytes([...HEAD, ...many.slice(0, 100)]), { maxHeaders: 50 }).ok, false);
});

Deno.test("parseMessage() refuses bare LF, bare CR and raw control characters in headers", () => {
  const cases = [
    enc.encode(HEAD.join("\n") + "\n\n"),
    bytes([...HEAD, "X-A: one\rtwo"]),
    bytes([...HEAD, "X-A: one\ntwo"]),
    bytes([...HEAD, "X-A: nul\0here"]),
    bytes([...HEAD, "Subject: bell\x07"]),
  ];
  for (const c of cases) assert.equal(parseMessage(c).ok, false);
  // A quoted-pair may carry control characters (RFC 3261 §25.1).
  const m = ok(bytes([...HEAD, 'X-A: "esc \\\x07 ok"']));
  assert.equal(m.headers.get("X-A"), '"esc \\\x07 ok"');
});

Deno.test("parseMessage() refuses malformed header lines", () => {
  for (const line of ["NoColonHere", ": no name", "Bad Name: x", " leading: fold"]) {
    const e = err(bytes([HEAD[0], line, ...HEAD.slice(1)]));
    assert.equal(e.reason, "Bad Request - Malformed header line", line);
  }
});

Deno.test("parseMessage() checks Max-Forwards and CSeq ranges", () => {
  assert.equal(
    err(bytes([...HEAD.filter((l) => !l.startsWith("Max")), "Max-Forwards: 256"])).reason,
    "Bad Request - Malformed Max-Forwards",
  );
  assert.equal(
    ok(bytes([...HEAD.filter((l) => !l.startsWith("Max")), "Max-Forwards: 00070"])).maxForwards,
    70,
  );
});

Deno.test("parseMessage() reads Status-Lines and refuses bad ones", () => {
  const rest = HEAD.slice(1).map((l) => l.replace("Max-Forwards: 70", "X-Ok: 1"));
  const r = parseMessage(bytes(["SIP/2.0 200", ...rest]));
  assert.ok(r.ok && r.message.kind === "response");
  assert.equal(r.message.reason, "");
  for (
    const sl of [
      "SIP/2.0 99 Low",
      "SIP/2.0 700 High",
      "SIP/2.0 2000 Long",
      "SIP/3.0 200 OK",
      "SIP/2.0  200 OK",
    ]
  ) {
    const e = err(bytes([sl, ...rest]));
    assert.equal(e.canRespond, false, sl);
  }
});

Deno.test("parseMessage() accepts a lower-case SIP version and tolerates trailing SP", () => {
  assert.ok(ok(bytes(["MESSAGE sip:b@example.com sip/2.0  ", ...HEAD.slice(1)])));
  const tab = err(bytes(["MESSAGE\tsip:b@example.com SIP/2.0", ...HEAD.slice(1)]));
  assert.equal(tab.canRespond, false);
});

Deno.test("parseMessage() never answers an ACK or a request without a readable Via", () => {
  const ack = err(
    bytes([
      "ACK sip:b@example.com SIP/2.0",
      ...HEAD.slice(1).map((l) => l.replace("1 MESSAGE", "1 ACK")),
      "X-Bad: \0",
    ]),
  );
  assert.equal(ack.canRespond, false);
  assert.equal(ack.method, "ACK");
  const noVia = err(bytes(HEAD.filter((l) => !l.startsWith("Via"))));
  assert.equal(noVia.reason, "Bad Request - Missing Via");
  assert.equal(noVia.canRespond, false);
});

Deno.test("buildErrorResponse() echoes the salvaged fields and tags the To", () => {
  const e = err(bytes([...HEAD.filter((l) => !l.startsWith("CSeq")), "CSeq: 1 INVITE"]));
  const res = buildErrorResponse(e, { toTag: "srv1" });
  assert.ok(res);
  assert.equal(
    dec.decode(serialize(res)),
    [
      "SIP/2.0 400 Bad Request - CSeq method mismatch",
      "Via: SIP/2.0/UDP a.example:5060;branch=z9hG4bK1;rport",
      "From: <sip:a@example.com>;tag=1",
      "To: <sip:b@example.com>;tag=srv1",
      "Call-ID: c1@a.example",
      "CSeq: 1 INVITE",
      "Content-Length: 0",
      "",
      "",
    ].join("\r\n"),
  );
});

Deno.test("parseMessage() copies the body out of the input buffer", () => {
  const input = bytes([...HEAD, "Content-Length: 3"], "abc");
  const m = ok(input);
  input.fill(0);
  assert.equal(m.bodyText, "abc");
});

Deno.test("parseMessage() counts list elements against the header limit", () => {
  const vias = Array.from(
    { length: 400 },
    (_, i) => `SIP/2.0/UDP h${i}.example;branch=z9hG4bK${i}`,
  );
  const e = err(bytes([HEAD[0], `Via: ${vias.join(", ")}`, ...HEAD.slice(2)]));
  assert.equal(e.reason, "Bad Request - Too many headers");
  assert.equal(
    ok(bytes([HEAD[0], `Via: ${vias.slice(0, 200).join(", ")}`, ...HEAD.slice(2)])).via.length,
    200,
  );
});
