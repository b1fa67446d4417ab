import assert from "node:assert/strict";
import { buildResponse, serialize } from "../../../../src/sip/message/mod.ts";
import {
  type InboundMessage,
  responseRoute,
  type StreamTransport,
  TcpTransport,
  TransportError,
} from "../../../../src/sip/transport/mod.ts";
import { options, readUntil, str, until, wire, within } from "./_sockets.ts";

/** Replies 200 to every request along its §18.2.2 route; collects what arrives. */
function echo200(sip: StreamTransport): InboundMessage[] {
  const got: InboundMessage[] = [];
  sip.onMessage((m) => {
    got.push(m);
    if (m.message.kind !== "request") return;
    const route = responseRoute(m.message.topVia!, m.source, m.connection);
    sip.send(serialize(buildResponse(m.message, 200)), route.destination, {
      connection: route.connection,
    }).catch(() => {});
  });
  return got;
}

Deno.test("TCP transport answers on the inbound connection and reuses it for later requests", async () => {
  const sip = TcpTransport.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: sip.local.port });
  try {
    const got = echo200(sip);
    // sent-by names a port nobody listens on: the response must use the connection.
    await client.write(wire(options("SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKt1")));
    const answer = await readUntil(client, "\r\n\r\n");
    assert.match(answer, /^SIP\/2.0 200 OK/);
    assert.equal(sip.connectionCount, 1);
    // A request to the client's address goes over the same connection (RFC 3261 §18.1.1).
    const local = client.localAddr as Deno.NetAddr;
    await sip.send(wire(options("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKt2", "back-1")), {
      host: "127.0.0.1",
      port: local.port,
      transport: "tcp",
    });
    const request = await readUntil(client, "back-1");
    assert.match(request, /OPTIONS sip:bob@127\.0\.0\.1 SIP\/2.0/);
    assert.equal(sip.connectionCount, 1);
    assert.equal(got.length, 1);
    assert.deepEqual(got[0].source, { host: "127.0.0.1", port: local.port, transport: "tcp" });
  } finally {
    client.close();
    await sip.close();
  }
});

Deno.test("TCP transport reuses its outbound connection and receives responses on it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const sip = TcpTransport.listen({});
  let accepted = 0;
  const serving = (async () => {
    const conn = await listener.accept();
    accepted++;
    try {
      let text = "";
      const buf = new Uint8Array(4096);
      for (let answered = 0; answered < 2;) {
        const n = await conn.read(buf);
        if (n === null) return;
        text += str(buf.subarray(0, n));
        while (text.includes("\r\n\r\n")) {
          const end = text.indexOf("\r\n\r\n") + 4;
          const req = text.slice(0, end);
          text = text.slice(end);
          const via = /^Via: (.*)$/m.exec(req)![1].trim();
          const callId = /^Call-ID: (.*)$/m.exec(req)![1].trim();
          await conn.write(wire(`SIP/2.0 200 OK
Via: ${via}
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>;tag=b1
Call-ID: ${callId}
CSeq: 1 OPTIONS
Content-Length: 0

`));
          answered++;
        }
      }
    } finally {
      conn.close();
    }
  })();
  try {
    const got: InboundMessage[] = [];
    sip.onMessage((m) => got.push(m));
    const to = { host: "127.0.0.1", port, transport: "tcp" as const };
    await Promise.all([
      sip.send(wire(options("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKo1", "out-1")), to),
      sip.send(wire(options("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKo2", "out-2")), to),
    ]);
    await until(() => got.length === 2, 3000, "two responses");
    assert.equal(accepted, 1, "one connection for both requests");
    assert.deepEqual(got.map((m) => m.message.callId).sort(), ["out-1", "out-2"]);
    await within(serving);
  } finally {
    listener.close();
    await sip.close();
  }
});

Deno.test("TCP transport frames messages split across chunks and several in one chunk", async () => {
  let chunks = 0;
  const sip = TcpTransport.listen({
    hostname: "127.0.0.1",
    port: 0,
    wire: (e) => void (e.direction === "in" && chunks++),
  });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: sip.local.port });
  try {
    const got: InboundMessage[] = [];
    sip.onMessage((m) => got.push(m));
    const body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n";
    const withBody = options("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKs1", "split-1")
      .replace(
        "Content-Length: 0\n\n",
        `Content-Type: application/sdp\nContent-Length: ${body.length}\n\n`,
      );
    const bytes = new Uint8Array([...wire(withBody), ...new TextEncoder().encode(body)]);
    // Dribble the message in chunks of 1..7 bytes.
    for (let off = 0, n = 1; off < bytes.length; off += n, n = (n % 7) + 1) {
      await client.write(bytes.subarray(off, off + n));
      await new Promise((r) => setTimeout(r, 1));
    }
    await until(() => got.length === 1, 3000, "the dribbled message");
    assert.ok(chunks > 20, `the message arrived in ${chunks} reads`);
    // Then two messages (and a keep-alive between them) in one write.
    const two = new Uint8Array([
      ...wire(options("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKs2", "split-2")),
      13,
      10,
      ...wire(options("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKs3", "split-3")),
    ]);
    await client.write(two);
    await until(() => got.length === 3, 3000, "three framed messages");
    assert.deepEqual(got.map((m) => m.message.callId), ["split-1", "split-2", "split-3"]);
    assert.equal(got[0].message.bodyText, body);
  } finally {
    client.close();
    await sip.close();
  }
});

