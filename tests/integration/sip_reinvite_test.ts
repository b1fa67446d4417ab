/**
 * A caller's re-INVITE that moves its media (new address/port, RFC 3264 §8.3.1) is answered and
 * applied at once: the server's RTP follows to the new port. Also a re-INVITE whose SDP cannot be
 * answered (no common codec) is refused with 488 and leaves the call and its media as they were.
 * The caller is a raw UDP socket.
 */
import assert from "node:assert/strict";
import { call, recordEvents } from "../helpers/server.ts";
import { crlf, RawUdpPeer } from "../helpers/sip_raw.ts";
import { serverFactory, waitEvent } from "../helpers/sip_pair.ts";

const server = serverFactory(41000);

function sdp(port: number, pt: number, name: string, version: number): string {
  return [
    "v=0",
    `o=- 9 ${version} IN IP4 127.0.0.1`,
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    `m=audio ${port} RTP/AVP ${pt}`,
    `a=rtpmap:${pt} ${name}/8000`,
    "",
  ].join("\r\n");
}

function request(
  method: "INVITE" | "ACK",
  o: {
    peer: RawUdpPeer;
    serverPort: number;
    callId: string;
    cseq: number;
    branch: string;
    toTag?: string;
    body?: string;
  },
): Uint8Array {
  const head = [
    `${method} sip:bob@127.0.0.1:${o.serverPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${o.peer.port};branch=${o.branch};rport`,
    "Max-Forwards: 70",
    `From: <sip:alice@127.0.0.1:${o.peer.port}>;tag=alice-7`,
    `To: <sip:bob@127.0.0.1:${o.serverPort}>${o.toTag ? `;tag=${o.toTag}` : ""}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} ${method}`,
    `Contact: <sip:alice@127.0.0.1:${o.peer.port}>`,
  ];
  if (o.body) head.push("Content-Type: application/sdp");
  head.push(`Content-Length: ${o.body?.length ?? 0}`, "", "");
  return crlf(head.join("\n") + (o.body ?? ""));
}

/** Waits for an RTP packet on `sock` (bounded); true when one arrived. */
async function rtpArrives(sock: Deno.DatagramConn, ms = 5000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    for (let i = 0; i < 50; i++) {
      const got = await Promise.race([sock.receive().then(([d]) => d), timeout]);
      if (got === false) return false;
      if (got.length >= 12 && (got[0] & 0xc0) === 0x80 && got[1] < 200) return true;
    }
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Counts RTP packets arriving on `sock` for `ms` (reading as fast as they come). */
async function countFor(sock: Deno.DatagramConn, ms: number): Promise<number> {
  const end = performance.now() + ms;
  let n = 0;
  for (let i = 0; i < 10_000; i++) {
    const left = end - performance.now();
    if (left <= 0) break;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), left));
    const got = await Promise.race([sock.receive().then(([d]) => d), timeout]);
    clearTimeout(timer);
    if (got === null) break;
    if (got.length >= 12 && (got[0] & 0xc0) === 0x80) n++;
  }
  return n;
}

Deno.test("a re-INVITE moving the caller's media is applied, a bad one gets 488 and changes nothing", async () => {
  const srv = await server();
  const rec = recordEvents(srv);
  const peer = new RawUdpPeer(srv.sipPort);
  const first = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const second = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const portOf = (s: Deno.DatagramConn) => (s.addr as Deno.NetAddr).port;
  try {
    const callId = `reinv-${crypto.randomUUID()}`;
    const base = { peer, serverPort: srv.sipPort, callId };
    await peer.send(request("INVITE", {
      ...base,
      cseq: 1,
      branch: "z9hG4bK-ri-1",
      body: sdp(portOf(first), 0, "PCMU", 1),
    }));
    const ringing = await waitEvent(rec, "leg.ringing");
    const leg = ringing.leg_id as string;
    assert.equal((await call(srv.url, "POST", `/v1/legs/${leg}/answer`)).status, 202);
    const ok = await peer.response({ status: 200, callId, ms: 10_000 });
    assert.ok(ok);
    const toTag = /tag=([^;>\s]+)/.exec(ok.value("To") ?? "")![1];
    await peer.send(request("ACK", { ...base, cseq: 1, branch: "z9hG4bK-ri-a1", toTag }));
    await waitEvent(rec, "leg.connected", leg);
    assert.ok(await rtpArrives(first), "RTP goes to the first port");

    /** A re-INVITE in the dialog offering `pt`/`name` at `port`; CSeq and SDP version `cseq`. */
    const reinvite = (cseq: number, port: number, pt: number, name: string) =>
      peer.send(request("INVITE", {
        ...base,
        cseq,
        branch: `z9hG4bK-ri-${cseq}`,
        toTag,
        body: sdp(port, pt, name, cseq),
      }));

    // Media moves to the second port.
    await reinvite(2, portOf(second), 0, "PCMU");
    const ok2 = await peer.response({ status: 200, callId, ms: 10_000 });
    assert.ok(ok2, "the re-INVITE is answered 200");
    assert.match(ok2.raw, /\r\nm=audio \d+ RTP\/AVP 0/, "with our SDP, same codec");
    await peer.send(request("ACK", { ...base, cseq: 2, branch: "z9hG4bK-ri-a2", toTag }));
    assert.ok(await rtpArrives(second), "RTP follows to the second port");

    // An offer we cannot answer: 488, and the media stays where it is.
    await reinvite(3, portOf(first), 18, "G729");
    const refused = await peer.response({ callId, final: true, ms: 10_000 });
    assert.equal(refused?.status, 488);
    await peer.send(request("ACK", { ...base, cseq: 3, branch: "z9hG4bK-ri-3", toTag }));
    // Drain what queued up, then the flow must still be arriving (≈ 50 packets/s).
    await countFor(second, 400);
    const fresh = await countFor(second, 600);
    assert.ok(fresh >= 15, `RTP still goes to the second port (${fresh} packets in 600 ms)`);
    assert.equal((await call(srv.url, "GET", `/v1/legs/${leg}`)).json.state, "connected");
    assert.equal((await call(srv.url, "DELETE", `/v1/legs/${leg}`)).status, 202);
    await waitEvent(rec, "leg.disconnected", leg);
  } finally {
    rec.stop();
    await peer.close();
    first.close();
    second.close();
    await srv.shutdown();
  }
});
