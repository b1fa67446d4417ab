/**
 * Outbound SIP options of `POST /v1/legs`: `outbound_proxy` (a loose Route, Request-URI kept),
 * `privacy`, custom headers, and digest `auth` answering a 407 — checked on the wire by a raw UDP
 * socket playing the proxy, with the digest recomputed independently with node:crypto. Bad values
 * are refused with 400 before anything is dialled.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { call, recordEvents } from "../helpers/server.ts";
import { serverFactory, waitEvent } from "../helpers/sip_pair.ts";
import type { RunningServer } from "../../src/server.ts";
import { pickAdvertisedAddress } from "../../src/sip/advertised_address.ts";

const server = serverFactory(43000);

/** A received SIP message: start line and header fields by lower-case name. */
interface Msg {
  start: string;
  headers: Map<string, string[]>;
  raw: string;
}

function parse(raw: string): Msg {
  const [head] = raw.split("\r\n\r\n");
  const lines = head.split("\r\n");
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    const name = line.slice(0, i).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(i + 1).trim()]);
  }
  return { start: lines[0], headers, raw };
}

function h(m: Msg, name: string): string {
  const v = m.headers.get(name);
  assert.ok(v, `${name} in ${m.start}`);
  return v[0];
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

/** A proxy stand-in: receives requests and answers them with `status`. */
class RawPeer {
  readonly sock = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  readonly port = (this.sock.addr as Deno.NetAddr).port;

  async recv(ms = 10_000): Promise<{ msg: Msg; from: Deno.NetAddr }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no SIP message within " + ms + " ms")), ms);
    });
    try {
      const [data, from] = await Promise.race([this.sock.receive(), timeout]);
      return { msg: parse(new TextDecoder().decode(data)), from: from as Deno.NetAddr };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next message `want` accepts (retransmissions and others are skipped). */
  async next(want: (m: Msg) => boolean = () => true): Promise<{ msg: Msg; from: Deno.NetAddr }> {
    for (let i = 0; i < 20; i++) {
      const got = await this.recv();
      if (want(got.msg)) return got;
    }
    throw new Error("the expected message did not arrive");
  }

  async reply(
    req: Msg,
    to: Deno.NetAddr,
    status: string,
    extra: string[] = [],
  ): Promise<void> {
    const toHeader = h(req, "to").includes("tag=") ? h(req, "to") : `${h(req, "to")};tag=proxy1`;
    const lines = [
      `SIP/2.0 ${status}`,
      ...req.headers.get("via")!.map((v) => `Via: ${v}`),
      `From: ${h(req, "from")}`,
      `To: ${toHeader}`,
      `Call-ID: ${h(req, "call-id")}`,
      `CSeq: ${h(req, "cseq")}`,
      ...extra,
      "Content-Length: 0",
      "",
      "",
    ];
    await this.sock.send(new TextEncoder().encode(lines.join("\r\n")), to);
  }

  close(): void {
    this.sock.close();
  }
}

/** A dials the raw peer (PCMU) and returns the 201 and the INVITE as the peer got it. */
async function dialPeer(a: RunningServer, peer: RawPeer) {
  const created = await call(a.url, "POST", "/v1/legs", {
    type: "sip",
    to: `sip:bob@127.0.0.1:${peer.port}`,
    codecs: ["PCMU"],
  });
  assert.equal(created.status, 201, created.text);
  const { msg, from } = await peer.next((m) => m.start.startsWith("INVITE "));
  return { created, msg, from };
}

