import assert from "node:assert/strict";
import { parseVia, type Via } from "../../../../src/sip/message/mod.ts";
import {
  type Connection,
  type Destination,
  responseRoute,
  stampVia,
} from "../../../../src/sip/transport/mod.ts";

function via(text: string): Via {
  const r = parseVia(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const udpConn: Connection = {
  id: 1,
  transport: "udp",
  reliable: false,
  local: { host: "192.0.2.2", port: 5060 },
  remote: { host: "198.51.100.7", port: 40000 },
  closed: false,
  send: () => Promise.resolve(),
};
const tcpConn: Connection = { ...udpConn, id: 2, transport: "tcp", reliable: true };
const SRC: Destination = { host: "198.51.100.7", port: 40000, transport: "udp" };

Deno.test("stampVia() adds received when sent-by differs from the source (RFC 3261 §18.2.1)", () => {
  const v = stampVia(via("SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bK1"), SRC);
  assert.equal(v.received, "198.51.100.7");
  assert.equal(v.rport, undefined);
  const named = stampVia(via("SIP/2.0/UDP pc.example.com;branch=z9hG4bK1"), SRC);
  assert.equal(named.received, "198.51.100.7", "a name always gets received");
});

Deno.test("stampVia() leaves a Via whose sent-by is the source address unchanged", () => {
  const original = via("SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1");
  assert.equal(stampVia(original, SRC), original);
  const v6 = via("SIP/2.0/UDP [2001:DB8::1];branch=z9hG4bK1");
  assert.equal(stampVia(v6, { host: "2001:db8:0::1", port: 5060 }), v6);
});

Deno.test("stampVia() fills an empty rport and adds received (RFC 3581 §4)", () => {
  const v = stampVia(via("SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bK1"), SRC);
  assert.equal(v.rport, 40000);
  assert.equal(v.received, "198.51.100.7");
  const v6 = stampVia(via("SIP/2.0/UDP [2001:db8::9];rport;branch=z9hG4bK1"), {
    host: "2001:db8::1",
    port: 5062,
  });
  assert.equal(v6.received, "2001:db8::1");
  assert.equal(v6.rport, 5062);
});

Deno.test("responseRoute() follows RFC 3261 §18.2.2 and RFC 3581 §4", () => {
  const r = (text: string, conn: Connection = udpConn, useSourceSocket = false) =>
    responseRoute(stampVia(via(text), SRC), { ...SRC, transport: conn.transport }, conn, {
      useSourceSocket,
    });
  // received + sent-by port
  assert.deepEqual(r("SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bK1").destination, {
    host: "198.51.100.7",
    port: 5070,
    transport: "udp",
  });
  // received + default port 5060
  assert.equal(r("SIP/2.0/UDP pc.example.com;branch=z9hG4bK1").destination.port, 5060);
  // rport
  assert.deepEqual(r("SIP/2.0/UDP 10.0.0.9:5070;rport;branch=z9hG4bK1").destination, {
    host: "198.51.100.7",
    port: 40000,
    transport: "udp",
  });
  // maddr
  const m = r("SIP/2.0/UDP 10.0.0.9;maddr=239.255.255.1;branch=z9hG4bK1");
  assert.deepEqual(m.destination, { host: "239.255.255.1", port: 5060, transport: "udp" });
  assert.equal(m.connection, undefined);
  // sent-by itself
  assert.deepEqual(r("SIP/2.0/UDP 198.51.100.7:5080;branch=z9hG4bK1").destination, {
    host: "198.51.100.7",
    port: 5080,
    transport: "udp",
  });
  // reliable: the connection, falling back to received + sent-by port (5061 default for TLS)
  const t = r("SIP/2.0/TCP 10.0.0.9;branch=z9hG4bK1", tcpConn);
  assert.equal(t.connection, tcpConn);
  assert.deepEqual(t.destination, { host: "198.51.100.7", port: 5060, transport: "tcp" });
  const tls = r("SIP/2.0/TLS 10.0.0.9;branch=z9hG4bK1", { ...tcpConn, transport: "tls" });
  assert.equal(tls.destination.port, 5061);
  // SIP_USE_SOURCE_SOCKET: the packet's source, whatever Via says
  assert.deepEqual(r("SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bK1", udpConn, true).destination, SRC);
});

Deno.test("responseRoute() answers on the transport the request arrived on, whatever its Via claims", () => {
  // A UDP Via on a TCP connection: the connection, not a UDP datagram to sent-by.
  const overTcp = responseRoute(
    stampVia(via("SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bK1"), SRC),
    { ...SRC, transport: "tcp" },
    tcpConn,
  );
  assert.equal(overTcp.connection, tcpConn);
  assert.deepEqual(overTcp.destination, { host: "198.51.100.7", port: 5070, transport: "tcp" });
  // A TCP Via in a UDP datagram: a datagram back, never a new TCP connection.
  const overUdp = responseRoute(
    stampVia(via("SIP/2.0/TCP 10.0.0.9;branch=z9hG4bK1"), SRC),
    SRC,
    udpConn,
  );
  assert.equal(overUdp.connection, udpConn);
  assert.deepEqual(overUdp.destination, { host: "198.51.100.7", port: 5060, transport: "udp" });
});
