import assert from "node:assert/strict";
import { parseMessage, type SipResponse } from "../../../../src/sip/message/mod.ts";
import {
  type Connection,
  type InboundMessage,
  InboundPipeline,
  type WireEvent,
} from "../../../../src/sip/transport/mod.ts";

const enc = new TextEncoder();
const crlf = (s: string) => enc.encode(s.replaceAll("\n", "\r\n"));

function stubConnection() {
  const sent: Uint8Array[] = [];
  const conn: Connection = {
    id: 99,
    transport: "udp",
    reliable: false,
    local: { host: "192.0.2.2", port: 5060 },
    remote: { host: "198.51.100.7", port: 40000 },
    closed: false,
    send: (b) => {
      sent.push(b);
      return Promise.resolve();
    },
  };
  return { conn, sent };
}

function setup() {
  const wire: WireEvent[] = [];
  const pipeline = new InboundPipeline({
    transport: "udp",
    local: { host: "192.0.2.2", port: 5060 },
    wire: (e) => {
      wire.push(e);
      throw new Error("a broken debug hook must not matter");
    },
  });
  const got: InboundMessage[] = [];
  pipeline.onMessage((m) => got.push(m));
  return { pipeline, got, wire, ...stubConnection() };
}

const OPTIONS = `OPTIONS sip:bob@192.0.2.2 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.9:5070;rport;branch=z9hG4bKin1
From: <sip:alice@example.com>;tag=a
To: <sip:bob@example.com>
Call-ID: in-1
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

`;

Deno.test("InboundPipeline stamps received and rport before handing a request up", () => {
  const { pipeline, got, conn, wire } = setup();
  pipeline.receiveDatagram(crlf(OPTIONS), conn);
  assert.equal(got.length, 1);
  const top = got[0].message.topVia!;
  assert.equal(top.received, "198.51.100.7");
  assert.equal(top.rport, 40000);
  assert.deepEqual(got[0].source, { host: "198.51.100.7", port: 40000, transport: "udp" });
  assert.equal(got[0].connection, conn);
  assert.equal(wire.length, 1);
  assert.equal(wire[0].direction, "in");
  assert.deepEqual(pipeline.stats, { accepted: 1, answered: 0, dropped: 0 });
});

Deno.test("InboundPipeline answers a malformed request with the 400 its parse result allows", async () => {
  const { pipeline, got, conn, sent } = setup();
  pipeline.receiveDatagram(crlf(OPTIONS.replace("Max-Forwards: 70", "Max-Forwards: many")), conn);
  await Promise.resolve();
  assert.equal(got.length, 0);
  assert.equal(sent.length, 1);
  const r = parseMessage(sent[0]);
  assert.ok(r.ok && r.message.kind === "response");
  const res = r.message as SipResponse;
  assert.equal(res.status, 400);
  assert.equal(res.callId, "in-1");
  assert.equal(res.topVia?.branch, "z9hG4bKin1");
  assert.equal(pipeline.stats.answered, 1);
});

Deno.test("InboundPipeline drops malformed responses, broken ACKs, junk and keep-alives", () => {
  const { pipeline, got, conn, sent } = setup();
  pipeline.receiveDatagram(crlf("SIP/2.0 200 OK\nVia: nonsense\n\n"), conn);
  pipeline.receiveDatagram(
    crlf(OPTIONS.replaceAll("OPTIONS", "ACK").replace("CSeq: 1 ACK", "CSeq: x ACK")),
    conn,
  );
  pipeline.receiveDatagram(new Uint8Array([0, 1, 2, 3, 255]), conn);
  pipeline.receiveDatagram(crlf("\n\n"), conn); // CRLF keep-alive: not even counted
  assert.equal(got.length, 0);
  assert.equal(sent.length, 0);
  assert.deepEqual(pipeline.stats, { accepted: 0, answered: 0, dropped: 3 });
});

Deno.test("InboundPipeline keeps delivering to other handlers after one throws", () => {
  const { pipeline, got, conn } = setup();
  pipeline.onMessage(() => {
    throw new Error("handler bug");
  });
  const later: InboundMessage[] = [];
  const off = pipeline.onMessage((m) => later.push(m));
  pipeline.receiveDatagram(crlf(OPTIONS), conn);
  off();
  pipeline.receiveDatagram(crlf(OPTIONS), conn);
  assert.equal(got.length, 2);
  assert.equal(later.length, 1);
});

Deno.test("InboundPipeline gives the 400 to a malformed request a To tag of its own (RFC 3261 §8.2.6.2)", async () => {
  const { pipeline, conn, sent } = setup();
  pipeline.receiveDatagram(crlf(OPTIONS.replace("Max-Forwards: 70", "Max-Forwards: many")), conn);
  const tagged = OPTIONS.replace("To: <sip:bob@example.com>", "To: <sip:bob@example.com>;tag=b1")
    .replace("Max-Forwards: 70", "Max-Forwards: many");
  pipeline.receiveDatagram(crlf(tagged), conn);
  await Promise.resolve();
  assert.equal(sent.length, 2);
  const [fresh, kept] = sent.map((b) => {
    const r = parseMessage(b);
    assert.ok(r.ok && r.message.kind === "response");
    return r.message as SipResponse;
  });
  assert.equal(fresh.status, 400);
  assert.match(fresh.toTag ?? "", /^[A-Za-z0-9]+$/, "a tag was added");
  assert.equal(kept.toTag, "b1", "a request's own To tag is kept");
});