Deno.test("outbound_proxy, privacy, custom headers and digest auth go on the wire as asked", async () => {
  const a = await server();
  const rec = recordEvents(a);
  const proxy = new RawPeer();
  try {
    const created = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      to: "sip:bob@example.com",
      from: "alice",
      outbound_proxy: `127.0.0.1:${proxy.port}`,
      privacy: "id",
      headers: { "X-Trace": "t-1", "P-Asserted-Identity": "<sip:+15551234@example.com>" },
      auth: { password: "s3cret" },
      codecs: ["PCMU"],
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.json.sip_headers, { "X-Trace": "t-1" });

    const first = await proxy.next();
    const inv = first.msg;
    assert.equal(inv.start, "INVITE sip:bob@example.com SIP/2.0", "Request-URI is the target");
    assert.equal(h(inv, "route"), `<sip:127.0.0.1:${proxy.port};lr>`);
    assert.equal(h(inv, "privacy"), "id");
    assert.equal(h(inv, "x-trace"), "t-1");
    assert.equal(h(inv, "p-asserted-identity"), "<sip:+15551234@example.com>");
    assert.match(h(inv, "from"), /sip:alice@/);
    assert.equal(inv.headers.get("proxy-authorization"), undefined);

    const nonce = "f84f1cec41e6cbe5aea9c8e88d359";
    await proxy.reply(inv, first.from, "407 Proxy Authentication Required", [
      `Proxy-Authenticate: Digest realm="example.com", nonce="${nonce}", qop="auth", algorithm=MD5`,
    ]);
    const ack = await proxy.next((m) => m.start.startsWith("ACK "));
    assert.match(ack.msg.start, /^ACK sip:bob@example\.com SIP\/2\.0$/);

    const second = await proxy.next((m) =>
      m.start.startsWith("INVITE ") && h(m, "cseq") !== h(inv, "cseq")
    );
    const inv2 = second.msg;
    assert.equal(inv2.start, inv.start);
    assert.equal(h(inv2, "call-id"), h(inv, "call-id"));
    assert.equal(parseInt(h(inv2, "cseq")), parseInt(h(inv, "cseq")) + 1, "CSeq advances");
    const auth = h(inv2, "proxy-authorization");
    const field = (k: string) =>
      auth.match(new RegExp(`${k}="?([^",]+)"?`))?.[1] ?? assert.fail(`${k} in ${auth}`);
    assert.equal(field("username"), "alice", "username defaults to the From user");
    assert.equal(field("realm"), "example.com");
    assert.equal(field("nonce"), nonce);
    assert.equal(field("uri"), "sip:bob@example.com");
    assert.equal(field("qop"), "auth");
    const expected = md5(
      [
        md5("alice:example.com:s3cret"),
        nonce,
        field("nc"),
        field("cnonce"),
        "auth",
        md5("INVITE:sip:bob@example.com"),
      ].join(":"),
    );
    assert.equal(field("response"), expected, "the digest response is right (RFC 2617 §3.2.2)");

    await proxy.reply(inv2, second.from, "486 Busy Here");
    const end = await waitEvent(rec, "leg.disconnected", created.json.id);
    assert.equal(end.cdr.reason, "busy");
  } finally {
    rec.stop();
    proxy.close();
    await a.shutdown();
  }
});

Deno.test("bad SIP dial fields are refused with 400 naming the field and create nothing", async () => {
  const a = await server();
  try {
    const cases: [Record<string, unknown>, string][] = [
      [
        { headers: { "X-A": "1\r\nBYE sip:x SIP/2.0" } },
        "invalid headers: X-A: contains a line break or NUL",
      ],
      [{ headers: { "Call-ID": "x" } }, "invalid headers: Call-ID is set by the server"],
      [{ headers: { "Bad Name": "x" } }, 'invalid headers: "Bad Name" is not a header name'],
      [
        { privacy: "id\r\nX: y" },
        "invalid privacy: must be tokens separated by ';' (e.g. id, none)",
      ],
      [
        { outbound_proxy: "http://proxy" },
        "invalid outbound_proxy: must be a SIP URI or host[:port]",
      ],
      [{ auth: { username: "u", password: "" } }, "invalid auth: password is required"],
    ];
    for (const [body, error] of cases) {
      const r = await call(a.url, "POST", "/v1/legs", {
        type: "sip",
        to: "sip:bob@127.0.0.1:9",
        ...body,
      });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error, error);
    }
    assert.equal(a.ctx.legs.size, 0);
  } finally {
    await a.shutdown();
  }
});

