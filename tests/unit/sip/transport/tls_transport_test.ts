import assert from "node:assert/strict";
import { buildResponse, serialize } from "../../../../src/sip/message/mod.ts";
import {
  type InboundMessage,
  responseRoute,
  TlsTransport,
  TransportError,
} from "../../../../src/sip/transport/mod.ts";
import { options, until, wire } from "./_sockets.ts";
import { makeTestCertificate } from "./_tls_cert.ts";

Deno.test("TLS transport carries a request and its response over one verified connection", async () => {
  const pem = await makeTestCertificate();
  const server = TlsTransport.listen({
    hostname: "127.0.0.1",
    port: 0,
    certFile: `${pem.dir}/cert.pem`,
    keyFile: `${pem.dir}/key.pem`,
  });
  const client = TlsTransport.listen({ caCerts: [pem.ca] });
  try {
    const atServer: InboundMessage[] = [];
    server.onMessage((m) => {
      atServer.push(m);
      if (m.message.kind !== "request") return;
      const route = responseRoute(m.message.topVia!, m.source, m.connection);
      server.send(serialize(buildResponse(m.message, 200)), route.destination, {
        connection: route.connection,
      });
    });
    const atClient: InboundMessage[] = [];
    client.onMessage((m) => atClient.push(m));
    const to = { host: "127.0.0.1", port: server.local.port, transport: "tls" as const };
    await client.send(wire(options("SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKtls1", "tls-1")), to);
    await client.send(wire(options("SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKtls2", "tls-2")), to);
    await until(() => atClient.length === 2, 5000, "two responses over TLS");
    assert.equal(atServer[0].source.transport, "tls");
    assert.equal(atServer[0].connection.reliable, true);
    assert.deepEqual(
      atClient.map((m) => m.message.kind === "response" && m.message.status),
      [200, 200],
    );
    assert.equal(client.connectionCount, 1);
    assert.equal(server.connectionCount, 1);
  } finally {
    await client.close();
    await server.close();
    await Deno.remove(pem.dir, { recursive: true });
  }
});

Deno.test("TLS client refuses a server whose certificate it does not trust", async () => {
  const pem = await makeTestCertificate();
  const server = TlsTransport.listen({
    hostname: "127.0.0.1",
    port: 0,
    cert: pem.cert,
    key: pem.key,
  });
  const client = TlsTransport.listen({}); // system roots only
  try {
    await assert.rejects(
      client.send(wire(options("SIP/2.0/TLS 127.0.0.1;branch=z9hG4bKtls3")), {
        host: "127.0.0.1",
        port: server.local.port,
        transport: "tls",
      }),
      TransportError,
    );
    assert.equal(client.connectionCount, 0);
    await until(() => server.connectionCount === 0, 3000, "server side closed");
  } finally {
    await client.close();
    await server.close();
    await Deno.remove(pem.dir, { recursive: true });
  }
});

Deno.test("TLS transport refuses to listen without a certificate", () => {
  assert.throws(() => TlsTransport.listen({ hostname: "127.0.0.1", port: 0 }), TypeError);
});
