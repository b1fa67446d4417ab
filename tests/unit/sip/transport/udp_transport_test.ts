import assert from "node:assert/strict";
import { buildResponse, serialize } from "../../../../src/sip/message/mod.ts";
import {
  type InboundMessage,
  MAX_UDP_PAYLOAD,
  responseRoute,
  TransportError,
  UdpTransport,
  type WireEvent,
} from "../../../../src/sip/transport/mod.ts";
import { options, receiveText, udpPeer, until, wire } from "./_sockets.ts";

Deno.test("UDP transport stamps received/rport and a response reaches the source port", async () => {
  const wireLog: WireEvent[] = [];
  const sip = UdpTransport.listen({
    hostname: "127.0.0.1",
    port: 0,
    wire: (e) => wireLog.push(e),
  });
  const peer = udpPeer();
  try {
    const got: InboundMessage[] = [];
    sip.onMessage((m) => {
      got.push(m);
      if (m.message.kind !== "request") return;
      const route = responseRoute(m.message.topVia!, m.source, m.connection);
      const res = serialize(buildResponse(m.message, 200));
      sip.send(res, route.destination, { connection: route.connection });
    });
    const peerPort = (peer.addr as Deno.NetAddr).port;
    // A sent-by that is not where the packet comes from (NAT), asking for rport.
    await peer.send(wire(options("SIP/2.0/UDP 10.0.0.9:5070;rport;branch=z9hG4bKu1")), {
      transport: "udp",
      hostname: "127.0.0.1",
      port: sip.local.port,
    });
    const answer = await receiveText(peer);
    assert.match(answer, /^SIP\/2.0 200 OK\r\n/);
    assert.match(answer, new RegExp(`rport=${peerPort}`));
    assert.match(answer, /received=127\.0\.0\.1/);
    assert.equal(got.length, 1);
    assert.deepEqual(got[0].source, { host: "127.0.0.1", port: peerPort, transport: "udp" });
    assert.deepEqual(wireLog.map((e) => e.direction), ["in", "out"]);
    assert.deepEqual(wireLog[1].peer, { host: "127.0.0.1", port: peerPort });
  } finally {
    peer.close();
    await sip.close();
  }
});

Deno.test("UDP transport survives 1000 junk datagrams and still hands up a valid OPTIONS", async () => {
  const sip = UdpTransport.listen({ hostname: "127.0.0.1", port: 0 });
  const peer = udpPeer();
  try {
    const got: InboundMessage[] = [];
    sip.onMessage((m) => got.push(m));
    const to = { transport: "udp" as const, hostname: "127.0.0.1", port: sip.local.port };
    const junk = new Uint8Array(200);
    for (let i = 0; i < 1000; i++) {
      crypto.getRandomValues(junk);
      junk[0] = 0x7f; // never a CR, so never a keep-alive
      await peer.send(junk, to);
      // Sender and receiver share this thread: pace the burst so the kernel buffer never
      // overflows and every datagram really reaches the parser.
      if (i % 20 === 19) await until(() => sip.stats.dropped > i - 10, 2000, "junk drained");
    }
    await peer.send(wire(options("SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKafterjunk")), to);
    await until(() => got.length === 1, 5000, "valid OPTIONS after junk");
    assert.equal(got[0].message.topVia?.branch, "z9hG4bKafterjunk");
    await until(() => sip.stats.dropped === 1000, 5000, "junk counted");
    assert.equal(sip.stats.accepted, 1);
  } finally {
    peer.close();
    await sip.close();
  }
});

Deno.test("UDP transport answers a malformed request with 400 and drops a malformed response", async () => {
  const sip = UdpTransport.listen({ hostname: "127.0.0.1", port: 0 });
  const peer = udpPeer();
  try {
    let handed = 0;
    sip.onMessage(() => handed++);
    const to = { transport: "udp" as const, hostname: "127.0.0.1", port: sip.local.port };
    await peer.send(wire("SIP/2.0 200 OK\nVia: ???\n\n"), to);
    const bad = options("SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbad").replace(
      "Max-Forwards: 70",
      "Max-Forwards: lots",
    );
    await peer.send(wire(bad), to);
    const answer = await receiveText(peer);
    assert.match(answer, /^SIP\/2.0 400 /);
    assert.match(answer, /branch=z9hG4bKbad/);
    assert.equal(handed, 0);
    assert.equal(sip.stats.dropped, 1);
    assert.equal(sip.stats.answered, 1);
  } finally {
    peer.close();
    await sip.close();
  }
});

Deno.test("UDP transport rejects an oversized message and sends after close, and close() is idempotent", async () => {
  const sip = UdpTransport.listen({ hostname: "127.0.0.1", port: 0 });
  const to = { host: "127.0.0.1", port: 9, transport: "udp" as const };
  await assert.rejects(sip.send(new Uint8Array(MAX_UDP_PAYLOAD + 1), to), TransportError);
  await sip.close();
  await sip.close();
  await assert.rejects(sip.send(new Uint8Array(10), to), TransportError);
});
