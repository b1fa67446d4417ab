import assert from "node:assert/strict";
import { mosScore, ReceiverStats } from "../../../src/rtp/receiver_stats.ts";
import type { ReportBlock } from "../../../src/rtp/rtcp.ts";

const SSRC = 0x1234;

/** Feeds sequence numbers arriving every 20 ms with matching timestamps. */
function feed(stats: ReceiverStats, seqs: number[], ssrc = SSRC, t0 = 0): number[] {
  return seqs.map((seq, i) =>
    stats.update(ssrc, seq & 0xffff, (seq * 160) >>> 0, t0 + i * 20) ? 1 : 0
  );
}

function range(from: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

function emptyBlock(): ReportBlock {
  return {
    ssrc: 0,
    fractionLost: 0,
    cumulativeLost: 0,
    extendedHighestSeq: 0,
    jitter: 0,
    lastSr: 0,
    delaySinceLastSr: 0,
  };
}

Deno.test("mosScore() follows the compat §2.6 formula (values checked by hand)", () => {
  // [loss fraction, jitter ms, MOS]; R = 93.2 − (2j+10)/40 (−10 if 2j+10 ≥ 160) − 250·loss
  const table: [number, number, number][] = [
    [0, 0, 4.40], // R 92.95: 1 + 3.25325 + 0.15114 = 4.4044
    [0.01, 0, 4.35], // R 90.45: 1 + 3.16575 + 0.18412 = 4.3499
    [0, 20, 4.38], // R 91.95: 1 + 3.21825 + 0.16555 = 4.3838
    [0, 74.99, 4.32], // eff 159.98, no penalty: R 89.2005 → 4.3189
    [0, 75, 3.99], // eff 160: R 79.2 → 1 + 2.772 + 0.22141 = 3.9934
    [0.1, 0, 3.50], // R 67.95: 1 + 2.37825 + 0.12119 = 3.4994
    [0.2, 0, 2.21], // R 42.95: 1 + 1.50325 − 0.29244 = 2.2108
    [0.5, 0, 1.0], // R clamps to 0
    [1, 1000, 1.0],
  ];
  for (const [loss, jitter, mos] of table) {
    assert.equal(mosScore(loss, jitter), mos, `${loss} ${jitter}`);
  }
});

Deno.test("ReceiverStats counts a clean stream across the 65535 wrap with no loss", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  feed(s, range(65500, 100));
  assert.equal(s.packetsReceived, 100);
  assert.equal(s.packetsExpected, 100);
  assert.equal(s.packetsLost, 0);
  assert.equal(s.extendedHighestSeq, 65599); // cycles 1, max seq 63
  assert.equal(s.jitter, 0);
});

Deno.test("ReceiverStats counts loss from sequence gaps", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  feed(s, range(0, 100).filter((q) => q !== 10 && q !== 11 && q !== 50));
  assert.equal(s.packetsReceived, 97);
  assert.equal(s.packetsExpected, 100);
  assert.equal(s.packetsLost, 3);
});

Deno.test("ReceiverStats counts loss across the wrap", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  feed(s, [65534, 65535, 1]);
  assert.equal(s.packetsExpected, 4);
  assert.equal(s.packetsLost, 1);
});

Deno.test("ReceiverStats does not count reordered packets as lost", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  feed(s, [0, 1, 3, 2, 4, 6, 5]);
  assert.equal(s.packetsReceived, 7);
  assert.equal(s.packetsLost, 0);
  assert.equal(s.extendedHighestSeq, 6);
});

Deno.test("ReceiverStats ignores duplicates instead of letting them hide loss", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  const counted = feed(s, [0, 1, 1, 3, 3, 4]);
  assert.deepEqual(counted, [1, 1, 0, 1, 0, 1]);
  assert.equal(s.duplicates, 2);
  assert.equal(s.packetsReceived, 4);
  assert.equal(s.packetsLost, 1); // seq 2
});

Deno.test("ReceiverStats counts a packet older than the first as received, not as negative loss", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  feed(s, [5, 6, 4, 7]);
  assert.equal(s.packetsExpected, 4);
  assert.equal(s.packetsLost, 0);
});