Deno.test("SIP_DOMAIN, SIP_EXTERNAL_IP and SIP_HOST are what the INVITE advertises", async () => {
  const a = await server({
    SIP_DOMAIN: "vb.example.test",
    SIP_EXTERNAL_IP: "198.51.100.7",
    SIP_HOST: "vb-node-1",
  });
  const rec = recordEvents(a);
  const peer = new RawPeer();
  try {
    const { created, msg, from } = await dialPeer(a, peer);
    assert.match(h(msg, "via"), /^SIP\/2\.0\/UDP vb\.example\.test:\d+;/);
    assert.match(h(msg, "contact"), /^<sip:vb-node-1@vb\.example\.test:\d+>$/);
    assert.match(h(msg, "from"), /^<sip:vb-node-1@vb\.example\.test>;tag=/);
    assert.equal(h(msg, "user-agent"), "vb-node-1");
    assert.match(msg.raw, /\r\nc=IN IP4 198\.51\.100\.7\r\n/, "SDP advertises SIP_EXTERNAL_IP");
    await peer.reply(msg, from, "603 Decline");
    assert.equal(
      (await waitEvent(rec, "leg.disconnected", created.json.id)).cdr.reason,
      "declined",
    );
  } finally {
    rec.stop();
    peer.close();
    await a.shutdown();
  }
});

/** A 200 OK with an SDP answer toward `sdpPort` and the given Contact. */
function okWithSdp(contact: string, sdpPort: number): string[] {
  const sdp = [
    "v=0",
    "o=- 1 1 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    `m=audio ${sdpPort} RTP/AVP 0`,
    "a=rtpmap:0 PCMU/8000",
    "",
  ].join("\r\n");
  return [
    `Contact: ${contact}`,
    "Content-Type: application/sdp",
    `Content-Length: ${sdp.length}`,
    "",
    sdp,
  ];
}

Deno.test("SIP_USE_SOURCE_SOCKET sends the ACK and BYE to the peer's socket, not its Contact", async () => {
  const a = await server({ SIP_USE_SOURCE_SOCKET: "true" });
  const rec = recordEvents(a);
  const peer = new RawPeer();
  const rtp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const created = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      to: `sip:bob@127.0.0.1:${peer.port}`,
      codecs: ["PCMU"],
    });
    const { msg, from } = await peer.next((m) => m.start.startsWith("INVITE "));
    // The Contact names a loopback address where nothing listens (a NATed phone's private one).
    await peer.reply(
      msg,
      from,
      "200 OK",
      okWithSdp("<sip:bob@127.0.0.77:9>", (rtp.addr as Deno.NetAddr).port),
    );
    const ack = await peer.next((m) => m.start.startsWith("ACK "));
    assert.equal(ack.msg.start, "ACK sip:bob@127.0.0.77:9 SIP/2.0", "Request-URI is the Contact");
    await waitEvent(rec, "leg.connected", created.json.id);
    assert.equal((await call(a.url, "DELETE", `/v1/legs/${created.json.id}`)).status, 202);
    const bye = await peer.next((m) => m.start.startsWith("BYE "));
    await peer.reply(bye.msg, bye.from, "200 OK");
    assert.equal(
      (await waitEvent(rec, "leg.disconnected", created.json.id)).cdr.reason,
      "api_hangup",
    );
  } finally {
    rec.stop();
    peer.close();
    rtp.close();
    await a.shutdown();
  }
});

Deno.test({
  name: "with SIP_BIND_IP=0.0.0.0 the INVITE advertises the host's address, never 0.0.0.0",
  // A host with no non-loopback IPv4 has nothing better to advertise.
  ignore: pickAdvertisedAddress(Deno.networkInterfaces(), 4) === undefined,
  async fn() {
    const a = await server({ SIP_BIND_IP: "0.0.0.0" });
    const rec = recordEvents(a);
    const peer = new RawPeer();
    try {
      const host = pickAdvertisedAddress(Deno.networkInterfaces(), 4)!;
      assert.equal(a.ctx.sip.advertisedIp, host);
      const { created, msg, from } = await dialPeer(a, peer);
      const escaped = host.replaceAll(".", "\\.");
      assert.match(msg.raw, new RegExp(`\\r\\nc=IN IP4 ${escaped}\\r\\n`), "SDP c=");
      assert.match(h(msg, "via"), new RegExp(`^SIP/2\\.0/UDP ${escaped}:\\d+;`), "Via");
      assert.match(h(msg, "contact"), new RegExp(`@${escaped}:\\d+>$`), "Contact");
      assert.doesNotMatch(msg.raw, /0\.0\.0\.0/);
      await peer.reply(msg, from, "603 Decline");
      await waitEvent(rec, "leg.disconnected", created.json.id);
    } finally {
      rec.stop();
      peer.close();
      await a.shutdown();
    }
  },
});
