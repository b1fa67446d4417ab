import assert from "node:assert/strict";
import {
  RtpSession,
  type RtpSessionEvent,
  type RtpSessionOptions,
} from "../../../src/media/rtp_session.ts";
import { PortAllocator } from "../../../src/media_plane/port_allocator.ts";
import { UdpSender } from "../../../src/media/rtp_udp.ts";
import { createCodec } from "../../../src/codecs/codec.ts";
import { toneRatio } from "../../../src/media/goertzel.ts";
import { marshalRtpTo, rtpMarshalSize, RtpPacket, unmarshalRtp } from "../../../src/rtp/packet.ts";
import { dtmfPackets } from "../../../src/rtp/dtmf.ts";
import {
  marshalRtcpCompound,
  parseRtcp,
  type ReceiverReport,
  type RtcpPacket,
  type SenderReport,
  type SourceDescription,
} from "../../../src/rtp/rtcp.ts";
import { ntpMiddle32 } from "../../../src/rtp/ntp_time.ts";
import { mosScore } from "../../../src/rtp/receiver_stats.ts";

// ── helpers ─────────────────────────────────────────────────────────────────────────────────

const HOST = "127.0.0.1";
const PEER_SSRC = 0x11223344;

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `cond()` holds, polling every 5 ms, for at most `ms`. */
async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > ms) throw new Error(`${what} not met after ${ms} ms`);
    await delay(5);
  }
}

/** A UDP socket on 127.0.0.1 that records every datagram it receives. */
class Peer {
  readonly sock: Deno.DatagramConn;
  readonly port: number;
  readonly got: { data: Uint8Array; port: number }[] = [];
  readonly #loop: Promise<void>;

  constructor() {
    const sock = Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
    this.sock = sock;
    this.port = (sock.addr as Deno.NetAddr).port;
    this.#loop = (async () => {
      for (;;) {
        try {
          const [data, from] = await sock.receive();
          this.got.push({ data: data.slice(), port: (from as Deno.NetAddr).port });
        } catch {
          return;
        }
      }
    })();
  }

  async send(bytes: Uint8Array, port: number): Promise<void> {
    await this.sock.send(bytes, { transport: "udp", hostname: HOST, port });
  }

  /** Received datagrams parsed as RTP (RTCP excluded), copied. */
  rtp(): RtpPacket[] {
    const out: RtpPacket[] = [];
    for (const { data } of this.got) {
      if (data[1] >= 192 && data[1] <= 223) continue;
      const p = new RtpPacket();
      assert.ok(unmarshalRtp(data, p), "the session only sends valid RTP");
      p.payload = p.payload.slice();
      out.push(p);
    }
    return out;
  }

  /** Received datagrams that are RTCP, parsed. */
  rtcp(): RtcpPacket[][] {
    const out: RtcpPacket[][] = [];
    for (const { data } of this.got) {
      if (data[1] < 192 || data[1] > 223) continue;
      const r = parseRtcp(data);
      assert.ok(r.ok, "the session only sends valid RTCP");
      out.push(r.packets);
    }
    return out;
  }

  async close(): Promise<void> {
    this.sock.close();
    await this.#loop;
  }
}

interface Rtp {
  pt: number;
  seq: number;
  ts: number;
  payload: Uint8Array;
  ssrc?: number;
  marker?: boolean;
}

function rtpBytes(o: Rtp): Uint8Array {
  const p = new RtpPacket();
  p.payloadType = o.pt;
  p.sequenceNumber = o.seq & 0xffff;
  p.timestamp = o.ts >>> 0;
  p.ssrc = o.ssrc ?? PEER_SSRC;
  p.marker = o.marker ?? false;
  p.payload = o.payload;
  const out = new Uint8Array(rtpMarshalSize(p));
  marshalRtpTo(p, out);
  return out;
}

function tone(freq: number, rate: number, samples: number, amp = 8000): Int16Array {
  const x = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    x[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  }
  return x;
}

/** `pcm` cut into frames and encoded with a fresh instance of the codec. */
function encodeFrames(codecName: string, pcm: Int16Array): Uint8Array[] {
  const codec = createCodec(codecName)!;
  const out: Uint8Array[] = [];
  for (let o = 0; o + codec.frameSamples <= pcm.length; o += codec.frameSamples) {
    const buf = new Uint8Array(codec.frameSamples);
    const n = codec.encode(pcm.subarray(o, o + codec.frameSamples), buf);
    out.push(buf.slice(0, n));
  }
  return out;
}

