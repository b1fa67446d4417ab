import assert from "node:assert/strict";
import {
  buildOffer,
  type Negotiated,
  type NegotiationResult,
  parseAnswer,
} from "../../../src/sdp/negotiate.ts";
import { fixture, OFFER_BASE, OFFER_CASES } from "./_golden_cases.ts";

function ok(r: NegotiationResult): Negotiated {
  if (!r.ok) assert.fail(`negotiation failed: ${r.reason}: ${r.message}`);
  return r;
}

const DEFAULT_OFFER = buildOffer(OFFER_CASES[0].options);
const ALL_OFFER = buildOffer(OFFER_CASES[1].options);

Deno.test("parseAnswer() reads an Asterisk PCMA answer to our default offer", () => {
  const r = ok(parseAnswer(DEFAULT_OFFER, fixture("peer_answer_pcma.sdp")));
  assert.deepEqual(r.codec, {
    name: "PCMA",
    payloadType: 8,
    clockRate: 8000,
    sampleRate: 8000,
    fmtp: "",
  });
  assert.deepEqual([r.telephoneEventPt, r.telephoneEventClockRate], [101, 8000]);
  assert.deepEqual(r.remote, {
    address: "203.0.113.10",
    family: "IP4",
    port: 18000,
    rtcpPort: 18001,
    rtcpAddress: "203.0.113.10",
  });
  assert.equal(r.rtcpMux, false, "offered but not echoed: RTCP goes to port + 1");
  assert.deepEqual([r.direction, r.remoteDirection, r.remoteHold], ["sendrecv", "sendrecv", false]);
  assert.deepEqual([r.ptime, r.maxptime], [20, 150]);
  assert.equal(r.sdp, DEFAULT_OFFER.sdp);
  assert.equal(r.text, undefined);
});

Deno.test("parseAnswer() reads opus, rtcp-mux, telephone-event/48000 and RTT from a baresip answer", () => {
  const r = ok(parseAnswer(ALL_OFFER, fixture("peer_answer_opus_rtt.sdp")));
  assert.deepEqual(r.codec, {
    name: "opus",
    payloadType: 111,
    clockRate: 48000,
    sampleRate: 48000,
    channels: 2,
    fmtp: "stereo=0;sprop-stereo=0;useinbandfec=1",
  });
  assert.deepEqual([r.telephoneEventPt, r.telephoneEventClockRate], [100, 48000]);
  assert.deepEqual([r.rtcpMux, r.remote.port, r.remote.rtcpPort], [true, 10250, 10250]);
  assert.deepEqual(r.text, {
    t140PayloadType: 99,
    redPayloadType: 98,
    redundancy: 2,
    remote: {
      address: "10.0.0.5",
      family: "IP4",
      port: 10252,
      rtcpPort: 10253,
      rtcpAddress: "10.0.0.5",
    },
    direction: "sendrecv",
  });
});

Deno.test("parseAnswer() takes AMR framing and mode-set from the answer and clamps our mode", () => {
  const offer = buildOffer({
    ...OFFER_BASE,
    codecs: ["AMR-WB", "PCMU"],
    amrWb: { octetAligned: true, mode: 8 },
    rtt: { port: 10002 },
  });
  const r = ok(parseAnswer(offer, fixture("peer_answer_amrwb.sdp")));
  assert.equal(r.codec.name, "AMR-WB");
  assert.deepEqual(r.codec.amr, { octetAligned: true, modeSet: [0, 1, 2], mode: 2 });
  assert.deepEqual([r.telephoneEventPt, r.telephoneEventClockRate], [102, 16000]);
  assert.equal(r.text, undefined, "the answer refused text with port 0");
});

Deno.test("parseAnswer() uses the answer's payload type when it renumbers an offered codec", () => {
  const answer = fixture("peer_answer_pcma.sdp")
    .replace("RTP/AVP 8 101", "RTP/AVP 120 101")
    .replace("a=rtpmap:8 PCMA/8000", "a=rtpmap:120 PCMA/8000");
  const r = ok(parseAnswer(DEFAULT_OFFER, answer));
  assert.deepEqual([r.codec.name, r.codec.payloadType], ["PCMA", 120]);
});

