import assert from "node:assert/strict";
import { TransportError, TransportLayer, UdpTransport } from "../../../../src/sip/transport/mod.ts";
import { ipv6Available, options, receiveText, udpPeer, wire } from "./_sockets.ts";

Deno.test("TransportLayer.listen() opens UDP and TCP on one port and a client-only TLS", async () => {
  const layer = await TransportLayer.listen({ listenIp: "127.0.0.1", port: 0 });
  try {
    const protocols = layer.transports.map((t) => t.protocol);
    assert.deepEqual(protocols, ["udp", "tcp", "tls"]);
    const [udp, tcp, tls] = layer.transports;
    assert.equal(udp.local.port, tcp.local.port, "RFC 3261 §18.2.1: TCP on the UDP port");
    assert.equal(tls.listening, false, "no TLS listener without SIP_TLS_PORT");
    assert.deepEqual(tls.local, udp.local, "its Via names our SIP address and port");
    assert.equal(layer.pick({ host: "127.0.0.1", port: 5060, transport: "tcp" }), tcp);
    assert.deepEqual(
      layer.localFor({ host: "192.0.2.1", port: 5060, transport: "udp" }),
      udp.local,
    );
  } finally {
    await layer.close();
    await layer.close();
  }
});

Deno.test({
  name: "TransportLayer picks the socket of the destination's address family",
  ignore: !ipv6Available(),
  fn: async () => {
    const layer = await TransportLayer.listen({
      listenIp: "127.0.0.1",
      listenIpv6: "::1",
      port: 0,
    });
    try {
      const v4 = layer.pick({ host: "127.0.0.1", port: 5060, transport: "udp" })!;
      const v6 = layer.pick({ host: "[::1]", port: 5060, transport: "udp" })!;
      assert.equal(v4.local.host, "127.0.0.1");
      assert.equal(v6.local.host, "::1");
      // A reply on a UDP "connection" leaves from that connection's socket.
      const peer = udpPeer("::1");
      try {
        const got = new Promise<void>((resolve) =>
          layer.onMessage((m) => {
            layer.send(wire(options("SIP/2.0/UDP [::1];branch=z9hG4bKv6r")), m.source, {
              connection: m.connection,
            });
            resolve();
          })
        );
        await peer.send(wire(options("SIP/2.0/UDP [::1]:9;branch=z9hG4bKv6")), {
          transport: "udp",
          hostname: "::1",
          port: v6.local.port,
        });
        await got;
        await receiveText(peer);
      } finally {
        peer.close();
      }
    } finally {
      await layer.close();
    }
  },
});

Deno.test("TransportLayer rejects a send for a protocol it has no socket for", async () => {
  const udp = UdpTransport.listen({ hostname: "127.0.0.1", port: 0 });
  const layer = new TransportLayer([udp]);
  try {
    assert.equal(layer.supports("tcp"), false);
    await assert.rejects(
      layer.send(new Uint8Array(1), { host: "127.0.0.1", port: 5060, transport: "tcp" }),
      TransportError,
    );
  } finally {
    await layer.close();
  }
});
