import assert from "node:assert/strict";
import {
  decodeTelephoneEvent,
  dtmfDigit,
  dtmfEventCode,
  dtmfPackets,
  DtmfReceiver,
  DtmfSender,
  encodeTelephoneEvent,
  TELEPHONE_EVENT_PT,
  type TelephoneEvent,
} from "../../../src/rtp/dtmf.ts";
import { marshalRtpTo, rtpMarshalSize, RtpPacket } from "../../../src/rtp/packet.ts";

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const STREAM = { ssrc: 0xcafe, sequenceNumber: 1000, timestamp: 8000 };

Deno.test("DtmfSender sends 4 packets plus 3 end packets per digit, volume 10, PT 101", () => {
  const pkts = dtmfPackets("1#", STREAM);
  assert.equal(pkts.length, 14);
  const summary = pkts.map((
    p,
  ) => [p.sequenceNumber, p.timestamp, p.marker, p.payloadType, hex(p.payload)]);
  assert.deepEqual(summary, [
    [1000, 8000, true, 101, "010a00a0"], // event 1, volume 10, duration 160
    [1001, 8000, false, 101, "010a0140"], // 320
    [1002, 8000, false, 101, "010a01e0"], // 480
    [1003, 8000, false, 101, "010a0280"], // 640
    [1004, 8000, false, 101, "018a0320"], // E bit, 800 = 100 ms
    [1005, 8000, false, 101, "018a0320"],
    [1006, 8000, false, 101, "018a0320"],
    [1007, 9120, true, 101, "0b0a00a0"], // '#' = 11, timestamp of its own tick
    [1008, 9120, false, 101, "0b0a0140"],
    [1009, 9120, false, 101, "0b0a01e0"],
    [1010, 9120, false, 101, "0b0a0280"],
    [1011, 9120, false, 101, "0b8a0320"],
    [1012, 9120, false, 101, "0b8a0320"],
    [1013, 9120, false, 101, "0b8a0320"],
  ]);
  assert.ok(pkts.every((p) => p.ssrc === 0xcafe));
});

Deno.test("DtmfSender packets marshal to the RFC 4733 wire form", () => {
  const [first] = dtmfPackets("5", STREAM);
  const out = new Uint8Array(rtpMarshalSize(first));
  marshalRtpTo(first, out);
  assert.equal(hex(out), "80e503e800001f400000cafe" + "050a00a0");
});

Deno.test("DtmfSender answers false when idle and drives one packet per call", () => {
  const sender = new DtmfSender();
  const pkt = new RtpPacket();
  assert.equal(sender.busy, false);
  assert.equal(sender.next(pkt, 0), false);
  sender.enqueue("*");
  assert.equal(sender.busy, true);
  let n = 0;
  while (sender.next(pkt, n * 160)) {
    assert.equal(pkt.timestamp, 0);
    assert.equal(pkt.payload[0], 10);
    n++;
  }
  assert.equal(n, 7);
  assert.equal(sender.busy, false);
});

Deno.test("DtmfSender rejects a non-DTMF character and queues nothing", () => {
  const sender = new DtmfSender();
  assert.throws(() => sender.enqueue("12x"), RangeError);
  assert.equal(sender.busy, false);
  sender.enqueue("abcd");
  assert.equal(dtmfPackets("abcd", STREAM).length, 28);
});

Deno.test("DtmfSender.cancel() drops the queue but still ends the digit in progress", () => {
  const sender = new DtmfSender();
  const pkt = new RtpPacket();
  sender.enqueue("123");
  sender.next(pkt, 0);
  sender.cancel();
  const ends: boolean[] = [];
  while (sender.next(pkt, 0)) ends.push((pkt.payload[1] & 0x80) !== 0);
  assert.deepEqual(ends, [true, true, true]);
});

Deno.test("DtmfSender honours duration, clock rate and end-packet options", () => {
  const pkts = dtmfPackets("9", { ...STREAM }, {
    durationMs: 200,
    clockRate: 16000,
    endPackets: 2,
  });
  const durations = pkts.map((p) => (p.payload[2] << 8) | p.payload[3]);
  assert.deepEqual(durations, [320, 640, 960, 1280, 1600, 1920, 2240, 2560, 2880, 3200, 3200]);
  assert.equal(pkts[1].timestamp - pkts[0].timestamp, 0);
});