Deno.test("ReceiverStats computes RFC 3550 A.8 jitter for a hand-computed arrival pattern", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  // 20 ms packets (160 units) arriving at 0, 20, 45, 60, 80 ms
  const arrivals = [0, 20, 45, 60, 80];
  arrivals.forEach((t, i) => s.update(SSRC, i, i * 160, t));
  // D = 0 → J 0; D = 200−160 = 40 → J 2.5; D = 120−160 → |40| → J 4.84375;
  // D = 0 → J 4.84375 − 4.84375/16 = 4.541015625
  assert.equal(s.jitter, 4.541015625);
  assert.equal(s.jitterMs, 4.541015625 / 8);
  const block = emptyBlock();
  s.fillReportBlock(block, 100);
  assert.equal(block.jitter, 4);
});

Deno.test("ReceiverStats jitter survives an RTP timestamp wrap", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  for (let i = 0; i < 50; i++) s.update(SSRC, i, (0xffffff00 + i * 160) >>> 0, i * 20);
  assert.equal(s.jitter, 0);
});

Deno.test("ReceiverStats skips jitter for packets flagged as non-media (RFC 4733 events)", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  s.update(SSRC, 0, 0, 0);
  s.update(SSRC, 1, 160, 20);
  for (let i = 2; i < 9; i++) s.update(SSRC, i, 320, i * 20, false); // one event timestamp
  s.update(SSRC, 9, 9 * 160, 180);
  assert.equal(s.jitter, 0);
  assert.equal(s.packetsReceived, 10);
});

Deno.test("ReceiverStats keeps the current source until a new SSRC passes probation", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  feed(s, range(100, 10));
  assert.equal(s.update(0xbeef, 5000, 0, 300), false); // one stray packet
  assert.equal(s.ssrc, SSRC);
  assert.equal(s.update(SSRC, 110, 110 * 160, 320), true);
  assert.equal(s.update(0xbeef, 7000, 0, 340), false); // probation 1 of 2
  assert.equal(s.update(0xbeef, 7001, 160, 360), true); // in sequence: switch
  assert.equal(s.ssrc, 0xbeef);
  assert.equal(s.packetsReceived, 2);
  assert.equal(s.packetsExpected, 2);
  assert.equal(s.totalReceived, 13);
  assert.equal(s.totalLost, 0);
});

Deno.test("ReceiverStats restarts after a large sequence jump confirmed by the next packet", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  feed(s, range(0, 10));
  assert.equal(s.update(SSRC, 20000, 0, 200), false);
  assert.equal(s.update(SSRC, 20001, 160, 220), true);
  assert.equal(s.packetsReceived, 2);
  assert.equal(s.totalReceived, 12);
  assert.equal(s.totalLost, 0);
  assert.equal(s.update(SSRC, 20002, 320, 240), true);
  assert.equal(s.extendedHighestSeq, 20002);
});

Deno.test("ReceiverStats.quality() is null without packets and reports the CDR block", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  assert.equal(s.quality(), null);
  feed(s, range(0, 200).filter((q) => q % 100 !== 7)); // 2 lost of 200
  const q = s.quality()!;
  assert.equal(q.rtp_packets_received, 198);
  assert.equal(q.rtp_packets_lost, 2);
  assert.equal(q.rtp_jitter_ms, 0);
  assert.equal(q.mos_score, mosScore(0.01, 0));
  assert.equal(q.mos_score, 4.35);
});

Deno.test("fillReportBlock() reports interval fraction lost, cumulative loss and DLSR", () => {
  const s = new ReceiverStats({ clockRate: 8000 });
  const block = emptyBlock();
  assert.equal(s.fillReportBlock(block, 0), false);
  feed(s, range(0, 100).filter((q) => q !== 10 && q !== 11 && q !== 50));
  s.onSenderReport(0xa5108000, 1000);
  assert.equal(s.fillReportBlock(block, 1500), true);
  assert.equal(block.ssrc, SSRC);
  assert.equal(block.fractionLost, 7); // floor(3 · 256 / 100)
  assert.equal(block.cumulativeLost, 3);
  assert.equal(block.extendedHighestSeq, 99);
  assert.equal(block.lastSr, 0xa5108000);
  assert.equal(block.delaySinceLastSr, 32768); // 0.5 s in 1/65536 s
  feed(s, range(100, 50), SSRC, 2000);
  s.fillReportBlock(block, 3000);
  assert.equal(block.fractionLost, 0);
  assert.equal(block.cumulativeLost, 3);
  assert.equal(block.extendedHighestSeq, 149);
});