/** A constant-level frame: survives G.711 well enough to tell frames apart by level. */
function levelFrame(codecName: string, level: number): Uint8Array {
  return encodeFrames(
    codecName,
    new Int16Array(createCodec(codecName)!.frameSamples).fill(level),
  )[0];
}

function open(peer: Peer, extra: Partial<RtpSessionOptions> = {}): Promise<RtpSession> {
  return RtpSession.open({
    bindHost: HOST,
    port: 0,
    rtcpMux: true,
    codec: { name: "PCMU", payloadType: 0 },
    telephoneEventPt: 101,
    remote: { host: HOST, port: peer.port },
    jitter: { targetMs: 0, maxMs: 1000 },
    ...extra,
  });
}

/** Sends `payloads` as consecutive RTP packets from the peer (20 ms apart in RTP time). */
async function sendStream(
  peer: Peer,
  to: number,
  payloads: Uint8Array[],
  o: { pt?: number; seq0?: number; ts0?: number; skip?: Set<number> } = {},
): Promise<number> {
  let sent = 0;
  for (let k = 0; k < payloads.length; k++) {
    if (o.skip?.has(k)) continue;
    await peer.send(
      rtpBytes({
        pt: o.pt ?? 0,
        seq: (o.seq0 ?? 1000) + k,
        ts: (o.ts0 ?? 5000) + 160 * k,
        payload: payloads[k],
        marker: k === 0,
      }),
      to,
    );
    sent++;
  }
  return sent;
}

/** Runs `n` send ticks, yielding between them so each packet leaves before the next. */
async function sendTicks(s: RtpSession, n: number, pcm?: Int16Array, frames?: Int16Array[]) {
  const silence = new Int16Array(s.frameSamples);
  for (let i = 0; i < n; i++) {
    s.sendFrame(frames ? frames[i] : pcm ?? silence);
    await delay(1);
  }
}

/** Pulls `n` frames; returns them concatenated and the pullFrame results. */
function pullFrames(s: RtpSession, n: number): { pcm: Int16Array; had: boolean[] } {
  const pcm = new Int16Array(n * s.frameSamples);
  const had: boolean[] = [];
  const frame = new Int16Array(s.frameSamples);
  for (let i = 0; i < n; i++) {
    had.push(s.pullFrame(frame));
    pcm.set(frame, i * s.frameSamples);
  }
  return { pcm, had };
}

function frameLevel(pcm: Int16Array, frame: number, size: number): number {
  return pcm[frame * size + size / 2];
}

// ── audio round trips ──────────────────────────────────────────────────────────────────────

for (const [name, pt] of [["PCMU", 0], ["PCMA", 8], ["G722", 9]] as const) {
  Deno.test(`RtpSession round-trips a 1 kHz tone over ${name}: peer RTP → pullFrame, sendFrame → peer RTP`, async () => {
    const peer = new Peer();
    const s = await open(peer, { codec: { name, payloadType: pt } });
    try {
      const rate = s.sampleRate;
      assert.equal(rate, name === "G722" ? 16000 : 8000);
      const frames = 25;
      const pcm = tone(1000, rate, frames * s.frameSamples);
      // Inbound, starting just below the sequence wrap.
      await sendStream(peer, s.localPort, encodeFrames(name, pcm), { pt, seq0: 65530 });
      await until(() => s.stats().received.packets === frames, "all packets received");
      const { pcm: heard, had } = pullFrames(s, frames);
      assert.ok(had.every((h) => h), "every tick had a frame");
      const skip = 2 * s.frameSamples; // codec start-up transient
      assert.ok(toneRatio(heard, rate, 1000, skip, heard.length - skip) > 0.9, "1 kHz heard");
      assert.ok(toneRatio(heard, rate, 1700, skip, heard.length - skip) < 0.01);
      assert.equal(s.stats().received.lost, 0);

      // Outbound.
      const out: Int16Array[] = [];
      for (let k = 0; k < frames; k++) {
        out.push(pcm.subarray(k * s.frameSamples, (k + 1) * s.frameSamples));
      }
      await sendTicks(s, frames, undefined, out);
      await until(() => peer.rtp().length === frames, "all packets at the peer");
      const pkts = peer.rtp();
      const decoder = createCodec(name)!;
      const decoded = new Int16Array(frames * s.frameSamples);
      pkts.forEach((p, k) => {
        assert.equal(p.payloadType, pt);
        assert.equal(p.ssrc, s.ssrc, "stable SSRC");
        assert.equal(p.marker, k === 0, "marker on the first packet only");
        if (k > 0) {
          assert.equal(p.sequenceNumber, (pkts[k - 1].sequenceNumber + 1) & 0xffff);
          assert.equal(p.timestamp, (pkts[k - 1].timestamp + 160) >>> 0, "+160 per 20 ms");
        }
        decoder.decode(p.payload, decoded.subarray(k * s.frameSamples));
      });
      assert.ok(toneRatio(decoded, rate, 1000, skip, decoded.length - skip) > 0.9);
      assert.equal(s.stats().sent.packets, frames);
    } finally {
      await s.close();
      await peer.close();
    }
  });
}

