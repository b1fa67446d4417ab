import assert from "node:assert/strict";
import {
  isRtcpPacket,
  marshalRtpTo,
  rtpMarshalSize,
  RtpPacket,
  unmarshalRtp,
} from "../../../src/rtp/packet.ts";
import { findHeaderExtension, ONE_BYTE_PROFILE } from "../../../src/rtp/header_extension.ts";

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g)!.map((b) => parseInt(b, 16)));
}

/** V=2, no CSRC, no extension, PT 0, seq 0x1234, ts 800, SSRC 0xDEADBEEF, 4-octet payload. */
const SIMPLE = hex("80 00 1234 00000320 DEADBEEF 01020304");

/**
 * V=2 P=1 X=1 CC=2, M=1 PT=111, seq 65535, ts 0xFFFFFFF0, SSRC 0x01020304,
 * CSRCs 0x11111111 0xAABBCCDD, one-byte extension (RFC 8285: id 1, 1 octet 0x7F,
 * 2 padding octets), payload 01..05, 3 octets of padding.
 */
const FULL = hex(
  "B2 EF FFFF FFFFFFF0 01020304 11111111 AABBCCDD BEDE 0001 107F0000 0102030405 000003",
);
const FULL_HEADER_END = 28; // fixed header + 2 CSRCs + 4-octet extension header + 4-octet body

/** X=1 with the RFC 8285 two-byte form: element id 5, 3 octets AA BB CC, then 3 padding octets. */
const TWO_BYTE = hex("90 08 0001 00000000 00000001 1000 0002 0503AABBCC000000 D5D5");

Deno.test("unmarshalRtp() reads every field of a packet with CSRCs, extension and padding", () => {
  const p = new RtpPacket();
  assert.equal(unmarshalRtp(FULL, p), true);
  assert.equal(p.version, 2);
  assert.equal(p.marker, true);
  assert.equal(p.payloadType, 111);
  assert.equal(p.sequenceNumber, 65535);
  assert.equal(p.timestamp, 0xfffffff0);
  assert.equal(p.ssrc, 0x01020304);
  assert.equal(p.csrcCount, 2);
  assert.deepEqual([...p.csrc.subarray(0, 2)], [0x11111111, 0xaabbccdd]);
  assert.equal(p.extension, true);
  assert.equal(p.extensionProfile, ONE_BYTE_PROFILE);
  assert.deepEqual([...p.extensionData], [0x10, 0x7f, 0, 0]);
  assert.deepEqual([...p.payload], [1, 2, 3, 4, 5]);
  assert.equal(p.paddingSize, 3);
});

Deno.test("marshalRtpTo() reproduces the hand-built fixtures byte for byte", () => {
  for (const fixture of [SIMPLE, FULL, TWO_BYTE]) {
    const p = new RtpPacket();
    assert.equal(unmarshalRtp(fixture, p), true);
    assert.equal(rtpMarshalSize(p), fixture.length);
    const out = new Uint8Array(fixture.length + 10);
    assert.equal(marshalRtpTo(p, out, 10), fixture.length);
    assert.deepEqual(out.subarray(10), fixture);
  }
});

Deno.test("marshalRtpTo() builds a packet from fields set by hand", () => {
  const p = new RtpPacket();
  p.payloadType = 0;
  p.sequenceNumber = 0x1234;
  p.timestamp = 800;
  p.ssrc = 0xdeadbeef;
  p.payload = Uint8Array.of(1, 2, 3, 4);
  const out = new Uint8Array(rtpMarshalSize(p));
  marshalRtpTo(p, out);
  assert.deepEqual(out, SIMPLE);
});

Deno.test("unmarshalRtp() points payload into the input and reuses the view for the same slot", () => {
  const buf = new Uint8Array(1500);
  buf.set(FULL);
  const p = new RtpPacket();
  assert.equal(unmarshalRtp(buf.subarray(0, FULL.length), p), true);
  assert.equal(p.payload.buffer, buf.buffer);
  const first = p.payload;
  const firstExt = p.extensionData;
  buf[FULL_HEADER_END] = 9; // the next datagram lands in the same receive buffer
  assert.equal(unmarshalRtp(buf.subarray(0, FULL.length), p), true);
  assert.equal(p.payload, first);
  assert.equal(p.extensionData, firstExt);
  assert.equal(p.payload[0], 9);
});

Deno.test("unmarshalRtp() rejects every truncation through the header, CSRCs and extension", () => {
  const p = new RtpPacket();
  for (let len = 0; len < FULL_HEADER_END; len++) {
    assert.equal(unmarshalRtp(FULL.subarray(0, len), p), false, `length ${len}`);
  }
});

Deno.test("unmarshalRtp() accepts a truncated padded packet only when its last octet is a valid count", () => {
  const p = new RtpPacket();
  for (let len = FULL_HEADER_END; len < FULL.length; len++) {
    const buf = FULL.subarray(0, len);
    const pad = buf[len - 1];
    const valid = pad >= 1 && pad <= len - FULL_HEADER_END;
    assert.equal(unmarshalRtp(buf, p), valid, `length ${len}`);
    if (valid) assert.equal(p.payload.length, len - FULL_HEADER_END - pad);
  }
});

