import assert from "node:assert/strict";
import { parseMessage } from "../../../../src/sip/message/parser.ts";
import { type FrameEvent, StreamFramer } from "../../../../src/sip/message/stream_framer.ts";
import { INVITE, OK_INVITE, REGISTER } from "./fixtures.ts";

const enc = new TextEncoder();

function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  const bufs = parts.map((p) => typeof p === "string" ? enc.encode(p) : p);
  const out = new Uint8Array(bufs.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bufs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

function types(events: FrameEvent[]): string[] {
  return events.map((e) => e.type);
}

function parsed(text: string) {
  const r = parseMessage(enc.encode(text));
  assert.ok(r.ok);
  return r.message;
}

Deno.test("StreamFramer yields exactly two messages for every split point of two messages", () => {
  const stream = concat(INVITE, OK_INVITE);
  const expected = [parsed(INVITE), parsed(OK_INVITE)];
  for (let cut = 0; cut <= stream.length; cut++) {
    const framer = new StreamFramer();
    const events = [...framer.push(stream.subarray(0, cut)), ...framer.push(stream.subarray(cut))];
    assert.deepEqual(types(events), ["message", "message"], `cut at ${cut}`);
    assert.deepEqual(events.map((e) => e.type === "message" && e.message), expected);
    assert.equal(framer.buffered, 0);
  }
});

Deno.test("StreamFramer reassembles a stream fed one byte at a time", () => {
  const stream = concat(INVITE, "\r\n\r\n", OK_INVITE, REGISTER);
  const framer = new StreamFramer();
  const events: FrameEvent[] = [];
  for (let i = 0; i < stream.length; i++) events.push(...framer.push(stream.subarray(i, i + 1)));
  // Each CRLF of the ping arrives alone and is reported as a pong at once.
  assert.deepEqual(types(events), ["message", "pong", "pong", "message", "message"]);
});

Deno.test("StreamFramer reports a double-CRLF ping and a single-CRLF pong (RFC 5626 §4.4.1)", () => {
  const fresh = (chunk: Uint8Array | string) => types(new StreamFramer().push(concat(chunk)));
  assert.deepEqual(fresh("\r\n\r\n"), ["ping"]);
  assert.deepEqual(fresh("\r\n"), ["pong"]);
  assert.deepEqual(fresh("\r\n\r\n\r\n\r\n"), ["ping", "ping"]);
  assert.deepEqual(fresh("\r\n\r\n\r\n"), ["ping", "pong"]);
  assert.deepEqual(fresh(concat("\r\n\r\n", INVITE)), ["ping", "message"]);
  assert.deepEqual(fresh(concat("\r\n", REGISTER)), ["pong", "message"]);
  const framer = new StreamFramer();
  assert.deepEqual(types(framer.push(concat(INVITE, "\r\n\r\n"))), ["message", "ping"]);
});

Deno.test("StreamFramer reports each later lone CRLF as a pong of its own", () => {
  const framer = new StreamFramer();
  assert.deepEqual(types(framer.push(enc.encode("\r\n"))), ["pong"]);
  assert.deepEqual(types(framer.push(enc.encode("\r\n"))), ["pong"]);
  const other = new StreamFramer();
  assert.deepEqual(types(other.push(enc.encode("\r\n\r"))), [], "may still become a ping");
  assert.deepEqual(types(other.push(enc.encode("\n"))), ["ping"]);
});

Deno.test("StreamFramer fails the connection on a message without Content-Length (RFC 3261 §18.3)", () => {
  const noLength = INVITE.replace(/Content-Length: \d+\r\n/, "");
  const framer = new StreamFramer();
  const events = framer.push(enc.encode(noLength));
  assert.deepEqual(types(events), ["fatal"]);
  assert.equal(framer.failed, true);
  assert.deepEqual(framer.push(enc.encode(REGISTER)), [], "input after a fatal error is ignored");
});

Deno.test("StreamFramer fails the connection on oversize headers or body", () => {
  const small = new StreamFramer({ maxHeaderBytes: 1024, maxBodyBytes: 100 });
  const hugeHeader = enc.encode("OPTIONS sip:a@b SIP/2.0\r\nX-Pad: " + "a".repeat(2000));
  assert.deepEqual(types(small.push(hugeHeader)), ["fatal"]);
  const body = new StreamFramer({ maxBodyBytes: 100 });
  const events = body.push(enc.encode(INVITE));
  assert.deepEqual(types(events), ["fatal"]);
  assert.equal(events[0].type === "fatal" && events[0].error.status, 513);
  const endless = new StreamFramer();
  const chunk = enc.encode("X".repeat(8192));
  const seen: string[] = [];
  for (let i = 0; i < 10 && !endless.failed; i++) seen.push(...types(endless.push(chunk)));
  assert.deepEqual(seen, ["fatal"], "64 KiB without an empty line");
});

Deno.test("StreamFramer reports a well-framed but malformed message and keeps going", () => {
  const bad = INVITE.replace("CSeq: 314159 INVITE", "CSeq: 314159 BYE");
  const framer = new StreamFramer();
  const events = framer.push(concat(bad, REGISTER));
  assert.deepEqual(types(events), ["invalid", "message"]);
  const e = events[0];
  assert.ok(e.type === "invalid");
  assert.equal(e.error.reason, "Bad Request - CSeq method mismatch");
  assert.equal(e.error.canRespond, true);
});

Deno.test("StreamFramer waits while a body is incomplete", () => {
  const framer = new StreamFramer();
  const bytes = enc.encode(INVITE);
  assert.deepEqual(framer.push(bytes.subarray(0, bytes.length - 1)), []);
  assert.equal(framer.buffered, bytes.length - 1);
  assert.deepEqual(types(framer.push(bytes.subarray(bytes.length - 1))), ["message"]);
});

Deno.test("StreamFramer accepts repeated equal Content-Length values for framing", () => {
  const twice = REGISTER.replace("Content-Length: 0", "Content-Length: 0\r\nl: 0");
  const events = new StreamFramer().push(enc.encode(twice));
  assert.deepEqual(types(events), ["invalid"], "framed, then refused by the parser");
});

Deno.test("StreamFramer never throws on binary garbage", () => {
  const framer = new StreamFramer({ maxHeaderBytes: 4096 });
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  for (let i = 0; i < 200 && !framer.failed; i++) {
    framer.push(Uint8Array.from({ length: 97 }, rnd));
  }
  assert.equal(framer.failed, true);
});