Deno.test("parseAnswer() takes the answerer's first offered codec when it lists several", () => {
  const answer = fixture("peer_answer_pcma.sdp").replace("RTP/AVP 8 101", "RTP/AVP 18 0 8 101");
  const r = ok(parseAnswer(DEFAULT_OFFER, answer));
  assert.equal(r.codec.name, "PCMU");
});

Deno.test("parseAnswer() turns the answer's direction into ours", () => {
  const table = [
    ["sendrecv", "sendrecv", false],
    ["recvonly", "sendonly", false],
    ["sendonly", "recvonly", true],
    ["inactive", "inactive", true],
  ] as const;
  for (const [answered, ours, hold] of table) {
    const answer = fixture("peer_answer_pcma.sdp").replace("a=sendrecv", `a=${answered}`);
    const r = ok(parseAnswer(DEFAULT_OFFER, answer));
    assert.deepEqual([r.direction, r.remoteHold], [ours, hold], answered);
  }
  const held = buildOffer({ ...OFFER_CASES[0].options, direction: "sendonly" });
  const r = ok(
    parseAnswer(held, fixture("peer_answer_pcma.sdp").replace("a=sendrecv", "a=recvonly")),
  );
  assert.equal(r.direction, "sendonly");
});

Deno.test("parseAnswer() reports a rejected audio stream", () => {
  const answer = fixture("peer_answer_pcma.sdp").replace("m=audio 18000", "m=audio 0");
  assert.deepEqual(parseAnswer(DEFAULT_OFFER, answer), {
    ok: false,
    reason: "rejected",
    message: "answer rejected the audio stream",
  });
});

Deno.test("parseAnswer() rejects an answer choosing a codec we did not offer", () => {
  const answer = fixture("peer_answer_pcma.sdp")
    .replace("RTP/AVP 8 101", "RTP/AVP 18 101")
    .replace("a=rtpmap:8 PCMA/8000", "a=rtpmap:18 G729/8000");
  assert.deepEqual(parseAnswer(DEFAULT_OFFER, answer), {
    ok: false,
    reason: "codec_not_offered",
    message: "answer chose no codec we offered (answer formats 18 101)",
  });
  // G722 is a codec we know but did not offer in the default offer.
  const g722 = fixture("peer_answer_pcma.sdp")
    .replace("RTP/AVP 8 101", "RTP/AVP 9 101")
    .replace("a=rtpmap:8 PCMA/8000", "a=rtpmap:9 G722/8000");
  assert.equal(
    (parseAnswer(DEFAULT_OFFER, g722) as { reason: string }).reason,
    "codec_not_offered",
  );
});

Deno.test("parseAnswer() rejects an answer whose m= lines do not match the offer", () => {
  const extra = fixture("peer_answer_pcma.sdp") + "m=video 0 RTP/AVP 99\r\n";
  assert.deepEqual(parseAnswer(DEFAULT_OFFER, extra), {
    ok: false,
    reason: "media_mismatch",
    message: "answer has 2 m= lines, the offer had 1",
  });
  const swapped = fixture("peer_answer_pcma.sdp").replace("m=audio", "m=text");
  assert.equal(
    (parseAnswer(DEFAULT_OFFER, swapped) as { reason: string }).reason,
    "media_mismatch",
  );
});

Deno.test("parseAnswer() turns an unparseable answer into a failure", () => {
  const r = parseAnswer(
    DEFAULT_OFFER,
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nm=audio x RTP/AVP 0\r\n",
  );
  assert.deepEqual(r, {
    ok: false,
    reason: "invalid_sdp",
    message: 'Cannot parse SDP: line 3: m= port "x" is not a number',
  });
});
