/**
 * Goldens captured from the real baresip 1.0.0 (Debian's baresip-core, the UA of
 * tests/integration/baresip_test.ts) on loopback: its initial offer (a=tool, a=label, a=ssrc,
 * a=minptime, a=rtcp-rsize, no rtcp-mux), its sendonly hold re-offer and its recvonly answer to
 * our hold. The expected answers were generated once and reviewed line by line.
 */
import assert from "node:assert/strict";
import {
  answerOffer,
  buildOffer,
  type Negotiated,
  type NegotiationResult,
  parseAnswer,
} from "../../../src/sdp/negotiate.ts";
import { isHoldOffer } from "../../../src/sdp/hold.ts";
import { offeredCodecs } from "../../../src/sdp/offered_codecs.ts";
import { parseSdp } from "../../../src/sdp/parse.ts";
import { ANSWER_BASE } from "./_golden_cases.ts";

const DIR = new URL("../../fixtures/baresip/", import.meta.url);

function fixture(name: string): string {
  return Deno.readTextFileSync(new URL(name, DIR));
}

function ok(r: NegotiationResult): Negotiated {
  if (!r.ok) assert.fail(`negotiation failed: ${r.reason}: ${r.message}`);
  return r;
}

Deno.test("answerOffer() golden: baresip 1.0.0's offer gets G722 (its first), RTCP on port + 1", () => {
  const r = ok(answerOffer(fixture("baresip_1_0_0_offer.sdp"), {
    ...ANSWER_BASE,
    allowed: ["PCMU", "PCMA", "G722"],
  }));
  assert.equal(r.sdp, fixture("baresip_1_0_0_answer_g722.sdp"));
  assert.deepEqual(parseSdp(r.sdp), r.description);
  assert.deepEqual([r.codec.name, r.codec.sampleRate], ["G722", 16000]);
  assert.deepEqual([r.telephoneEventPt, r.telephoneEventClockRate], [101, 8000]);
  assert.deepEqual(r.remote, {
    address: "127.0.0.1",
    family: "IP4",
    port: 50928,
    rtcpPort: 50929,
    rtcpAddress: "127.0.0.1",
  });
  assert.equal(r.rtcpMux, false);
  assert.deepEqual([r.direction, r.remoteHold, r.ptime], ["sendrecv", false, 20]);
});

Deno.test("offeredCodecs() lists baresip 1.0.0's G722, PCMU, PCMA in its order", () => {
  assert.deepEqual(offeredCodecs(fixture("baresip_1_0_0_offer.sdp")), [
    { name: "G722", payload_type: 9, clock_rate: 8000, priority: 1 },
    { name: "PCMU", payload_type: 0, clock_rate: 8000, priority: 2 },
    { name: "PCMA", payload_type: 8, clock_rate: 8000, priority: 3 },
  ]);
});

Deno.test("answerOffer() golden: baresip 1.0.0's sendonly hold re-offer is answered recvonly", () => {
  const offer = fixture("baresip_1_0_0_hold_offer.sdp");
  assert.equal(isHoldOffer(parseSdp(offer)), true);
  const r = ok(answerOffer(offer, {
    ...ANSWER_BASE,
    allowed: ["PCMU", "PCMA", "G722"],
    sessionVersion: 4243,
  }));
  assert.equal(r.sdp, fixture("baresip_1_0_0_hold_answer.sdp"));
  assert.deepEqual([r.direction, r.remoteDirection, r.remoteHold], ["recvonly", "sendonly", true]);
});

Deno.test("parseAnswer() reads baresip 1.0.0's recvonly answer to our sendonly hold offer", () => {
  const offer = buildOffer({
    address: "192.0.2.1",
    port: 10000,
    sessionId: 1,
    sessionVersion: 2,
    codecs: ["PCMU"],
    rtcpMux: false,
    direction: "sendonly",
  });
  const r = ok(parseAnswer(offer, fixture("baresip_1_0_0_recvonly_answer.sdp")));
  assert.deepEqual([r.codec.name, r.codec.payloadType], ["PCMU", 0]);
  assert.deepEqual([r.telephoneEventPt, r.telephoneEventClockRate], [101, 8000]);
  assert.deepEqual([r.direction, r.remoteDirection, r.remoteHold], ["sendonly", "recvonly", false]);
  assert.deepEqual([r.remote.port, r.remote.rtcpPort, r.rtcpMux], [50932, 50933, false]);
  assert.equal(r.ptime, 20);
});
