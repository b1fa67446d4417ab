/**
 * The SIP transport and transaction layers on real loopback sockets: two stacks (client and
 * server) exchanging requests over UDP, TCP, TLS and IPv6, with malformed input thrown at the
 * server, and shrunk timers so transactions drain within the test.
 */
import assert from "node:assert/strict";
import {
  generateBranch,
  parseMessage,
  type SipRequest,
  type SipResponse,
} from "../../src/sip/message/mod.ts";
import {
  type Destination,
  sipHost,
  TransportLayer,
  type TransportProto,
  viaTransportToken,
} from "../../src/sip/transport/mod.ts";
import {
  buildCancel,
  type IncomingRequest,
  InviteServerTransaction,
  type SipTimers,
  TransactionLayer,
} from "../../src/sip/transaction/mod.ts";
import { buildResponse } from "../../src/sip/message/mod.ts";
import {
  ipv6Available,
  options as optionsText,
  receiveText,
  udpPeer,
  until,
  wire,
} from "../unit/sip/transport/_sockets.ts";
import { makeTestCertificate, type TestCertificate } from "../unit/sip/transport/_tls_cert.ts";

const TIMERS: SipTimers = { t1: 10, t2: 80, t4: 100 };
const enc = new TextEncoder();

interface Stack {
  readonly transport: TransportLayer;
  readonly tx: TransactionLayer;
  readonly requests: IncomingRequest[];
  close(): Promise<void>;
}

/** A transport + transaction stack whose TU answers 200 to everything but INVITE. */
async function stack(
  ip: string,
  opts: { pem?: TestCertificate; tls?: boolean; useSourceSocket?: boolean; ipv6?: string } = {},
): Promise<Stack> {
  const transport = await TransportLayer.listen({
    listenIp: ip,
    listenIpv6: opts.ipv6,
    port: 0,
    tlsPort: opts.tls ? 0 : undefined,
    tlsCertFile: opts.pem && `${opts.pem.dir}/cert.pem`,
    tlsKeyFile: opts.pem && `${opts.pem.dir}/key.pem`,
    tlsCaCerts: opts.pem ? [opts.pem.ca] : undefined,
  });
  const requests: IncomingRequest[] = [];
  const tx = new TransactionLayer(transport, {
    timers: TIMERS,
    tryingDelayMs: 20,
    useSourceSocket: opts.useSourceSocket,
    onRequest: (incoming) => {
      requests.push(incoming);
      const { request, transaction } = incoming;
      if (request.method !== "INVITE") transaction?.respond(buildResponse(request, 200));
    },
  });
  return {
    transport,
    tx,
    requests,
    async close() {
      tx.close();
      await transport.close();
    },
  };
}

/** A request from `from` to `to`, with a Via naming the socket it will leave from. */
function makeRequest(method: string, from: Stack, to: Destination, callId: string): SipRequest {
  const local = from.transport.localFor(to)!;
  const port = local.port === 0 ? 5061 : local.port;
  const host = local.host === "0.0.0.0" ? "127.0.0.1" : local.host;
  const text = `${method} sip:bob@${sipHost(to.host)}:${to.port} SIP/2.0
Via: SIP/2.0/${viaTransportToken(to.transport)} ${
    sipHost(host)
  }:${port};rport;branch=${generateBranch()}
Max-Forwards: 70
From: <sip:alice@example.com>;tag=${callId}-a
To: <sip:bob@example.com>
Call-ID: ${callId}
CSeq: 1 ${method}
Content-Length: 0

`;
  const r = parseMessage(enc.encode(text.replaceAll("\n", "\r\n")));
  if (!r.ok || r.message.kind !== "request") throw new Error("bad test request");
  return r.message;
}

function portOf(s: Stack, protocol: TransportProto, family: 4 | 6 = 4): number {
  const t = s.transport.transports.find((x) =>
    x.protocol === protocol && (family === 6) === x.local.host.includes(":")
  );
  return t!.local.port;
}

async function drained(...stacks: Stack[]): Promise<void> {
  await until(
    () => stacks.every((s) => s.tx.counts().client === 0 && s.tx.counts().server === 0),
    5000,
    "transactions drained",
  );
}

Deno.test("SIP stack answers OPTIONS over UDP, TCP and TLS on loopback", async () => {
  const pem = await makeTestCertificate();
  const server = await stack("127.0.0.1", { pem, tls: true });
  const client = await stack("127.0.0.1", { pem });
  try {
    for (const protocol of ["udp", "tcp", "tls"] as const) {
      const to = { host: "127.0.0.1", port: portOf(server, protocol), transport: protocol };
      const tx = client.tx.sendRequest(makeRequest("OPTIONS", client, to, `opt-${protocol}`), to);
      const res = await tx.response();
      assert.equal(res.status, 200, protocol);
      const seen = server.requests.at(-1)!;
      assert.equal(seen.source.transport, protocol);
      assert.equal(seen.request.topVia?.rport, seen.source.port, "rport filled in");
      assert.equal(seen.request.topVia?.received, "127.0.0.1");
    }
    await drained(client, server);
  } finally {
    await client.close();
    await server.close();
    await Deno.remove(pem.dir, { recursive: true });
  }
});

