/**
 * RTP and codec benchmarks (`deno bench tests/bench/rtp_bench.ts`), each per call on one
 * packet or one 20 ms frame, JIT-warm: the work a SIP leg does per tick besides socket I/O.
 * Compare G.711 with shared/notes/deno-media-physics.md §3b (µ-law LUT decode 0.051 µs,
 * encode 0.059 µs, computed encode 0.29 µs per 160-sample frame). Each group's baseline is
 * its cheapest case, so Deno prints the others as ratios to it. Never asserts on time.
 */
import { marshalRtpTo, rtpMarshalSize, RtpPacket, unmarshalRtp } from "../../src/rtp/packet.ts";
import { JitterBuffer } from "../../src/rtp/jitter_buffer.ts";
import { ReceiverStats } from "../../src/rtp/receiver_stats.ts";
import { DtmfReceiver, DtmfSender } from "../../src/rtp/dtmf.ts";
import { parseRtcp } from "../../src/rtp/rtcp.ts";
import {
  alawDecode,
  alawEncode,
  ulawDecode,
  ulawEncode,
  ulawEncodeSample,
} from "../../src/codecs/g711.ts";
import { G722Decoder, G722Encoder } from "../../src/codecs/g722.ts";

/** Deterministic speech-band noise so inputs are not constant. */
function noise(n: number, amp: number, seed: number): Int16Array {
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    x[i] = Math.round(((seed / 2 ** 32) * 2 - 1) * amp);
  }
  return x;
}

// --- RTP header -----------------------------------------------------------------------------

const pkt = new RtpPacket();
pkt.payloadType = 0;
pkt.ssrc = 0x1234abcd;
pkt.payload = new Uint8Array(160).fill(0xd5);
const wire = new Uint8Array(1500); // the reused receive buffer
let seq = 0;
let ts = 0;
const datagramLen = marshalRtpTo(pkt, wire);
const datagram = wire.subarray(0, datagramLen); // 172 octets, as in the physics note
const parsed = new RtpPacket();
const out = new Uint8Array(1500);

Deno.bench("RTP unmarshal (172-octet PCMU packet)", { group: "rtp", baseline: true }, () => {
  wire[3] = seq++ & 0xff;
  unmarshalRtp(datagram, parsed);
});

Deno.bench("RTP marshal (172-octet PCMU packet)", { group: "rtp" }, () => {
  pkt.sequenceNumber = seq = (seq + 1) & 0xffff;
  pkt.timestamp = ts = (ts + 160) >>> 0;
  marshalRtpTo(pkt, out, 0);
});

Deno.bench("RTP marshalSize + marshal + unmarshal", { group: "rtp" }, () => {
  pkt.sequenceNumber = seq = (seq + 1) & 0xffff;
  const n = marshalRtpTo(pkt, out, 0);
  unmarshalRtp(out.subarray(0, n === rtpMarshalSize(pkt) ? n : 0), parsed);
});

const rtcpHex = "81C8000C 11223344 E8D4A510 80000000 0000FA00 00000064 00003E80" +
  " 55667788 40FFFFFE 00010005 0000002A A5108000 00018000" + // SR with one report block
  " 81CA0003 11223344 0103616263 000000"; // SDES CNAME "abc"
