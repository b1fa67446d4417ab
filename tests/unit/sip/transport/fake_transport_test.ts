import assert from "node:assert/strict";
import {
  FakeTransport,
  fakeTransportPair,
  type InboundMessage,
  TransportError,
} from "../../../../src/sip/transport/mod.ts";
import { options, wire } from "./_sockets.ts";

const TO_B = { host: "192.0.2.2", port: 5060, transport: "udp" } as const;

Deno.test("fakeTransportPair() delivers one side's sends to the other through the inbound path", async () => {
  const [a, b] = fakeTransportPair();
  const got: InboundMessage[] = [];
  b.onMessage((m) => got.push(m));
  const sending = a.send(wire(options("SIP/2.0/UDP 10.1.1.1:5060;rport;branch=z9hG4bKf1")), TO_B);
  assert.equal(got.length, 0, "delivery happens on a microtask, never inside send()");
  await sending;
  await Promise.resolve();
  assert.equal(got.length, 1);
  assert.deepEqual(got[0].source, { host: "192.0.2.1", port: 5060, transport: "udp" });
  assert.equal(got[0].message.topVia?.received, "192.0.2.1");
  assert.equal(got[0].message.topVia?.rport, 5060);
  assert.equal(a.sent.length, 1);
  assert.equal(a.messages()[0].kind, "request");
});

Deno.test("FakeTransport drops, fails and records as told", async () => {
  const [a, b] = fakeTransportPair("tcp");
  let delivered = 0;
  b.onMessage(() => delivered++);
  a.drop = () => true;
  await a.send(wire(options("SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKf2")), TO_B);
  await Promise.resolve();
  assert.equal(delivered, 0);
  assert.equal(a.take().length, 1);
  assert.equal(a.sent.length, 0);
  a.failSends = true;
  await assert.rejects(a.send(new Uint8Array(1), TO_B), TransportError);
  const lone = new FakeTransport();
  lone.inject(wire(options("SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKf3")));
  await lone.close();
  await assert.rejects(lone.send(new Uint8Array(1), TO_B), TransportError);
});
