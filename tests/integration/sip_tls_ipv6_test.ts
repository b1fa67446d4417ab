/**
 * SIP over TLS with a certificate the test makes (the caller pins it with SIP_TLS_CA_FILE), and a
 * SIP call over IPv6 loopback with IPv6 media. Audio is checked by tone content both ways.
 */
import assert from "node:assert/strict";
import { call, recordEvents } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { find, serverFactory, waitEvent, wsUrl } from "../helpers/sip_pair.ts";
import { toneRatio } from "../../src/media/goertzel.ts";
import type { RunningServer } from "../../src/server.ts";

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
async function callWithAudio(a: RunningServer, b: RunningServer, to: string): Promise<string> {
  const recA = recordEvents(a);
  const recB = recordEvents(b);
  const wsA = new PcmClient(wsUrl(a.url, "/v1/legs/websocket?room_id=ra&sample_rate=16000"), {
    rate: 16000,
    toneHz: 700,
  });
  let wsB: PcmClient | undefined;
  try {
    await wsA.opened;
    await waitFor(() => a.ctx.media.roomWorkerIndex("ra") !== undefined, 5000, "room ra");
    const created = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      to,
      codecs: ["PCMU"],
      room_id: "ra",
    });
    assert.equal(created.status, 201, created.text);
    const out = created.json.id as string;
    const ringing = await waitEvent(recB, "leg.ringing");
    const inb = ringing.leg_id as string;
    assert.equal((await call(b.url, "POST", `/v1/legs/${inb}/answer`)).status, 202);
    await waitEvent(recA, "leg.connected", out);
    assert.equal((await call(b.url, "POST", "/v1/rooms/rb/legs", { leg_id: inb })).status, 200);
    const bClient = wsB = new PcmClient(
      wsUrl(b.url, "/v1/legs/websocket?room_id=rb&sample_rate=16000"),
      { rate: 16000, toneHz: 1100 },
    );
    await bClient.opened;
    wsA.startSending();
    bClient.startSending();
    await waitFor(
      () => wsA.received.length >= 100 && bClient.received.length >= 100,
      15_000,
      "audio both ways",
    );
    const mark = [wsA.received.length, bClient.received.length];
    await waitFor(
      () => wsA.received.length >= mark[0] + 25 && bClient.received.length >= mark[1] + 25,
      5000,
      "more audio",
    );
    assert.ok(toneRatio(wsA.tail(400), 16000, 1100) > 0.3, "A hears B");
    assert.ok(toneRatio(bClient.tail(400), 16000, 700) > 0.3, "B hears A");
    assert.equal((await call(a.url, "DELETE", `/v1/legs/${out}`)).status, 202);
    assert.equal((await waitEvent(recB, "leg.disconnected", inb)).cdr.reason, "remote_bye");
    return find(recB, "leg.ringing", inb).source_address;
  } finally {
    recA.stop();
    recB.stop();
    await wsA.close();
    await wsB?.close();
  }
}

Deno.test("a SIP call over TLS to a certificate the caller pins carries audio both ways", async () => {
  const { dir, cert, key } = await makeCert();
  const b = await server({ SIP_TLS_PORT: "0", SIP_TLS_CERT: cert, SIP_TLS_KEY: key });
  const a = await server({ SIP_TLS_CA_FILE: cert });
  try {
    assert.ok(b.sipTlsPort, "B listens for TLS");
    await callWithAudio(a, b, `sip:bob@127.0.0.1:${b.sipTlsPort};transport=tls`);
  } finally {
    await a.shutdown();
    await b.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a TLS dial to a certificate the caller does not trust fails without a call", async () => {
  const { dir, cert, key } = await makeCert();
  const b = await server({ SIP_TLS_PORT: "0", SIP_TLS_CERT: cert, SIP_TLS_KEY: key });
  const a = await server();
  const recA = recordEvents(a);
  const recB = recordEvents(b);
  try {
    const created = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      to: `sips:bob@127.0.0.1:${b.sipTlsPort}`,
    });
    assert.equal(created.status, 201, created.text);
    const end = await waitEvent(recA, "leg.disconnected", created.json.id, 40_000);
    assert.ok(["invite_failed", "timeout"].includes(end.cdr.reason), end.cdr.reason);
    assert.equal(find(recB, "leg.ringing"), undefined, "B never saw an INVITE");
  } finally {
    recA.stop();
    recB.stop();
    await a.shutdown();
    await b.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a SIP call over IPv6 loopback negotiates IPv6 media and carries audio both ways", async () => {
  const b = await server({ SIP_BIND_IPV6: "::1" });
  const a = await server({ SIP_BIND_IPV6: "::1" });
  try {
    const source = await callWithAudio(a, b, `sip:bob@[::1]:${b.sipPort}`);
    assert.match(source, /^\[::1\]:\d+$/, "the INVITE came over IPv6");
  } finally {
    await a.shutdown();
    await b.shutdown();
  }
});
