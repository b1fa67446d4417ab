import assert from "node:assert/strict";
import {
  marshalRtcpCompound,
  marshalRtcpTo,
  parseRtcp,
  rtcpMarshalSize,
  type RtcpPacket,
  sdesCname,
  type SenderReport,
} from "../../../src/rtp/rtcp.ts";
import { ntpFraction, ntpMiddle32, ntpSeconds } from "../../../src/rtp/ntp_time.ts";

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
}

const SR = "81C8000C 11223344 E8D4A510 80000000 0000FA00 00000064 00003E80" +
  " 55667788 40FFFFFE 00010005 0000002A A5108000 00018000";
const SDES = "81CA0003 11223344 0103616263 000000";
const BYE = "81CB0002 11223344 03627965";
const COMPOUND = hex(SR + SDES + BYE);

Deno.test("parseRtcp() reads an SR + SDES + BYE compound packet field by field", () => {
  const r = parseRtcp(COMPOUND);
  assert.equal(r.ok, true);
  if (!r.ok) return;
  assert.deepEqual(r.packets, [
    {
      type: "sr",
      ssrc: 0x11223344,
      ntpSeconds: 0xe8d4a510,
      ntpFraction: 0x80000000,
      rtpTimestamp: 64000,
      packetCount: 100,
      octetCount: 16000,
      reports: [{
        ssrc: 0x55667788,
        fractionLost: 64,
        cumulativeLost: -2,
        extendedHighestSeq: 0x10005,
        jitter: 42,
        lastSr: 0xa5108000,
        delaySinceLastSr: 0x18000,
      }],
    },
    { type: "sdes", chunks: [{ source: 0x11223344, items: [{ type: 1, text: "abc" }] }] },
    { type: "bye", sources: [0x11223344], reason: "bye" },
  ]);
  assert.equal(sdesCname(r.packets[1] as Extract<RtcpPacket, { type: "sdes" }>), "abc");
});

Deno.test("marshalRtcpCompound() reproduces the hand-built compound byte for byte", () => {
  const r = parseRtcp(COMPOUND);
  assert.ok(r.ok);
  assert.deepEqual(marshalRtcpCompound(r.packets), COMPOUND);
});

Deno.test("RR, APP and a BYE without reason round-trip byte for byte", () => {
  for (
    const h of ["80C90001 11223344", "81CC0002 11223344 6E616D65", "82CB0002 00000001 00000002"]
  ) {
    const bytes = hex(h);
    const r = parseRtcp(bytes);
    assert.ok(r.ok, h);
    const out = new Uint8Array(bytes.length + 4);
    assert.equal(marshalRtcpTo(r.packets[0], out, 4), bytes.length);
    assert.deepEqual(out.subarray(4), bytes);
  }
});

Deno.test("marshalRtcpTo() pads SDES chunks and BYE reasons to 32 bits", () => {
  const sdes: RtcpPacket = {
    type: "sdes",
    chunks: [{ source: 1, items: [{ type: 1, text: "user@host" }] }, { source: 2, items: [] }],
  };
  assert.equal(rtcpMarshalSize(sdes), 4 + 16 + 8);
  const bye: RtcpPacket = { type: "bye", sources: [9], reason: "done" };
  const buf = marshalRtcpCompound([sdes, bye]);
  const r = parseRtcp(buf);
  assert.ok(r.ok);
  assert.deepEqual(r.packets, [sdes, bye]);
});

Deno.test("parseRtcp() rejects a wrong version, overlong length and misplaced or bad padding", () => {
  const cases: [string, string][] = [
    ["41C90001 11223344", "version"],
    ["81C90007 11223344", "length past the end"],
    ["A0C90001 11223344 80CB0000", "padding before the last packet"],
    ["A0C90001 11223300", "bad padding"],
    ["A0C90001 11223309", "bad padding"],
    ["82C90007 11223344 00000000 00000000 00000000 00000000 00000000 00000000", "report blocks"],
    ["81CA0002 11223344 01076162", "SDES item past the end"],
    ["81CA0002 11223344 01026162", "terminating null"],
    ["81CB0002 11223344 09627965", "BYE reason past the end"],
    ["", "empty"],
  ];
  for (const [h, why] of cases) {
    const r = parseRtcp(hex(h || "00").subarray(0, h ? undefined : 0));
    assert.equal(r.ok, false, why);
    if (!r.ok) assert.match(r.error, /^Cannot parse RTCP: /);
  }
});

Deno.test("parseRtcp() strips valid padding from the last packet", () => {
  const r = parseRtcp(hex("80C90001 11223344 A0CB0001 00000004"));
  assert.ok(r.ok);
  assert.deepEqual(r.packets[1], { type: "bye", sources: [] });
});

Deno.test("parseRtcp() rejects every truncation that is not at a packet boundary", () => {
  const boundaries = new Set([0, 52, 68, 80]);
  for (let len = 1; len < COMPOUND.length; len++) {
    const r = parseRtcp(COMPOUND.subarray(0, len));
    assert.equal(r.ok, boundaries.has(len), `length ${len}`);
  }
});

Deno.test("parseRtcp() never throws on random input", () => {
  let seed = 99;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let n = 0; n < 20000; n++) {
    const buf = new Uint8Array(rnd() % 100);
    for (let i = 0; i < buf.length; i++) buf[i] = rnd() >>> 24;
    if (buf.length >= 4) {
      buf[0] = 0x80 | (buf[0] & 0x3f);
      buf[1] = 200 + (buf[1] % 8);
    }
    const r = parseRtcp(buf);
    if (r.ok) assert.ok(r.packets.length > 0);
  }
});

Deno.test("marshalRtcpTo() clamps cumulative loss to 24 bits and rejects 32 report blocks", () => {
  const sr: SenderReport = {
    type: "sr",
    ssrc: 1,
    ntpSeconds: 2,
    ntpFraction: 3,
    rtpTimestamp: 4,
    packetCount: 5,
    octetCount: 6,
    reports: [{
      ssrc: 7,
      fractionLost: 255,
      cumulativeLost: 10_000_000,
      extendedHighestSeq: 8,
      jitter: 9,
      lastSr: 10,
      delaySinceLastSr: 11,
    }],
  };
  const r = parseRtcp(marshalRtcpCompound([sr]));
  assert.ok(r.ok);
  assert.equal((r.packets[0] as SenderReport).reports[0].cumulativeLost, 0x7fffff);
  const many = { ...sr, reports: Array.from({ length: 32 }, () => sr.reports[0]) };
  assert.throws(() => marshalRtcpCompound([many]), RangeError);
});

Deno.test("ntpSeconds()/ntpFraction()/ntpMiddle32() convert Unix time for LSR", () => {
  const ms = Date.UTC(2026, 0, 1, 0, 0, 0, 500);
  const sec = ntpSeconds(ms);
  assert.equal(sec, (ms / 1000 - 0.5 + 2208988800) >>> 0);
  assert.equal(ntpFraction(ms), 0x80000000);
  assert.equal(ntpMiddle32(0x1234abcd, 0x56789abc), 0xabcd5678);
});
