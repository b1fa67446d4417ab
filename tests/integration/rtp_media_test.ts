import assert from "node:assert/strict";
import { quietLogger, startTestServer } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { RtpEndpoints } from "../../src/media_plane/rtp_endpoints.ts";
import { PortAllocator } from "../../src/media_plane/port_allocator.ts";
import { marshalRtpTo, RtpPacket, unmarshalRtp } from "../../src/rtp/packet.ts";
import { ulawDecode, ulawEncode } from "../../src/codecs/g711.ts";
import { toneRatio } from "../../src/media/goertzel.ts";

function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

Deno.test("an RTP session opened in the room's worker exchanges PCMU audio with a WebSocket leg through the mixer", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "2" });
  const rtp = new RtpEndpoints(
    srv.ctx.media,
    new PortAllocator({ min: 30000, max: 30999 }),
    quietLogger,
  );
  const peer = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const ws = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=sip&sample_rate=16000"), {
    rate: 16000,
    toneHz: 700,
  });
  let sender: ReturnType<typeof setInterval> | undefined;
  const heardByPeer: Int16Array[] = [];
  let reading = true;
  try {
    await ws.opened;
    await waitFor(() => srv.ctx.media.roomWorkerIndex("sip") !== undefined, 5000, "room mixer");
    const opened = await rtp.open("sip-leg", {
      bindHost: "127.0.0.1",
      rtcpMux: true,
      codec: { name: "PCMU", payloadType: 0 },
      jitter: { targetMs: 0, maxMs: 300 },
      remote: { host: "127.0.0.1", port: (peer.addr as Deno.NetAddr).port },
    }, { roomId: "sip" });
    assert.ok(opened.localPort >= 30000 && opened.localPort <= 30999 && opened.localPort % 2 === 0);
    srv.ctx.media.join("sip-leg", "sip", { muted: false, deaf: false, role: "" });
    ws.startSending();

    // The peer: a 1200 Hz PCMU tone every 20 ms, and everything it receives decoded.
    const pkt = new RtpPacket();
    pkt.payloadType = 0;
    pkt.ssrc = 0x1234;
    const pcm = new Int16Array(160);
    const payload = new Uint8Array(160);
    const buf = new Uint8Array(300);
    let seq = 0;
    let phase = 0;
    sender = setInterval(() => {
      for (let i = 0; i < 160; i++) {
        pcm[i] = Math.round(9000 * Math.sin(phase += (2 * Math.PI * 1200) / 8000));
      }
      ulawEncode(pcm, payload);
      pkt.sequenceNumber = seq++ & 0xffff;
      pkt.timestamp = seq * 160;
      pkt.payload = payload;
      const n = marshalRtpTo(pkt, buf);
      peer.send(buf.slice(0, n), {
        transport: "udp",
        hostname: "127.0.0.1",
        port: opened.localPort,
      });
    }, 20);
    (async () => {
      const rx = new Uint8Array(2048);
      const got = new RtpPacket();
      while (reading) {
        let data: Uint8Array;
        try {
          [data] = await peer.receive(rx);
        } catch {
          return;
        }
        if (unmarshalRtp(data, got) && got.payloadType === 0) {
          const out = new Int16Array(got.payload.length);
          ulawDecode(got.payload, out);
          heardByPeer.push(out);
        }
      }
    })();

    await waitFor(
      () => ws.received.length >= 60 && heardByPeer.length >= 60,
      15_000,
      "audio both ways",
    );
    const mark = [ws.received.length, heardByPeer.length];
    await waitFor(
      () => ws.received.length >= mark[0] + 25 && heardByPeer.length >= mark[1] + 25,
      5000,
      "more audio",
    );
    assert.ok(toneRatio(ws.tail(400), 16000, 1200) > 0.3, "the WebSocket leg hears the RTP peer");
    assert.ok(toneRatio(ws.tail(400), 16000, 700) < 0.01, "and not itself");
    const last = heardByPeer.slice(-20);
    const joined = new Int16Array(last.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of last) {
      joined.set(f, at);
      at += f.length;
    }
    assert.ok(toneRatio(joined, 8000, 700) > 0.3, "the RTP peer hears the WebSocket leg as PCMU");
    assert.ok(toneRatio(joined, 8000, 1200) < 0.01, "and not itself");
  } finally {
    if (sender !== undefined) clearInterval(sender);
    rtp.close("sip-leg");
    await ws.close();
    reading = false;
    peer.close();
    rtp.dispose();
    await srv.shutdown();
  }
});

Deno.test("RtpEndpoints reports a port range that is used up as 503 and leaves nothing placed", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "1" });
  const rtp = new RtpEndpoints(
    srv.ctx.media,
    new PortAllocator({ min: 31000, max: 31001 }),
    quietLogger,
  );
  try {
    await rtp.open("a", {
      bindHost: "127.0.0.1",
      rtcpMux: true,
      codec: { name: "PCMU", payloadType: 0 },
      jitter: { targetMs: 0, maxMs: 300 },
    });
    await assert.rejects(
      () =>
        rtp.open("b", {
          bindHost: "127.0.0.1",
          rtcpMux: true,
          codec: { name: "PCMU", payloadType: 0 },
          jitter: { targetMs: 0, maxMs: 300 },
        }),
      (e: Error & { status?: number }) => e.status === 503,
    );
    const placed = () => srv.ctx.media.stats().reduce((n, w) => n + w.endpoints, 0);
    assert.equal(placed(), 1, "the failed open left nothing placed");
    rtp.close("a");
    assert.equal(placed(), 0);
  } finally {
    rtp.dispose();
    await srv.shutdown();
  }
});
