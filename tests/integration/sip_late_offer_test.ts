/**
 * An INVITE without SDP (RFC 3264 §5 late offer): the server's 200 OK carries its offer, the
 * caller's ACK the answer. A raw UDP caller answers with the offer's second codec (PCMA), and the
 * leg still carries audio both ways in it — checked by decoding the RTP the server sends and by a
 * WebSocket leg in the room hearing the caller's tone.
 */
import assert from "node:assert/strict";
import { call, recordEvents } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { crlf, RawUdpPeer } from "../helpers/sip_raw.ts";
import { serverFactory, waitEvent, wsUrl } from "../helpers/sip_pair.ts";
import { toneRatio } from "../../src/media/goertzel.ts";
import { alawDecodeSample, alawEncodeSample } from "../../src/codecs/g711.ts";

const server = serverFactory(40500);

function invite(peer: RawUdpPeer, serverPort: number, callId: string): string {
  return [
    `INVITE sip:bob@127.0.0.1:${serverPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-late-1;rport`,
    "Max-Forwards: 70",
    `From: <sip:alice@127.0.0.1:${peer.port}>;tag=alice-1`,
    `To: <sip:bob@127.0.0.1:${serverPort}>`,
    `Call-ID: ${callId}`,
    "CSeq: 1 INVITE",
    `Contact: <sip:alice@127.0.0.1:${peer.port}>`,
    "Content-Length: 0",
    "",
    "",
  ].join("\n");
}

/** 160 A-law samples of a 1 kHz tone (8 kHz), as an RTP packet with payload type 8. */
function pcmaPacket(seq: number, ts: number, ssrc: number): Uint8Array {
  const pkt = new Uint8Array(12 + 160);
  const v = new DataView(pkt.buffer);
  pkt[0] = 0x80;
  pkt[1] = 8;
  v.setUint16(2, seq & 0xffff);
  v.setUint32(4, ts >>> 0);
  v.setUint32(8, ssrc);
  for (let i = 0; i < 160; i++) {
    const s = Math.round(8000 * Math.sin(2 * Math.PI * 1000 * (ts + i) / 8000));
    pkt[12 + i] = alawEncodeSample(s);
  }
  return pkt;
}

Deno.test("an INVITE without SDP gets our offer in the 200 and the ACK's answer sets the codec", async () => {
  const srv = await server();
  const rec = recordEvents(srv);
  const peer = new RawUdpPeer(srv.sipPort);
  const rtp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const rtpPort = (rtp.addr as Deno.NetAddr).port;
  let ws: PcmClient | undefined;
  let sending: ReturnType<typeof setInterval> | undefined;
  try {
    const callId = `late-${crypto.randomUUID()}`;
    await peer.send(crlf(invite(peer, srv.sipPort, callId)));
    const ringing = await waitEvent(rec, "leg.ringing");
    const leg = ringing.leg_id as string;
    assert.deepEqual(ringing.offered_codecs, []);
    let r = await call(srv.url, "POST", `/v1/legs/${leg}/early-media`);
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "early media needs an SDP offer in the INVITE (this one had none)");
    r = await call(srv.url, "POST", `/v1/legs/${leg}/answer`);
    assert.equal(r.status, 202, r.text);

    const ok = await peer.response({ status: 200, callId, ms: 10_000 });
    assert.ok(ok, "a 200 OK");
    const body = ok.raw.split("\r\n\r\n")[1];
    const m = /^m=audio (\d+) RTP\/AVP ([\d ]+)$/m.exec(body);
    assert.ok(m, body);
    assert.deepEqual(m[2].split(" ").slice(0, 3), ["0", "8", "9"], "every allowed codec offered");
    const serverRtpPort = Number(m[1]);
    const answer = [
      "v=0",
      "o=- 7 7 IN IP4 127.0.0.1",
      "s=-",
      "c=IN IP4 127.0.0.1",
      "t=0 0",
      `m=audio ${rtpPort} RTP/AVP 8`,
      "a=rtpmap:8 PCMA/8000",
      "",
    ].join("\r\n");
    const toTag = /tag=([^;>\s]+)/.exec(ok.value("To") ?? "")?.[1];
    await peer.send(
      crlf(
        [
          `ACK sip:bob@127.0.0.1:${srv.sipPort} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-late-ack;rport`,
          "Max-Forwards: 70",
          `From: <sip:alice@127.0.0.1:${peer.port}>;tag=alice-1`,
          `To: <sip:bob@127.0.0.1:${srv.sipPort}>;tag=${toTag}`,
          `Call-ID: ${callId}`,
          "CSeq: 1 ACK",
          "Content-Type: application/sdp",
          `Content-Length: ${answer.length}`,
          "",
          answer,
        ].join("\n"),
      ),
    );
    await waitEvent(rec, "leg.connected", leg);

    // The caller's tone into the room: a WebSocket leg there must hear 1 kHz.
    assert.equal((await call(srv.url, "POST", "/v1/rooms/late/legs", { leg_id: leg })).status, 200);
    ws = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=late&sample_rate=16000"), {
      rate: 16000,
      toneHz: 600,
    });
    await ws.opened;
    ws.startSending();
    let seq = 1;
    let ts = 0;
    sending = setInterval(() => {
      void rtp.send(pcmaPacket(seq++, ts, 0x1234), {
        transport: "udp",
        hostname: "127.0.0.1",
        port: serverRtpPort,
      }).catch(() => {});
      ts += 160;
    }, 20);
    const client = ws;
    await waitFor(() => client.received.length >= 75, 10_000, "room audio");
    assert.ok(toneRatio(client.tail(400), 16000, 1000) > 0.3, "the room hears the caller (PCMA)");

    // What the server sends is PCMA (payload type 8) carrying the room's 600 Hz.
    const pcm: number[] = [];
    for (let i = 0; i < 200 && pcm.length < 8000; i++) {
      const [data] = await rtp.receive();
      if (data.length < 12 || (data[1] & 0x7f) !== 8) continue;
      for (const b of data.subarray(12)) pcm.push(alawDecodeSample(b));
    }
    assert.ok(pcm.length >= 3200, `got ${pcm.length} PCMA samples`);
    assert.ok(
      toneRatio(Int16Array.from(pcm.slice(-3200)), 8000, 600) > 0.3,
      "the caller hears the room in PCMA",
    );
    assert.equal((await call(srv.url, "DELETE", `/v1/legs/${leg}`)).status, 202);
  } finally {
    clearInterval(sending);
    rec.stop();
    await ws?.close();
    await peer.close();
    rtp.close();
    await srv.shutdown();
  }
});