Deno.test("TCP transport answers a CRLF keep-alive ping with a pong (RFC 5626 §4.4.1)", async () => {
  const sip = TcpTransport.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: sip.local.port });
  try {
    await client.write(new Uint8Array([13, 10, 13, 10]));
    const buf = new Uint8Array(16);
    const n = await within(client.read(buf), 3000, "pong");
    assert.deepEqual([...buf.subarray(0, n!)], [13, 10]);
  } finally {
    client.close();
    await sip.close();
  }
});

Deno.test("TCP transport answers a framed malformed request with 400 and keeps the connection", async () => {
  const sip = TcpTransport.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: sip.local.port });
  try {
    const got = echo200(sip);
    const bad = options("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKm1", "bad-1").replace(
      "Max-Forwards: 70",
      "Max-Forwards: x",
    );
    await client.write(wire(bad));
    assert.match(await readUntil(client, "bad-1"), /^SIP\/2.0 400 /);
    await client.write(wire(options("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKm2", "good-1")));
    assert.match(await readUntil(client, "good-1"), /SIP\/2.0 200 OK/);
    assert.equal(got.length, 1);
  } finally {
    client.close();
    await sip.close();
  }
});

Deno.test("TCP transport closes a connection whose framing is lost (no Content-Length)", async () => {
  const sip = TcpTransport.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: sip.local.port });
  try {
    let handed = 0;
    sip.onMessage(() => handed++);
    const noLength = options("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKf1").replace(
      "Content-Length: 0\n",
      "",
    );
    await client.write(wire(noLength));
    const n = await within(client.read(new Uint8Array(64)), 3000, "close");
    assert.equal(n, null, "the server closed the connection");
    await until(() => sip.connectionCount === 0, 3000, "connection forgotten");
    assert.equal(handed, 0);
  } finally {
    client.close();
    await sip.close();
  }
});

Deno.test("TCP transport closes connections idle longer than the idle timeout", async () => {
  const sip = TcpTransport.listen({ hostname: "127.0.0.1", port: 0, idleTimeoutMs: 100 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: sip.local.port });
  try {
    await client.write(new Uint8Array([13, 10, 13, 10]));
    await within(client.read(new Uint8Array(8)), 3000, "pong");
    assert.equal(sip.connectionCount, 1);
    const n = await within(client.read(new Uint8Array(8)), 3000, "idle close");
    assert.equal(n, null);
    await until(() => sip.connectionCount === 0, 3000, "connection forgotten");
  } finally {
    client.close();
    await sip.close();
  }
});

Deno.test("TCP send to a port nobody listens on rejects with TransportError", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const sip = TcpTransport.listen({});
  try {
    await assert.rejects(
      sip.send(wire(options("SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKr1")), {
        host: "127.0.0.1",
        port,
        transport: "tcp",
      }),
      TransportError,
    );
    assert.equal(sip.connectionCount, 0);
  } finally {
    await sip.close();
  }
});

Deno.test("TCP transport close() closes every connection and is idempotent", async () => {
  const sip = TcpTransport.listen({ hostname: "127.0.0.1", port: 0 });
  const clients = await Promise.all(
    [1, 2, 3].map(() => Deno.connect({ hostname: "127.0.0.1", port: sip.local.port })),
  );
  try {
    await until(() => sip.connectionCount === 3, 3000, "three connections");
    await Promise.all([sip.close(), sip.close()]);
    await sip.close();
    assert.equal(sip.connectionCount, 0);
    for (const c of clients) {
      assert.equal(await within(c.read(new Uint8Array(8)), 3000, "close seen"), null);
    }
  } finally {
    for (const c of clients) c.close();
  }
});

Deno.test("TCP transport still sends the answers to messages read before framing was lost", async () => {
  const sip = TcpTransport.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: sip.local.port });
  try {
    echo200(sip);
    const good = options("SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKfl1", "first-1");
    const noLength = options("SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKfl2", "second-1")
      .replace("Content-Length: 0\n", "");
    // One write: the good message and the unframeable one arrive in the same read.
    await client.write(wire(good + noLength));
    let text = "";
    const buf = new Uint8Array(4096);
    await within(
      (async () => {
        for (let n = await client.read(buf); n !== null; n = await client.read(buf)) {
          text += str(buf.subarray(0, n));
        }
      })(),
      3000,
      "answer, then close",
    );
    assert.match(text, /^SIP\/2.0 200 OK/);
    assert.match(text, /Call-ID: first-1/);
    assert.doesNotMatch(text, /second-1/);
    await until(() => sip.connectionCount === 0, 3000, "connection forgotten");
  } finally {
    client.close();
    await sip.close();
  }
});

Deno.test("TCP transport answers a request whose sender half-closed the connection", async () => {
  const sip = TcpTransport.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: sip.local.port });
  try {
    echo200(sip);
    await client.write(wire(options("SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKhc1", "half-1")));
    await client.closeWrite();
    const answer = await readUntil(client, "\r\n\r\n");
    assert.match(answer, /^SIP\/2.0 200 OK/);
    assert.match(answer, /Call-ID: half-1/);
  } finally {
    client.close();
    await sip.close();
  }
});