Deno.test("encodeTelephoneEvent()/decodeTelephoneEvent() round-trip and reject short payloads", () => {
  const ev: TelephoneEvent = { event: 11, end: true, volume: 63, duration: 0xffff };
  const buf = new Uint8Array(6);
  assert.equal(encodeTelephoneEvent(ev, buf, 2), 4);
  assert.equal(hex(buf), "00000bbfffff");
  const back: TelephoneEvent = { event: 0, end: false, volume: 0, duration: 0 };
  assert.equal(decodeTelephoneEvent(buf.subarray(2), back), true);
  assert.deepEqual(back, ev);
  assert.equal(decodeTelephoneEvent(buf.subarray(0, 3), back), false);
});

Deno.test("dtmfEventCode()/dtmfDigit() map 0-9 * # A-D (RFC 4733 §3.2)", () => {
  assert.deepEqual([..."0123456789*#ABCD"].map(dtmfEventCode), [...Array(16).keys()]);
  assert.equal(dtmfEventCode("d"), 15);
  assert.equal(dtmfEventCode("x"), -1);
  assert.equal(dtmfEventCode("12"), -1);
  assert.equal(dtmfDigit(11), "#");
  assert.equal(dtmfDigit(16), "");
});

function receiveAll(pkts: RtpPacket[]): string {
  const rx = new DtmfReceiver();
  return pkts.map((p) => rx.receive(p)).filter((e) => e >= 0).map(dtmfDigit).join("");
}

Deno.test("DtmfReceiver reports each digit once despite the retransmitted end packets", () => {
  assert.equal(receiveAll(dtmfPackets("1#", STREAM)), "1#");
  assert.equal(receiveAll(dtmfPackets("11", STREAM)), "11"); // same digit twice: two events
  assert.equal(receiveAll(dtmfPackets("0123456789*#ABCD", STREAM)), "0123456789*#ABCD");
});

Deno.test("DtmfReceiver reports a digit whose start packets were lost", () => {
  const pkts = dtmfPackets("47", STREAM);
  assert.equal(receiveAll(pkts.filter((_, i) => i >= 3)), "47"); // 3 of '4' lost
  assert.equal(receiveAll(pkts.filter((_, i) => i >= 4)), "47"); // only the end packets of '4'
  assert.equal(receiveAll(pkts.filter((_, i) => i !== 0 && i !== 7)), "47"); // both markers lost
});

Deno.test("DtmfReceiver reports a digit whose end packets were all lost", () => {
  const pkts = dtmfPackets("47", STREAM);
  assert.equal(receiveAll(pkts.filter((_, i) => i < 4 || i >= 7)), "47");
});

Deno.test("DtmfReceiver ignores a straggler from an earlier event", () => {
  const pkts = dtmfPackets("47", STREAM);
  const reordered = [...pkts.slice(0, 5), ...pkts.slice(7, 9), pkts[5], ...pkts.slice(9), pkts[6]];
  assert.equal(receiveAll(reordered), "47");
});

Deno.test("DtmfReceiver ignores non-DTMF events and truncated payloads", () => {
  const rx = new DtmfReceiver();
  const pkt = new RtpPacket();
  pkt.payloadType = TELEPHONE_EVENT_PT;
  pkt.payload = Uint8Array.of(16, 0x0a, 0, 160); // flash
  assert.equal(rx.receive(pkt), -1);
  pkt.payload = Uint8Array.of(1, 0x0a);
  assert.equal(rx.receive(pkt), -1);
});

Deno.test("DtmfReceiver does not report the continuation segment of a long event again", () => {
  const rx = new DtmfReceiver();
  const pkt = new RtpPacket();
  pkt.timestamp = 1000;
  pkt.marker = true;
  pkt.payload = Uint8Array.of(5, 0x0a, 0xff, 0xff); // first segment, maximum duration
  assert.equal(rx.receive(pkt), 5);
  pkt.timestamp = 1000 + 0xffff; // RFC 4733 §2.5.1.3: next segment, no marker
  pkt.marker = false;
  pkt.payload = Uint8Array.of(5, 0x0a, 0x00, 0xa0);
  assert.equal(rx.receive(pkt), -1);
  pkt.payload = Uint8Array.of(5, 0x8a, 0x01, 0x40);
  assert.equal(rx.receive(pkt), -1);
  pkt.timestamp += 2000;
  pkt.marker = true;
  pkt.payload = Uint8Array.of(5, 0x0a, 0x00, 0xa0); // a new press of the same key
  assert.equal(rx.receive(pkt), 5);
});