Deno.test({
  name: "SIP stack answers OPTIONS over IPv6 ::1 on UDP and TCP",
  ignore: !ipv6Available(),
  fn: async () => {
    const server = await stack("127.0.0.1", { ipv6: "::1" });
    const client = await stack("127.0.0.1", { ipv6: "::1" });
    try {
      for (const protocol of ["udp", "tcp"] as const) {
        const to = { host: "::1", port: portOf(server, protocol, 6), transport: protocol };
        const req = makeRequest("OPTIONS", client, to, `v6-${protocol}`);
        assert.match(req.headers.get("Via")!, /\[::1\]:\d+/);
        const res = await client.tx.sendRequest(req, to).response();
        assert.equal(res.status, 200, protocol);
        assert.equal(server.requests.at(-1)!.source.host, "::1");
      }
      await drained(client, server);
    } finally {
      await client.close();
      await server.close();
    }
  },
});

Deno.test("SIP stack answers 400 to malformed requests and still answers OPTIONS after 1000 junk datagrams", async () => {
  const server = await stack("127.0.0.1");
  const peer = udpPeer();
  try {
    const port = portOf(server, "udp");
    const to = { transport: "udp" as const, hostname: "127.0.0.1", port };
    const udp = server.transport.transports.find((t) => t.protocol === "udp")!;
    const junk = new Uint8Array(300);
    for (let i = 0; i < 1000; i++) {
      crypto.getRandomValues(junk);
      junk[0] = 0x41;
      await peer.send(junk, to);
      if (i % 20 === 19) await until(() => udp.stats.dropped > i - 10, 2000, "junk drained");
    }
    const bad = optionsText("SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKbad", "bad-1")
      .replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE");
    await peer.send(wire(bad), to);
    assert.match(await receiveText(peer), /^SIP\/2.0 400 Bad Request/);
    await peer.send(
      wire(optionsText("SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKok", "ok-1")),
      to,
    );
    const answer = await receiveText(peer);
    assert.match(answer, /^SIP\/2.0 200 OK/);
    assert.match(answer, /Call-ID: ok-1/);
    assert.equal(server.requests.length, 1);
    await drained(server);
  } finally {
    peer.close();
    await server.close();
  }
});

Deno.test("SIP_USE_SOURCE_SOCKET sends UDP responses to the source port instead of sent-by", async () => {
  for (const useSourceSocket of [false, true]) {
    const server = await stack("127.0.0.1", { useSourceSocket });
    const peer = udpPeer();
    try {
      const to = { transport: "udp" as const, hostname: "127.0.0.1", port: portOf(server, "udp") };
      // No rport, and a sent-by port nobody listens on: only SIP_USE_SOURCE_SOCKET reaches us.
      await peer.send(wire(optionsText("SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKsrc", "src-1")), to);
      if (useSourceSocket) {
        assert.match(await receiveText(peer), /^SIP\/2.0 200 OK/);
      } else {
        await until(() => server.requests.length === 1, 3000, "request handled");
        await assert.rejects(receiveText(peer, 200), /timed out/);
      }
      await drained(server);
    } finally {
      peer.close();
      await server.close();
    }
  }
});

Deno.test("SIP stack over TCP reuses one connection both ways and handles INVITE, CANCEL and 487", async () => {
  const server = await stack("127.0.0.1");
  const client = await stack("127.0.0.1");
  try {
    const to = { host: "127.0.0.1", port: portOf(server, "tcp"), transport: "tcp" as const };
    const invite = makeRequest("INVITE", client, to, "inv-1");
    const responses: number[] = [];
    const inviteTx = client.tx.sendRequest(invite, to, {
      onResponse: (r: SipResponse) => responses.push(r.status),
    });
    await until(() => responses.includes(100), 3000, "100 Trying from the server transaction");
    const serverInvite = server.requests[0].transaction;
    assert.ok(serverInvite instanceof InviteServerTransaction);
    const cancelled = new Promise<void>((resolve) => (serverInvite.onCancel = () => resolve()));
    const cancel = await client.tx.sendRequest(buildCancel(invite), to).response();
    assert.equal(cancel.status, 200);
    await cancelled;
    assert.equal((await inviteTx.response()).status, 487);
    await until(() => serverInvite.state === "terminated", 3000, "ACK absorbed, Timer I");
    assert.deepEqual(await serverInvite.done, { type: "normal" });

    // The server now sends a request to the client's source address: same connection.
    const back = server.requests[0].source;
    const res = await server.tx.sendRequest(makeRequest("OPTIONS", server, back, "back-1"), back)
      .response();
    assert.equal(res.status, 200);
    const tcpCount = (s: Stack) =>
      s.transport.transports.filter((t) => t.protocol === "tcp")
        .reduce((n, t) => n + ("connectionCount" in t ? t.connectionCount : 0), 0);
    assert.equal(tcpCount(client), 1);
    assert.equal(tcpCount(server), 1);
    assert.deepEqual(responses, [100, 487]);
    await drained(client, server);
  } finally {
    await client.close();
    await server.close();
  }
});