// ── jitter buffer and concealment ─────────────────────────────────────────────────────────

Deno.test("RtpSession plays packets reordered within the jitter target in sequence order", async () => {
  const peer = new Peer();
  const s = await open(peer, { jitter: { targetMs: 60, maxMs: 300 } });
  try {
    const order = [0, 2, 1, 3, 5, 4, 6, 8, 7, 9];
    for (const k of order) {
      await peer.send(
        rtpBytes({ pt: 0, seq: 500 + k, ts: 160 * k, payload: levelFrame("PCMU", 1000 * (k + 1)) }),
        s.localPort,
      );
    }
    await until(() => s.stats().received.packets === 10, "all packets received");
    const { pcm, had } = pullFrames(s, 10);
    assert.ok(had.every((h) => h));
    for (let k = 0; k < 10; k++) {
      const level = frameLevel(pcm, k, 160);
      assert.ok(Math.abs(level - 1000 * (k + 1)) < 0.05 * 1000 * (k + 1), `frame ${k}: ${level}`);
    }
    const st = s.stats();
    assert.equal(st.playout.jitterBuffer.late, 0);
    assert.equal(st.received.lost, 0);
  } finally {
    await s.close();
    await peer.close();
  }
});

Deno.test("RtpSession conceals the first lost frame with an attenuated repeat, then plays silence", async () => {
  const peer = new Peer();
  const s = await open(peer, { jitter: { targetMs: 40, maxMs: 1000 } });
  try {
    const payloads = Array.from({ length: 12 }, (_, k) => levelFrame("PCMU", 1000 * (k + 1)));
    await sendStream(peer, s.localPort, payloads, { skip: new Set([5, 6, 7]) });
    await until(() => s.stats().received.packets === 9, "9 packets received");
    const { pcm, had } = pullFrames(s, 12);
    assert.deepEqual(had, [
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
    const f4 = frameLevel(pcm, 4, 160);
    assert.ok(Math.abs(frameLevel(pcm, 5, 160) - (f4 >> 1)) <= 1, "frame 5 = frame 4 at −6 dB");
    for (const k of [6, 7]) {
      assert.ok(pcm.subarray(k * 160, (k + 1) * 160).every((v) => v === 0), `frame ${k} silent`);
    }
    assert.ok(Math.abs(frameLevel(pcm, 8, 160) - 9000) < 450, "audio resumes with frame 8");
    const st = s.stats();
    assert.equal(st.playout.concealed, 1);
    assert.equal(st.playout.jitterBuffer.gaps, 3);
    assert.equal(st.received.lost, 3);
  } finally {
    await s.close();
    await peer.close();
  }
});

// ── symmetric RTP ─────────────────────────────────────────────────────────────────────────

Deno.test("RtpSession latches the peer's real source port even when the SDP remote said another", async () => {
  const peer = new Peer();
  const decoy = new Peer(); // the address the signalling announced
  const events: RtpSessionEvent[] = [];
  const s = await open(decoy, { onEvent: (e) => events.push(e) });
  try {
    assert.equal(s.remote?.port, decoy.port, "before any packet, RTP goes to the SDP address");
    await sendStream(peer, s.localPort, [levelFrame("PCMU", 100), levelFrame("PCMU", 100)]);
    await until(() => events.includes("latched"), "latched");
    assert.deepEqual(events, ["latched"]);
    assert.equal(s.remote?.port, peer.port);
    await sendTicks(s, 3);
    await until(() => peer.rtp().length === 3, "packets at the real source");
    await delay(20);
    assert.equal(decoy.got.length, 0, "nothing went to the announced address");
    assert.ok(s.stats().latched);
  } finally {
    await s.close();
    await peer.close();
    await decoy.close();
  }
});

Deno.test("RtpSession ignores RTP from a third address once latched, and keeps sending to the peer", async () => {
  const peer = new Peer();
  const intruder = new Peer();
  const s = await open(peer);
  try {
    const good = encodeFrames("PCMU", tone(1000, 8000, 10 * 160));
    const bad = encodeFrames("PCMU", tone(2500, 8000, 10 * 160, 16000));
    for (let k = 0; k < 10; k++) {
      await peer.send(rtpBytes({ pt: 0, seq: 10 + k, ts: 160 * k, payload: good[k] }), s.localPort);
      await intruder.send(
        rtpBytes({ pt: 0, seq: 10 + k, ts: 160 * k, payload: bad[k], ssrc: 0xbad }),
        s.localPort,
      );
    }
    await until(() => s.stats().dropped.foreignSource === 10, "intruder packets dropped");
    assert.equal(s.stats().received.packets, 10);
    assert.equal(s.stats().received.remoteSsrc, PEER_SSRC);
    const { pcm } = pullFrames(s, 10);
    assert.ok(toneRatio(pcm, 8000, 1000) > 0.9);
    assert.ok(toneRatio(pcm, 8000, 2500) < 0.01, "no intruder audio");
    await sendTicks(s, 2);
    await until(() => peer.rtp().length === 2, "packets at the peer");
    assert.equal(intruder.got.length, 0);
  } finally {
    await s.close();
    await peer.close();
    await intruder.close();
  }
});

Deno.test("RtpSession re-latches to a new address only after the latched source went quiet", async () => {
  const peer = new Peer();
  const moved = new Peer(); // the same peer after a NAT rebinding
  const events: RtpSessionEvent[] = [];
  const s = await open(peer, { relatchQuietMs: 150, onEvent: (e) => events.push(e) });
  try {
    const p = levelFrame("PCMU", 100);
    await peer.send(rtpBytes({ pt: 0, seq: 1, ts: 0, payload: p }), s.localPort);
    await until(() => events.includes("latched"), "latched");
    await moved.send(rtpBytes({ pt: 0, seq: 2, ts: 160, payload: p }), s.localPort);
    await until(() => s.stats().dropped.foreignSource === 1, "refused while the peer is live");
    await delay(200);
    await moved.send(rtpBytes({ pt: 0, seq: 3, ts: 320, payload: p }), s.localPort);
    await until(() => events.includes("relatched"), "relatched after the quiet period");
    assert.equal(s.remote?.port, moved.port);
    assert.equal(s.stats().relatches, 1);
    await sendTicks(s, 1);
    await until(() => moved.rtp().length === 1, "RTP follows the new address");
  } finally {
    await s.close();
    await peer.close();
    await moved.close();
  }
});

Deno.test("RtpSession.updateRemote() moves RTP to the new address and latches its source, not the old one's stragglers", async () => {
  const oldPeer = new Peer();
  const newPeer = new Peer();
  const events: RtpSessionEvent[] = [];
  const s = await open(oldPeer, { onEvent: (e) => events.push(e) });
  try {
    const p = levelFrame("PCMU", 100);
    await oldPeer.send(rtpBytes({ pt: 0, seq: 1, ts: 0, payload: p }), s.localPort);
    await until(() => events.length === 1, "latched to the old peer");
    s.updateRemote({ host: HOST, port: oldPeer.port }); // a refresh with the same SDP address
    assert.equal(s.stats().latched, true, "an unchanged address keeps the latch");

    s.updateRemote({ host: HOST, port: newPeer.port });
    assert.equal(s.remote?.port, newPeer.port);
    await sendTicks(s, 1);
    await until(() => newPeer.rtp().length === 1, "RTP goes to the new address at once");
    await oldPeer.send(rtpBytes({ pt: 0, seq: 2, ts: 160, payload: p }), s.localPort);
    await until(() => s.stats().dropped.foreignSource === 1, "old stream's straggler refused");
    await newPeer.send(
      rtpBytes({ pt: 0, seq: 9000, ts: 90000, payload: p, ssrc: 0x5555 }),
      s.localPort,
    );
    await until(() => events.length === 2, "latched to the new peer");
    assert.deepEqual(events, ["latched", "latched"]);
    assert.equal(s.remote?.port, newPeer.port);
    assert.equal(oldPeer.got.length, 0);
  } finally {
    await s.close();
    await oldPeer.close();
    await newPeer.close();
  }
});

// ── robustness ────────────────────────────────────────────────────────────────────────────

Deno.test("RtpSession drops malformed, oversized and unknown-type datagrams without disturbing the stream", async () => {
  const peer = new Peer();
  const s = await open(peer, { jitter: { targetMs: 40, maxMs: 1000 } });
  try {
    const good = encodeFrames("PCMU", tone(1000, 8000, 10 * 160));
    const valid = (k: number) => rtpBytes({ pt: 0, seq: 100 + k, ts: 160 * k, payload: good[k] });
    const version1 = valid(0);
    version1[0] = 0x40;
    const csrcPastEnd = valid(0).subarray(0, 16);
    csrcPastEnd[0] = 0x8f; // 15 CSRCs announced, one present
    const oversized = rtpBytes({ pt: 0, seq: 999, ts: 0, payload: new Uint8Array(3000) });
    const unknownPt = rtpBytes({ pt: 96, seq: 100, ts: 0, payload: good[0] });
    const rtcpGarbage = Uint8Array.of(0x80, 200, 0xff, 0xff, 1, 2, 3, 4); // length past the end
    const junk: Uint8Array[] = [
      Uint8Array.of(0x80, 0, 1, 2, 3), // truncated header
      version1,
      Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0x3f), // garbage, version 0
      csrcPastEnd,
      oversized,
      unknownPt,
      rtcpGarbage,
    ];
    for (let k = 0; k < 10; k++) {
      await peer.send(valid(k), s.localPort);
      if (k < junk.length) await peer.send(junk[k], s.localPort);
    }
    await until(() => s.stats().received.packets === 10, "valid packets received");
    await until(() => s.stats().rtcp.malformed === 1, "junk accounted");
    const st = s.stats();
    assert.deepEqual(st.dropped, {
      malformed: 4,
      oversize: 1,
      unknownPayloadType: 1,
      foreignSource: 0,
    });
    const { pcm, had } = pullFrames(s, 10);
    assert.ok(had.every((h) => h));
    assert.ok(toneRatio(pcm, 8000, 1000) > 0.9);
    assert.equal(s.stats().playout.concealed, 0);
    assert.equal(s.stats().received.lost, 0);
  } finally {
    await s.close();
    await peer.close();
  }
});

// ── DTMF ──────────────────────────────────────────────────────────────────────────────────

Deno.test("RtpSession reports each telephone-event digit from the peer once", async () => {
  const peer = new Peer();
  const digits: string[] = [];
  const s = await open(peer, { onDtmf: (d) => digits.push(d) });
  try {
    const audio = [levelFrame("PCMU", 3000), levelFrame("PCMU", 3000)];
    await sendStream(peer, s.localPort, audio, { seq0: 7000, ts0: 16000 });
    const events = dtmfPackets("5#", { ssrc: PEER_SSRC, sequenceNumber: 7002, timestamp: 16320 }, {
      payloadType: 101,
    });
    assert.equal(events.length, 14, "4 updates + 3 ends per digit");
    for (const e of events) {
      const bytes = new Uint8Array(rtpMarshalSize(e));
      marshalRtpTo(e, bytes);
      await peer.send(bytes, s.localPort);
    }
    await until(() => s.stats().received.packets === 16, "all packets received");
    assert.deepEqual(digits, ["5", "#"]);
    // Event ticks play as silence, not as concealed loss.
    const { had } = pullFrames(s, 16);
    assert.deepEqual(had, [true, true, ...new Array(14).fill(false)]);
    assert.equal(s.stats().playout.concealed, 0);
    assert.equal(s.stats().received.lost, 0);
  } finally {
    await s.close();
    await peer.close();
  }
});

Deno.test('RtpSession.sendDtmf("12#") sends the RFC 4733 packet sequence in place of audio', async () => {
  const peer = new Peer();
  const s = await open(peer);
  try {
    await sendTicks(s, 1); // one audio packet first
    s.sendDtmf("12#");
    assert.ok(s.dtmfSending);
    await sendTicks(s, 21 + 2);
    assert.ok(!s.dtmfSending);
    await until(() => peer.rtp().length === 24, "24 packets at the peer");
    const pkts = peer.rtp();
    const first = pkts[1];
    const expected = dtmfPackets("12#", {
      ssrc: s.ssrc,
      sequenceNumber: first.sequenceNumber,
      timestamp: first.timestamp,
    }, { payloadType: 101 });
    assert.equal(expected.length, 21);
    for (let i = 0; i < 21; i++) {
      const got = pkts[1 + i];
      const want = expected[i];
      assert.equal(got.payloadType, 101);
      assert.equal(got.ssrc, s.ssrc, "same SSRC as the audio");
      assert.equal(got.sequenceNumber, want.sequenceNumber);
      assert.equal(got.timestamp, want.timestamp, "one timestamp per event");
      assert.equal(got.marker, want.marker);
      assert.deepEqual(got.payload, want.payload);
    }
    assert.equal(pkts[1].timestamp, (pkts[0].timestamp + 160) >>> 0);
    const resumed = pkts[22];
    assert.equal(resumed.payloadType, 0);
    assert.ok(resumed.marker, "audio after DTMF starts a talkspurt");
    assert.equal(resumed.timestamp, (pkts[0].timestamp + 22 * 160) >>> 0, "RTP clock kept running");
    assert.equal(resumed.sequenceNumber, (pkts[21].sequenceNumber + 1) & 0xffff);
    assert.ok(!pkts[23].marker);
    assert.equal(s.stats().sent.dtmfPackets, 21);
  } finally {
    await s.close();
    await peer.close();
  }
});

Deno.test("RtpSession.sendDtmf() throws without telephone-event or for an invalid digit", async () => {
  const peer = new Peer();
  const plain = await open(peer, { telephoneEventPt: undefined });
  const s = await open(peer);
  try {
    assert.throws(() => plain.sendDtmf("1"), /telephone-event was not negotiated/);
    assert.throws(() => s.sendDtmf("1x"), RangeError);
    assert.ok(!s.dtmfSending, "nothing queued");
  } finally {
    await plain.close();
    await s.close();
    await peer.close();
  }
});

// ── RTCP ──────────────────────────────────────────────────────────────────────────────────

function peerSr(ntpSeconds: number, ntpFraction: number): Uint8Array {
  return marshalRtcpCompound([
    {
      type: "sr",
      ssrc: PEER_SSRC,
      ntpSeconds,
      ntpFraction,
      rtpTimestamp: 1234,
      packetCount: 5,
      octetCount: 800,
      reports: [],
    },
    { type: "sdes", chunks: [{ source: PEER_SSRC, items: [{ type: 1, text: "peer@test" }] }] },
  ]);
}

Deno.test("RtpSession exchanges RTCP with rtcp-mux: RR while receiving only, SR once sending, LSR/DLSR and RTT", async () => {
  const peer = new Peer();
  const s = await open(peer, { rtcpIntervalMs: 100 });
  try {
    s.setDirection("recvonly");
    await sendStream(peer, s.localPort, Array.from({ length: 5 }, () => levelFrame("PCMU", 0)));
    await peer.send(peerSr(0xe0000001, 0x12345678), s.localPort);
    await until(() => s.stats().rtcp.received === 1, "peer SR received");
    await sendTicks(s, 20);
    await until(() => peer.rtcp().length >= 1, "an RTCP report at the peer");
    assert.equal(peer.rtp().length, 0, "recvonly sends no RTP");
    const rr = peer.rtcp()[0];
    assert.equal(rr[0].type, "rr", "receiver report while not sending");
    const block = (rr[0] as ReceiverReport).reports[0];
    assert.equal(block.ssrc, PEER_SSRC);
    assert.equal(block.extendedHighestSeq, 1004);
    assert.equal(block.lastSr, ntpMiddle32(0xe0000001, 0x12345678));
    assert.ok(block.delaySinceLastSr > 0);
    assert.equal(rr[1].type, "sdes");
    assert.match((rr[1] as SourceDescription).chunks[0].items[0].text, /^vb-/);

    s.setDirection("sendrecv");
    const before = peer.got.length;
    await sendTicks(s, 20);
    await until(
      () => peer.rtcp().some((c) => c[0].type === "sr"),
      "a sender report at the peer",
    );
    const sr = peer.rtcp().find((c) => c[0].type === "sr")![0] as SenderReport;
    assert.equal(sr.ssrc, s.ssrc);
    assert.ok(sr.packetCount > 0 && sr.packetCount <= 20);
    assert.equal(sr.octetCount, sr.packetCount * 160);
    assert.equal(sr.reports[0].ssrc, PEER_SSRC);
    assert.ok(peer.got.length > before);
    // RTCP and RTP leave in the same tick from the same socket: neither may overwrite the other.
    await until(() => peer.rtp().length === 20, "every RTP packet at the peer");
    assert.equal(s.stats().sent.overruns, 0);

    // The peer reports on our stream with our SR's LSR and no delay: RTT ≈ loopback.
    const lsr = ntpMiddle32(sr.ntpSeconds, sr.ntpFraction);
    await peer.send(
      marshalRtcpCompound([{
        type: "rr",
        ssrc: PEER_SSRC,
        reports: [{
          ssrc: s.ssrc,
          fractionLost: 3,
          cumulativeLost: 2,
          extendedHighestSeq: 0,
          jitter: 7,
          lastSr: lsr,
          delaySinceLastSr: 0,
        }],
      }]),
      s.localPort,
    );
    await until(() => s.stats().rtcp.rttMs >= 0, "RTT computed");
    const rtcp = s.stats().rtcp;
    assert.ok(rtcp.rttMs < 1000, `rtt ${rtcp.rttMs}`);
    assert.equal(rtcp.remoteFractionLost, 3);
    assert.equal(rtcp.remoteCumulativeLost, 2);
    assert.equal(rtcp.remoteJitter, 7);
  } finally {
    await s.close();
    await peer.close();
  }
});

Deno.test("RtpSession without rtcp-mux sends and receives RTCP on port + 1, and says BYE on close", async () => {
  const peerRtp = new Peer();
  const peerRtcp = new Peer();
  const events: RtpSessionEvent[] = [];
  const ports = new PortAllocator({ min: 40000, max: 59999 });
  // Ports are drawn from a high range; one another process holds is skipped.
  const { value: s } = await ports.allocateWith(
    (port) =>
      open(peerRtp, {
        port,
        rtcpMux: false,
        remote: { host: HOST, port: peerRtp.port, rtcpPort: peerRtcp.port },
        rtcpIntervalMs: 100,
        onEvent: (e) => events.push(e),
      }),
    { attempts: 50 },
  );
  try {
    assert.equal(s.localPort % 2, 0);
    assert.equal(s.localRtcpPort, s.localPort + 1);
    await sendStream(peerRtp, s.localPort, [levelFrame("PCMU", 0), levelFrame("PCMU", 0)]);
    await peerRtcp.send(peerSr(0xe0000002, 0), s.localRtcpPort);
    await until(() => s.stats().rtcp.received === 1, "peer SR received on port + 1");
    await sendTicks(s, 20);
    await until(() => peerRtcp.rtcp().some((c) => c[0].type === "sr"), "SR on the RTCP socket");
    assert.ok(peerRtcp.got.every((d) => d.port === s.localRtcpPort), "RTCP leaves from port + 1");
    assert.equal(peerRtp.rtcp().length, 0, "no RTCP on the RTP port");
    assert.ok(peerRtp.got.every((d) => d.port === s.localPort));
    const sr = peerRtcp.rtcp().find((c) => c[0].type === "sr")![0] as SenderReport;
    assert.equal(sr.reports[0].lastSr, ntpMiddle32(0xe0000002, 0));

    // A peer BYE is reported.
    await peerRtcp.send(
      marshalRtcpCompound([{ type: "bye", sources: [PEER_SSRC] }]),
      s.localRtcpPort,
    );
    await until(() => events.includes("bye"), "bye event");
    const reports = peerRtcp.got.length;
    await s.close();
    await until(() => peerRtcp.got.length > reports, "final RTCP");
    const last = peerRtcp.rtcp().at(-1)!;
    assert.equal(last.at(-1)!.type, "bye");
    assert.ok(ports.release(s.localPort));
  } finally {
    await s.close();
    await peerRtp.close();
    await peerRtcp.close();
  }
});

// ── quality, direction, lifecycle ─────────────────────────────────────────────────────────

Deno.test("RtpSession.quality() reports the CDR block after a scripted loss pattern", async () => {
  const peer = new Peer();
  const s = await open(peer);
  try {
    assert.equal(s.quality(), null, "no RTP yet");
    const payloads = Array.from({ length: 50 }, () => levelFrame("PCMU", 500));
    await sendStream(peer, s.localPort, payloads, { skip: new Set([10, 20, 21]) });
    await until(() => s.stats().received.packets === 47, "47 packets received");
    const q = s.quality()!;
    assert.equal(q.rtp_packets_received, 47);
    assert.equal(q.rtp_packets_lost, 3);
    const jitterMs = s.stats().received.jitterMs;
    assert.equal(q.rtp_jitter_ms, Math.round(jitterMs * 100) / 100);
    assert.equal(q.mos_score, mosScore(3 / 50, jitterMs));
    assert.ok(q.mos_score > 1 && q.mos_score < 4.5);
  } finally {
    await s.close();
    await peer.close();
  }
});

Deno.test("RtpSession direction: inactive sends nothing, pauses lastPacketAt, and marks the first packet after", async () => {
  const peer = new Peer();
  const s = await open(peer);
  try {
    const opened = s.lastPacketAt;
    await sendTicks(s, 2);
    s.setDirection("inactive");
    await sendTicks(s, 3);
    await delay(30);
    assert.ok(s.lastPacketAt > opened + 25, "the RTP timeout clock is paused on hold");
    await sendStream(peer, s.localPort, [levelFrame("PCMU", 1000)]);
    await until(() => s.stats().received.packets === 1, "counted while inactive");
    assert.equal(s.pullFrame(new Int16Array(160)), false, "but not played");
    s.setDirection("sendrecv");
    const resumedAt = s.lastPacketAt;
    await delay(30);
    assert.equal(s.lastPacketAt, resumedAt, "the clock runs again from the resume");
    await sendTicks(s, 2);
    await until(() => peer.rtp().length === 4, "4 packets at the peer");
    const pkts = peer.rtp();
    assert.deepEqual(pkts.map((p) => p.marker), [true, false, true, false]);
    assert.equal(pkts[2].timestamp, (pkts[1].timestamp + 4 * 160) >>> 0, "hold ticks kept time");
    assert.equal(pkts[2].sequenceNumber, (pkts[1].sequenceNumber + 1) & 0xffff);
  } finally {
    await s.close();
    await peer.close();
  }
});

Deno.test("RtpSession.close() is idempotent and releases both ports for a re-bind", async () => {
  const peer = new Peer();
  const s = await open(peer, { rtcpMux: false });
  const { localPort, localRtcpPort } = s;
  const a = s.close();
  assert.equal(s.close(), a, "one shutdown");
  await a;
  await s.close();
  assert.ok(s.closed);
  s.sendFrame(new Int16Array(160)); // a late tick after close is harmless
  const rebound = [localPort, localRtcpPort].map((port) =>
    Deno.listenDatagram({ transport: "udp", hostname: HOST, port })
  );
  for (const c of rebound) c.close();
  await peer.close();
});

Deno.test("RtpSession.open() rejects bad options and a taken port without leaking a socket", async () => {
  const holder = Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
  const taken = (holder.addr as Deno.NetAddr).port;
  const base = {
    bindHost: HOST,
    port: 0,
    rtcpMux: true,
    codec: { name: "PCMU", payloadType: 0 },
    jitter: { targetMs: 0, maxMs: 300 },
  };
  try {
    await assert.rejects(
      RtpSession.open({ ...base, codec: { name: "OPUS", payloadType: 111 } }),
      RangeError,
    );
    await assert.rejects(RtpSession.open({ ...base, telephoneEventPt: 0 }), RangeError);
    await assert.rejects(
      RtpSession.open({ ...base, remote: { host: "pbx.example.com", port: 4000 } }),
      /not an IP address/,
    );
    await assert.rejects(RtpSession.open({ ...base, port: taken }), Deno.errors.AddrInUse);
    // RTP binds, RTCP (port + 1) is taken: the RTP socket must be closed again.
    await assert.rejects(RtpSession.open({ ...base, rtcpMux: false, port: taken - 1 }));
  } finally {
    holder.close();
  }
});

Deno.test("UdpSender never rewrites a buffer whose send is still in flight", async () => {
  const peer = new Peer();
  const sock = Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
  const udp = new UdpSender(sock, 2, 64);
  const to: Deno.NetAddr = { transport: "udp", hostname: HOST, port: peer.port };
  try {
    // Deno reads a send's buffer only when its op runs, after this synchronous block.
    for (const fill of [1, 2]) {
      const buf = udp.acquire()!;
      buf.fill(fill);
      udp.send(8, to);
    }
    assert.equal(udp.acquire(), null, "both buffers busy");
    assert.equal(udp.stats.overruns, 1);
    await udp.idle();
    assert.equal(udp.inflight, 0);
    await until(() => peer.got.length === 2, "both datagrams");
    // (Deno may run the two queued send ops in either order; UDP promises none.)
    const got = peer.got.map((d) => [...d.data]).sort((a, b) => a[0] - b[0]);
    assert.deepEqual(got, [new Array(8).fill(1), new Array(8).fill(2)]);
    assert.equal(udp.stats.sent, 2);
  } finally {
    sock.close();
    await peer.close();
  }
});
