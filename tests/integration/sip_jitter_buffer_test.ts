/**
 * SIP_JITTER_BUFFER_MS on a real call: a raw RTP sender swaps every pair of packets. With the
 * default passthrough the room hears the frames in arrival order; with a 60 ms target the leg's
 * jitter buffer puts them back in sequence. Each frame carries its own constant level, so the
 * order is read back from what a WebSocket leg in an 8 kHz room hears.
 */
import assert from "node:assert/strict";
import { call, recordEvents } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { crlf, RawUdpPeer } from "../helpers/sip_raw.ts";
import { serverFactory, waitEvent, wsUrl } from "../helpers/sip_pair.ts";
import { ulawEncodeSample } from "../../src/codecs/g711.ts";

const server = serverFactory(40000);
const FRAMES = 40;

/**
 * Frame `seq`'s level: 270 apart (µ-law's step there is 256, so quantization moves a level by
 * at most 128), all above 4000 — a concealment frame (half the last level) stays below that.
 */
const level = (seq: number) => 4200 + 270 * (seq % 14);

function rtp(seq: number): Uint8Array {
  const pkt = new Uint8Array(12 + 160);
  const v = new DataView(pkt.buffer);
  pkt[0] = 0x80;
  pkt[1] = seq === 0 ? 0x80 : 0; // marker on the first packet, payload type 0 (PCMU)
  v.setUint16(2, seq);
  v.setUint32(4, seq * 160);
  v.setUint32(8, 0xabcd);
  pkt.fill(ulawEncodeSample(level(seq)), 12);
  return pkt;
}

function sipRequest(lines: string[], body = ""): Uint8Array {
  const head = [...lines];
  if (body) head.push("Content-Type: application/sdp");
  head.push(`Content-Length: ${body.length}`, "", "");
  return crlf(head.join("\n") + body);
}

/** Calls the server from a raw UA, sends the pair-swapped frames, returns the levels heard. */
async function heardOrder(env: Record<string, string>): Promise<number[]> {
  const srv = await server(env);
  const rec = recordEvents(srv);
  const peer = new RawUdpPeer(srv.sipPort);
  const media = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  let ws: PcmClient | undefined;
  try {
    const callId = `jb-${crypto.randomUUID()}`;
    const via = `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-jb-`;
    const common = [
      "Max-Forwards: 70",
      `From: <sip:alice@127.0.0.1:${peer.port}>;tag=jb`,
      `Call-ID: ${callId}`,
      `Contact: <sip:alice@127.0.0.1:${peer.port}>`,
    ];
    const offer = [
      "v=0",
      "o=- 1 1 IN IP4 127.0.0.1",
      "s=-",
      "c=IN IP4 127.0.0.1",
      "t=0 0",
      `m=audio ${(media.addr as Deno.NetAddr).port} RTP/AVP 0`,
      "a=rtpmap:0 PCMU/8000",
      "",
    ].join("\r\n");
    await peer.send(sipRequest([
      `INVITE sip:bob@127.0.0.1:${srv.sipPort} SIP/2.0`,
      `${via}inv;rport`,
      `To: <sip:bob@127.0.0.1:${srv.sipPort}>`,
      "CSeq: 1 INVITE",
      ...common,
    ], offer));
    const leg = (await waitEvent(rec, "leg.ringing")).leg_id as string;
    assert.equal((await call(srv.url, "POST", `/v1/legs/${leg}/answer`)).status, 202);
    const ok = await peer.response({ status: 200, callId, ms: 10_000 });
    assert.ok(ok);
    const port = Number(/\r\nm=audio (\d+) /.exec(ok.raw)![1]);
    await peer.send(sipRequest([
      `ACK sip:bob@127.0.0.1:${srv.sipPort} SIP/2.0`,
      `${via}ack;rport`,
      `To: ${ok.value("To")}`,
      "CSeq: 1 ACK",
      ...common,
    ]));
    await waitEvent(rec, "leg.connected", leg);
    assert.equal(
      (await call(srv.url, "POST", "/v1/rooms", { id: "jb", sample_rate: 8000 })).status,
      201,
    );
    assert.equal((await call(srv.url, "POST", "/v1/rooms/jb/legs", { leg_id: leg })).status, 200);
    ws = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=jb&sample_rate=8000"), {
      rate: 8000,
      toneHz: 0,
    });
    await ws.opened;
    const client = ws;
    await waitFor(() => client.received.length >= 5, 10_000, "the room ticking");
    // Pairs swapped: 1, 0, 3, 2, … one packet per 20 ms.
    const to = { transport: "udp" as const, hostname: "127.0.0.1", port };
    const start = performance.now();
    for (let i = 0; i < FRAMES; i++) {
      const seq = i % 2 === 0 ? i + 1 : i - 1;
      await media.send(rtp(seq), to);
      const next = start + (i + 1) * 20;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
    await new Promise((r) => setTimeout(r, 300));
    // One frame per mixer tick: read each frame's level back as the frame's sequence number.
    const order: number[] = [];
    for (const f of client.received) {
      const sorted = Int16Array.from(f).sort();
      const median = sorted[sorted.length >> 1];
      // Silence before and after, and concealment frames (a late packet under load: a quieter
      // copy of the last frame) are not frames we sent.
      if (median < 4000 || sorted[sorted.length - 1] - sorted[0] > 2) continue;
      order.push(Math.round((median - 4200) / 270) + 0); // + 0: no -0
    }
    assert.equal((await call(srv.url, "DELETE", `/v1/legs/${leg}`)).status, 202);
    return order;
  } finally {
    rec.stop();
    await ws?.close();
    await peer.close();
    media.close();
    await srv.shutdown();
  }
}

Deno.test("SIP_JITTER_BUFFER_MS puts reordered RTP back in sequence; passthrough does not", async () => {
  const expected = Array.from({ length: FRAMES }, (_, i) => i % 14);
  const ordered = await heardOrder({ SIP_JITTER_BUFFER_MS: "60" });
  assert.deepEqual(ordered, expected, "a 60 ms jitter buffer plays 0, 1, 2, …");
  const passthrough = await heardOrder({});
  const swapped = Array.from({ length: FRAMES }, (_, i) => (i % 2 === 0 ? i + 1 : i - 1) % 14);
  assert.deepEqual(passthrough, swapped, "passthrough plays them as they came: 1, 0, 3, 2, …");
});