Deno.test("unmarshalRtp() accepts every truncation of a packet without padding past its header", () => {
  const p = new RtpPacket();
  for (let len = 12; len <= SIMPLE.length; len++) {
    assert.equal(unmarshalRtp(SIMPLE.subarray(0, len), p), true);
    assert.equal(p.payload.length, len - 12);
  }
});

Deno.test("unmarshalRtp() rejects versions 0, 1 and 3", () => {
  const p = new RtpPacket();
  for (const v of [0, 1, 3]) {
    const buf = SIMPLE.slice();
    buf[0] = (v << 6) | (buf[0] & 0x3f);
    assert.equal(unmarshalRtp(buf, p), false, `version ${v}`);
  }
});

Deno.test("unmarshalRtp() rejects padding longer than the payload and a zero padding count", () => {
  const p = new RtpPacket();
  const longer = FULL.slice();
  longer[longer.length - 1] = 5 + 3 + 1; // payload 5 + padding 3 + one more
  assert.equal(unmarshalRtp(longer, p), false);
  const exact = FULL.slice();
  exact[exact.length - 1] = 8; // padding swallows the whole payload: allowed, empty payload
  assert.equal(unmarshalRtp(exact, p), true);
  assert.equal(p.payload.length, 0);
  const zero = FULL.slice();
  zero[zero.length - 1] = 0;
  assert.equal(unmarshalRtp(zero, p), false);
});

Deno.test("unmarshalRtp() rejects a CSRC count or extension length running past the end", () => {
  const p = new RtpPacket();
  const cc = SIMPLE.slice();
  cc[0] = 0x80 | 15; // 15 CSRCs need 60 octets, only 4 follow
  assert.equal(unmarshalRtp(cc, p), false);
  const ext = FULL.slice();
  ext[22] = 0;
  ext[23] = 200; // 800 octets of extension
  assert.equal(unmarshalRtp(ext, p), false);
});

Deno.test("marshalRtpTo() throws RangeError for a short buffer or an unaligned extension", () => {
  const p = new RtpPacket();
  unmarshalRtp(FULL, p);
  assert.throws(() => marshalRtpTo(p, new Uint8Array(FULL.length - 1)), RangeError);
  p.extensionData = Uint8Array.of(1, 2, 3);
  assert.throws(() => marshalRtpTo(p, new Uint8Array(100)), RangeError);
});

Deno.test("findHeaderExtension() reads one-byte and two-byte RFC 8285 elements", () => {
  const p = new RtpPacket();
  unmarshalRtp(FULL, p);
  assert.deepEqual(findHeaderExtension(p, 1), Uint8Array.of(0x7f));
  assert.equal(findHeaderExtension(p, 2), null);
  unmarshalRtp(TWO_BYTE, p);
  assert.deepEqual(findHeaderExtension(p, 5), Uint8Array.of(0xaa, 0xbb, 0xcc));
  assert.deepEqual([...p.payload], [0xd5, 0xd5]);
  unmarshalRtp(SIMPLE, p);
  assert.equal(findHeaderExtension(p, 1), null);
});

Deno.test("isRtcpPacket() tells RTCP from RTP on a muxed port (RFC 5761 §4)", () => {
  assert.equal(isRtcpPacket(SIMPLE), false);
  assert.equal(isRtcpPacket(FULL), false);
  assert.equal(isRtcpPacket(hex("81C90001 00000001")), true); // RR
  assert.equal(isRtcpPacket(hex("80CB0000")), true); // BYE
});

Deno.test("unmarshalRtp() never throws on random input and re-marshals what it accepts", () => {
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const p = new RtpPacket();
  let accepted = 0;
  for (let n = 0; n < 20000; n++) {
    const buf = new Uint8Array(rnd() % 80);
    for (let i = 0; i < buf.length; i++) buf[i] = rnd() >>> 24;
    if (buf.length > 0 && n % 2 === 0) buf[0] = 0x80 | (buf[0] & 0x3f); // half with version 2
    if (!unmarshalRtp(buf, p)) continue;
    accepted++;
    const out = new Uint8Array(rtpMarshalSize(p));
    assert.equal(marshalRtpTo(p, out), buf.length);
    const kept = buf.length - p.paddingSize; // padding octets other than the count are zeroed
    assert.deepEqual(out.subarray(0, kept), buf.subarray(0, kept));
    assert.equal(out[out.length - 1], buf[buf.length - 1]);
  }
  assert.ok(accepted > 1000, `accepted ${accepted}`);
});

Deno.test("findHeaderExtension() stops at ID 15 and rejects elements running past the end", () => {
  const p = new RtpPacket();
  p.extension = true;
  p.extensionProfile = ONE_BYTE_PROFILE;
  p.extensionData = Uint8Array.of(0xf0, 0x10, 0x7f, 0x00); // stop marker before element 1
  assert.equal(findHeaderExtension(p, 1), null);
  p.extensionData = Uint8Array.of(0x23, 1, 2, 3); // id 2 claims 4 octets, 3 follow
  assert.equal(findHeaderExtension(p, 2), null);
  p.extensionData = Uint8Array.of(0x00, 0x00, 0x30, 0x09); // padding octets, then id 3
  assert.deepEqual(findHeaderExtension(p, 3), Uint8Array.of(9));
  p.extensionProfile = 0x1234; // neither RFC 8285 form
  assert.equal(findHeaderExtension(p, 3), null);
});