const rtcp = Uint8Array.from(rtcpHex.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
if (!parseRtcp(rtcp).ok) throw new Error("bench RTCP fixture does not parse");
Deno.bench("RTCP parse SR + SDES compound (every ~5 s, not per tick)", { group: "rtp" }, () => {
  parseRtcp(rtcp);
});

// --- G.711 (physics §3b) --------------------------------------------------------------------

const pcm8k = noise(160 * 64, 12000, 7);
const codes = new Uint8Array(160 * 64);
ulawEncode(pcm8k, codes);
// frame views made once: a subarray per call would allocate and cost as much as the codec
const pcmFrames = Array.from({ length: 64 }, (_, i) => pcm8k.subarray(i * 160, i * 160 + 160));
const codeFrames = Array.from({ length: 64 }, (_, i) => codes.subarray(i * 160, i * 160 + 160));
const frameOut = new Int16Array(160);
const codeOut = new Uint8Array(160);
let f711 = 0;

Deno.bench("empty call (harness overhead, for scale)", { group: "g711" }, () => {
  f711 = (f711 + 1) & 63;
});

Deno.bench(
  "µ-law decode, 160-sample frame (256-entry LUT)",
  { group: "g711", baseline: true },
  () => {
    ulawDecode(codeFrames[f711 = (f711 + 1) & 63], frameOut);
  },
);

Deno.bench("µ-law encode, 160-sample frame (64 K LUT)", { group: "g711" }, () => {
  ulawEncode(pcmFrames[f711 = (f711 + 1) & 63], codeOut);
});

Deno.bench("µ-law encode, 160-sample frame (computed, no table)", { group: "g711" }, () => {
  const pcm = pcmFrames[f711 = (f711 + 1) & 63];
  for (let i = 0; i < 160; i++) codeOut[i] = ulawEncodeSample(pcm[i]);
});

Deno.bench("A-law decode, 160-sample frame", { group: "g711" }, () => {
  alawDecode(codeFrames[f711 = (f711 + 1) & 63], frameOut);
});

Deno.bench("A-law encode, 160-sample frame", { group: "g711" }, () => {
  alawEncode(pcmFrames[f711 = (f711 + 1) & 63], codeOut);
});

// --- G.722 ------------------------------------------------------------------------------------

const pcm16k = noise(320 * 32, 8000, 11);
const g722Codes = new Uint8Array(160 * 32);
new G722Encoder().encode(pcm16k, g722Codes);
const pcm16Frames = Array.from({ length: 32 }, (_, i) => pcm16k.subarray(i * 320, i * 320 + 320));
const g722Frames = Array.from({ length: 32 }, (_, i) => g722Codes.subarray(i * 160, i * 160 + 160));
const enc = new G722Encoder();
const dec = new G722Decoder();
const pcmOut = new Int16Array(320);
let f722 = 0;

Deno.bench("G.722 encode, 20 ms frame (320 samples → 160 octets)", {
  group: "g722",
  baseline: true,
}, () => {
  enc.encode(pcm16Frames[f722 = (f722 + 1) & 31], codeOut);
});

Deno.bench("G.722 decode, 20 ms frame (160 octets → 320 samples)", { group: "g722" }, () => {
  dec.decode(g722Frames[f722 = (f722 + 1) & 31], pcmOut);
});

// --- per-packet receive path ------------------------------------------------------------------

const jbPkt = new RtpPacket();
jbPkt.ssrc = 1;
jbPkt.payload = new Uint8Array(160).fill(0xff);
const jb = new JitterBuffer({ targetMs: 60, maxMs: 300 });
const jbPass = new JitterBuffer({ targetMs: 0, maxMs: 100 });
let jbSeq = 0;
let tick = 0;

Deno.bench("jitter buffer push + pop, 60 ms target", { group: "receive", baseline: true }, () => {
  jbPkt.sequenceNumber = jbSeq = (jbSeq + 1) & 0xffff;
  jbPkt.timestamp = (jbSeq * 160) >>> 0;
  jb.push(jbPkt);
  jb.pop(tick++);
});

Deno.bench("jitter buffer push + pop, passthrough", { group: "receive" }, () => {
  jbPkt.sequenceNumber = jbSeq = (jbSeq + 1) & 0xffff;
  jbPass.push(jbPkt);
  jbPass.pop(tick++);
});

const stats = new ReceiverStats({ clockRate: 8000 });
let statSeq = 0;
let arrival = 0;

Deno.bench("receiver stats update (A.1 sequence + A.8 jitter)", { group: "receive" }, () => {
  statSeq = (statSeq + 1) & 0xffff;
  arrival += 20 + ((statSeq * 7) % 5) - 2;
  stats.update(1, statSeq, (statSeq * 160) >>> 0, arrival);
});

const sender = new DtmfSender();
const dtmfPkt = new RtpPacket();
const receiver = new DtmfReceiver();
let dtmfTs = 0;

Deno.bench("DTMF sender next() + receiver, per packet", { group: "receive" }, () => {
  if (!sender.busy) sender.enqueue("1234567890*#");
  sender.next(dtmfPkt, (dtmfTs += 160) >>> 0);
  receiver.receive(dtmfPkt);
});
