/**
 * SIP over TCP, over TLS with a certificate the test makes (the caller pins it with
 * SIP_TLS_CA_FILE), and over IPv6 loopback with IPv6 media. Audio is checked by tone content both
 * ways.
 */
import assert from "node:assert/strict";
import { call } from "../helpers/server.ts";
import {
  find,
  hearEachOther,
  type Pair,
  roomToRoomCall,
  serverFactory,
  waitEvent,
  withPair,
} from "../helpers/sip_pair.ts";

const server = serverFactory(36000);

/** A self-signed certificate for 127.0.0.1/localhost in a temp dir (removed by the caller). */
async function makeCert(): Promise<{ dir: string; cert: string; key: string }> {
  const dir = await Deno.makeTempDir({ prefix: "vb-sip-tls-" });
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      // A leaf, not a CA: rustls refuses a CA certificate as the server's own (CaUsedAsEndEntity).
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "extendedKeyUsage=serverAuth",
      "-keyout",
      key,
      "-out",
      cert,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return { dir, cert, key };
}

/**
 * A dials `to` on B; B answers; both legs join a room with a tone client; both hear the other.
 * Returns the `source_address` B saw the INVITE come from.
 */
async function callWithAudio(p: Pair, to: string): Promise<string> {
  const { out, inb, wsA, wsB } = await roomToRoomCall(p, { to, codecs: ["PCMU"] });
  await hearEachOther(wsA, wsB);
  assert.equal((await call(p.a.url, "DELETE", `/v1/legs/${out}`)).status, 202);
  assert.equal((await waitEvent(p.recB, "leg.disconnected", inb)).cdr.reason, "remote_bye");
  return find(p.recB, "leg.ringing", inb).source_address;
}

Deno.test("a SIP call over TCP (;transport=tcp) carries audio both ways on one connection", () =>
  withPair(server, {}, async (p) => {
    const tcpOf = (s: typeof p.a) =>
      s.ctx.sip.transport.transports.find((t) => t.protocol === "tcp") as {
        connectionCount: number;
      };
    assert.equal(tcpOf(p.b).connectionCount, 0);
    const { out, inb, wsA, wsB } = await roomToRoomCall(p, {
      to: `sip:bob@127.0.0.1:${p.b.sipPort};transport=tcp`,
      codecs: ["PCMU"],
    });
    assert.equal(tcpOf(p.b).connectionCount, 1, "the INVITE came over TCP");
    assert.equal(
      tcpOf(p.a).connectionCount,
      1,
      "A's INVITE and ACK share one connection",
    );
    await hearEachOther(wsA, wsB);
    // B's BYE goes to A's Contact (a TCP URI: RFC 3261 §12.2.1.1 sends it to A's listener).
    assert.equal((await call(p.b.url, "DELETE", `/v1/legs/${inb}`)).status, 202);
    assert.equal((await waitEvent(p.recA, "leg.disconnected", out)).cdr.reason, "remote_bye");
  }));

Deno.test("a SIP call over TLS to a certificate the caller pins carries audio both ways", async () => {
  const { dir, cert, key } = await makeCert();
  try {
    await withPair(server, {
      a: { SIP_TLS_CA_FILE: cert },
      b: { SIP_TLS_PORT: "0", SIP_TLS_CERT: cert, SIP_TLS_KEY: key },
    }, async (p) => {
      assert.ok(p.b.sipTlsPort, "B listens for TLS");
      await callWithAudio(p, `sip:bob@127.0.0.1:${p.b.sipTlsPort};transport=tls`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a TLS dial to a certificate the caller does not trust fails without a call", async () => {
  const { dir, cert, key } = await makeCert();
  try {
    await withPair(server, {
      b: { SIP_TLS_PORT: "0", SIP_TLS_CERT: cert, SIP_TLS_KEY: key },
    }, async ({ a, b, recA, recB }) => {
      const created = await call(a.url, "POST", "/v1/legs", {
        type: "sip",
        to: `sips:bob@127.0.0.1:${b.sipTlsPort}`,
      });
      assert.equal(created.status, 201, created.text);
      const end = await waitEvent(recA, "leg.disconnected", created.json.id, 40_000);
      assert.ok(["invite_failed", "timeout"].includes(end.cdr.reason), end.cdr.reason);
      assert.equal(find(recB, "leg.ringing"), undefined, "B never saw an INVITE");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a SIP call over IPv6 loopback negotiates IPv6 media and carries audio both ways", () =>
  withPair(server, { a: { SIP_BIND_IPV6: "::1" }, b: { SIP_BIND_IPV6: "::1" } }, async (p) => {
    const source = await callWithAudio(p, `sip:bob@[::1]:${p.b.sipPort}`);
    assert.match(source, /^\[::1\]:\d+$/, "the INVITE came over IPv6");
  }));
