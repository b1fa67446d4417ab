import assert from "node:assert/strict";
import {
  answerOffer,
  type AnswerOptions,
  type Negotiated,
  type NegotiationResult,
  offersText,
} from "../../../src/sdp/negotiate.ts";
import { parseSdp } from "../../../src/sdp/parse.ts";
import type { Direction } from "../../../src/sdp/types.ts";
import { ANSWER_BASE, ANSWER_CASES, fixture } from "./_golden_cases.ts";
import { mutate, prng } from "./_mutate.ts";

const ALL: AnswerOptions["allowed"] = ["opus", "G722", "PCMU", "PCMA", "AMR-WB", "AMR-NB"];

function ok(r: NegotiationResult): Negotiated {
  if (!r.ok) assert.fail(`negotiation failed: ${r.reason}: ${r.message}`);
  return r;
}

function answer(offer: string, opts: Partial<AnswerOptions> = {}): NegotiationResult {
  return answerOffer(offer, { ...ANSWER_BASE, allowed: ALL, ...opts });
}

for (const c of ANSWER_CASES) {
  Deno.test(`answerOffer() golden: ${c.title}`, () => {
    const r = ok(answerOffer(fixture(c.offer), c.options));
    assert.equal(r.sdp, fixture(c.answer));
    assert.deepEqual(parseSdp(r.sdp), r.description);
  });
}

Deno.test("answerOffer() picks the first codec in offer order, not ours", () => {
  const r = ok(answer(fixture("baresip_offer.sdp"), { allowed: ["PCMA", "PCMU", "G722"] }));
  assert.equal(r.codec.name, "G722");
  const cisco = ok(answer(fixture("cisco_offer.sdp"), { allowed: ["PCMU", "PCMA"] }));
  assert.equal(cisco.codec.name, "PCMA");
});

Deno.test("answerOffer() never negotiates a codec outside the allowed list", () => {
  const r = ok(answer(fixture("linphone_offer.sdp"), { allowed: ["PCMA"] }));
  assert.deepEqual([r.codec.name, r.codec.payloadType], ["PCMA", 8]);
  assert.deepEqual(parseSdp(r.sdp).media[0].formats, ["8", "100"]);
});

Deno.test("answerOffer() honours a preferred codec that is offered and allowed", () => {
  const r = ok(answer(fixture("baresip_offer.sdp"), { preferred: "PCMA" }));
  assert.equal(r.codec.name, "PCMA");
  assert.match(r.sdp, /\r\nm=audio 20000 RTP\/AVP 8 101\r\n/);
});

Deno.test("answerOffer() fails when the preferred codec is not in the offer", () => {
  const r = answer(fixture("asterisk_offer.sdp"), { preferred: "G722" });
  assert.deepEqual(r, {
    ok: false,
    reason: "codec_not_offered",
    message: "codec G722 is not in the offer",
    sipStatus: 488,
  });
});

Deno.test("answerOffer() fails when the preferred codec is not enabled", () => {
  const r = answer(fixture("linphone_offer.sdp"), { allowed: ["PCMU"], preferred: "opus" });
  assert.deepEqual(r, {
    ok: false,
    reason: "codec_not_allowed",
    message: "codec opus is not enabled",
  });
});

Deno.test("answerOffer() echoes the offer's dynamic payload type numbers", () => {
  const linphone = ok(answer(fixture("linphone_offer.sdp")));
  assert.deepEqual([linphone.codec.name, linphone.codec.payloadType], ["opus", 96]);
  const baresip = ok(answer(fixture("baresip_offer.sdp")));
  assert.deepEqual([baresip.codec.name, baresip.codec.payloadType], ["opus", 116]);
  assert.match(baresip.sdp, /a=rtpmap:116 opus\/48000\/2\r\na=fmtp:116 minptime=10;useinbandfec=1/);
});

Deno.test("answerOffer() negotiates G722 with an 8000 Hz RTP clock and 16 kHz audio", () => {
  const r = ok(answer(fixture("baresip_offer.sdp"), { allowed: ["G722"] }));
  assert.deepEqual(r.codec, {
    name: "G722",
    payloadType: 9,
    clockRate: 8000,
    sampleRate: 16000,
    fmtp: "",
  });
  assert.match(r.sdp, /a=rtpmap:9 G722\/8000\r\n/);
});

Deno.test("answerOffer() keeps telephone-event with the offer's PT at the codec's clock", () => {
  const opus = ok(answer(fixture("linphone_offer.sdp")));
  assert.deepEqual([opus.telephoneEventPt, opus.telephoneEventClockRate], [101, 48000]);
  const pcmu = ok(answer(fixture("linphone_offer.sdp"), { allowed: ["PCMU"] }));
  assert.deepEqual([pcmu.telephoneEventPt, pcmu.telephoneEventClockRate], [100, 8000]);
  const amr = ok(answer(fixture("amrwb_offer.sdp")));
  assert.deepEqual([amr.telephoneEventPt, amr.telephoneEventClockRate], [111, 16000]);
});

Deno.test("answerOffer() omits telephone-event when the offer has none or we turn it off", () => {
  const noTe = fixture("asterisk_offer.sdp")
    .replace("RTP/AVP 0 8 101", "RTP/AVP 0 8")
    .replace("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n", "");
  const r = ok(answer(noTe));
  assert.equal(r.telephoneEventPt, undefined);
  assert.match(r.sdp, /m=audio 20000 RTP\/AVP 0\r\n/);
  const off = ok(answer(fixture("asterisk_offer.sdp"), { telephoneEvent: false }));
  assert.equal(off.telephoneEventPt, undefined);
  assert.ok(!off.sdp.includes("telephone-event"));
});

const DIRECTION_TABLE: readonly [Direction, Direction, Direction, boolean][] = [
  // offered,   local,      answered,  remote hold
  ["sendrecv", "sendrecv", "sendrecv", false],
  ["sendonly", "sendrecv", "recvonly", true],
  ["recvonly", "sendrecv", "sendonly", false],
  ["inactive", "sendrecv", "inactive", true],
  ["sendrecv", "sendonly", "sendonly", false],
  ["sendonly", "sendonly", "inactive", true],
  ["recvonly", "sendonly", "sendonly", false],
  ["sendrecv", "inactive", "inactive", false],
];

for (const [offered, local, expected, hold] of DIRECTION_TABLE) {
  Deno.test(`answerOffer() answers ${offered} with ${expected} when we want ${local} (RFC 3264 §6.1)`, () => {
    const offer = fixture("asterisk_offer.sdp").replace("a=sendrecv", `a=${offered}`);
    const r = ok(answer(offer, { direction: local }));
    assert.equal(r.direction, expected);
    assert.equal(r.remoteDirection, offered);
    assert.equal(r.remoteHold, hold);
    assert.match(r.sdp, new RegExp(`\r\na=${expected}\r\n`));
  });
}

Deno.test("answerOffer() reads a session-level direction when the media has none", () => {
  const offer = fixture("asterisk_offer.sdp")
    .replace("a=sendrecv\r\n", "")
    .replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n");
  const r = ok(answer(offer));
  assert.deepEqual([r.remoteDirection, r.direction, r.remoteHold], ["sendonly", "recvonly", true]);
});

Deno.test("answerOffer() treats c=0.0.0.0 as hold (RFC 3264 §8.4)", () => {
  const r = ok(answer(fixture("hold_null_address_offer.sdp")));
  assert.deepEqual([r.remoteDirection, r.direction, r.remoteHold], ["sendonly", "recvonly", true]);
  assert.equal(r.remote.address, "0.0.0.0");
});

Deno.test("answerOffer() answers in the offer's address family", () => {
  const v6 = ok(answer(fixture("ipv6_offer.sdp")));
  assert.equal(v6.description.origin.family, "IP6");
  assert.deepEqual(v6.description.connection, { family: "IP6", address: "2001:db8::1" });
  assert.deepEqual(v6.remote, {
    address: "2001:db8::10",
    family: "IP6",
    port: 40000,
    rtcpPort: 40001,
    rtcpAddress: "2001:db8::10",
  });
  const v4 = ok(answer(fixture("asterisk_offer.sdp")));
  assert.deepEqual(v4.description.connection, { family: "IP4", address: "192.0.2.1" });
  const onlyV4 = ok(answer(fixture("ipv6_offer.sdp"), { address: { ip4: "192.0.2.1" } }));
  assert.deepEqual(onlyV4.description.connection, { family: "IP4", address: "192.0.2.1" });
  const literal = ok(answer(fixture("asterisk_offer.sdp"), { address: "2001:db8::99" }));
  assert.match(literal.sdp, /\r\nc=IN IP6 2001:db8::99\r\n/);
});

Deno.test("answerOffer() reports where RTP and RTCP go: a=rtcp, rtcp-mux, else port + 1", () => {
  assert.equal(ok(answer(fixture("linphone_offer.sdp"))).remote.rtcpPort, 7079);
  const muxed = ok(answer(fixture("baresip_offer.sdp")));
  assert.equal(muxed.rtcpMux, true);
  assert.equal(muxed.remote.rtcpPort, 10248);
  assert.match(muxed.sdp, /\r\na=rtcp-mux\r\n$/);
  const declined = ok(answer(fixture("baresip_offer.sdp"), { rtcpMux: false }));
  assert.deepEqual([declined.rtcpMux, declined.remote.rtcpPort], [false, 10249]);
  assert.ok(!declined.sdp.includes("rtcp-mux"));
  assert.equal(ok(answer(fixture("cisco_offer.sdp"))).remote.address, "10.10.1.30");
});

Deno.test("answerOffer() reports the offer's ptime and maxptime and asks for 20 ms", () => {
  const r = ok(answer(fixture("asterisk_offer.sdp")));
  assert.deepEqual([r.ptime, r.maxptime], [20, 150]);
  const p30 = ok(answer(fixture("asterisk_offer.sdp").replace("a=ptime:20", "a=ptime:30")));
  assert.equal(p30.ptime, 30);
  assert.match(p30.sdp, /\r\na=ptime:20\r\n/);
  const none = ok(answer(fixture("linphone_offer.sdp")));
  assert.deepEqual([none.ptime, none.maxptime], [20, undefined]);
});

Deno.test("answerOffer() echoes AMR framing and mode-set and clamps our mode into it", () => {
  const wb = ok(answer(fixture("amrwb_offer.sdp"), { amrWb: { octetAligned: false, mode: 8 } }));
  assert.deepEqual(wb.codec, {
    name: "AMR-WB",
    payloadType: 116,
    clockRate: 16000,
    sampleRate: 16000,
    channels: 1,
    fmtp: "octet-align=1; mode-set=0,1,2",
    amr: { octetAligned: true, modeSet: [0, 1, 2], mode: 2 },
  });
  // The second AMR-WB format is bandwidth-efficient; choosing it must not add octet-align.
  const be = fixture("amrwb_offer.sdp").replace("RTP/AVP 116 107", "RTP/AVP 107 116");
  const r = ok(answer(be, { amrWb: { octetAligned: true, mode: 1 } }));
  assert.equal(r.codec.payloadType, 107);
  assert.deepEqual(r.codec.amr, { octetAligned: false, modeSet: [0, 1, 2], mode: 1 });
  assert.match(r.sdp, /a=fmtp:107 mode-set=0,1,2\r\n/);
  const nb = ok(answer(fixture("amrwb_offer.sdp"), { allowed: ["AMR-NB"] }));
  assert.deepEqual(nb.codec.amr, { octetAligned: true, modeSet: [], mode: 7 });
});

Deno.test("answerOffer() skips AMR formats asking for CRCs or robust sorting", () => {
  const offer = fixture("amrwb_offer.sdp").replace(
    "a=fmtp:116 mode-set=0,1,2;octet-align=1;max-red=0",
    "a=fmtp:116 mode-set=0,1,2;octet-align=1;crc=1",
  );
  assert.equal(ok(answer(offer)).codec.payloadType, 107);
});

Deno.test("answerOffer() accepts an offered m=text when given a text port", () => {
  const r = ok(answer(fixture("rtt_offer.sdp"), { text: { port: 20002 } }));
  assert.deepEqual(r.text, {
    t140PayloadType: 98,
    redPayloadType: 100,
    redundancy: 2,
    remote: {
      address: "192.0.2.77",
      family: "IP4",
      port: 11002,
      rtcpPort: 11003,
      rtcpAddress: "192.0.2.77",
    },
    direction: "sendrecv",
  });
  const sd = parseSdp(r.sdp);
  assert.deepEqual(sd.media.map((m) => `${m.media} ${m.port}`), [
    "audio 20000",
    "video 0",
    "text 20002",
  ]);
});

Deno.test("answerOffer() accepts t140 without red, with no redundancy", () => {
  const offer = fixture("rtt_offer.sdp")
    .replace("m=text 11002 RTP/AVP 100 98", "m=text 11002 RTP/AVP 98")
    .replace("a=rtpmap:100 red/1000\r\na=fmtp:100 98/98/98\r\n", "");
  const r = ok(answer(offer, { text: { port: 20002 } }));
  assert.deepEqual([r.text?.t140PayloadType, r.text?.redPayloadType, r.text?.redundancy], [
    98,
    undefined,
    0,
  ]);
  assert.match(r.sdp, /m=text 20002 RTP\/AVP 98\r\na=rtpmap:98 t140\/1000\r\na=sendrecv\r\n$/);
});

Deno.test("answerOffer() refuses m=text with port 0 when no text port is given", () => {
  const r = ok(answer(fixture("rtt_offer.sdp")));
  assert.equal(r.text, undefined);
  assert.match(r.sdp, /\r\nm=text 0 RTP\/AVP 100 98\r\n$/);
});

Deno.test("answerOffer() uses the first audio stream with a common codec and refuses the rest", () => {
  const offer = fixture("no_common_codec_offer.sdp") +
    "m=audio 5006 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\nm=audio 5008 RTP/AVP 0\r\n";
  const r = ok(answer(offer));
  const sd = parseSdp(r.sdp);
  assert.deepEqual(sd.media.map((m) => `${m.port} ${m.formats.join(",")}`), [
    "0 18,3,101",
    "20000 8",
    "0 0",
  ]);
  assert.equal(r.remote.port, 5006);
});

Deno.test("answerOffer() fails with 488 when nothing offered is allowed", () => {
  assert.deepEqual(answer(fixture("no_common_codec_offer.sdp")), {
    ok: false,
    reason: "no_common_codec",
    message:
      "no common codec: offered none we know; allowed opus, G722, PCMU, PCMA, AMR-WB, AMR-NB",
    sipStatus: 488,
  });
  const r = answer(fixture("linphone_offer.sdp"), { allowed: ["AMR-WB"] });
  assert.equal(r.ok, false);
  assert.equal(
    !r.ok && r.message,
    "no common codec: offered opus, G722, PCMU, PCMA; allowed AMR-WB",
  );
});

Deno.test("answerOffer() fails with 488 when the only audio stream is SRTP or disabled", () => {
  assert.deepEqual(answer(fixture("srtp_offer.sdp")), {
    ok: false,
    reason: "no_audio",
    message: "offer has no usable audio stream (RTP/SAVP is not supported)",
    sipStatus: 488,
  });
  const disabled = fixture("asterisk_offer.sdp").replace("m=audio 16384", "m=audio 0");
  assert.equal((answer(disabled) as { reason: string }).reason, "no_audio");
});

Deno.test("answerOffer() turns an unparseable offer into a 400 failure", () => {
  assert.deepEqual(answer("v=0\r\nbogus\r\n"), {
    ok: false,
    reason: "invalid_sdp",
    message: 'Cannot parse SDP: line 2: expected <type>=<value>, got "bogus"',
    sipStatus: 400,
  });
});

Deno.test("answerOffer() never throws on 3000 corrupted offers", () => {
  const rand = prng(0xa11ce);
  const offers = ANSWER_CASES.map((c) => fixture(c.offer));
  let answered = 0;
  for (let i = 0; i < 3000; i++) {
    const r = answer(mutate(offers[i % offers.length], rand), { text: { port: 20002 } });
    if (r.ok) {
      answered++;
      assert.deepEqual(parseSdp(r.sdp), r.description);
    } else {
      assert.ok(r.sipStatus === 400 || r.sipStatus === 488, r.message);
    }
  }
  assert.ok(answered > 100, `only ${answered} corrupted offers were still answerable`);
});

Deno.test("offersText() tells whether an offer has a text stream we could accept", () => {
  assert.equal(offersText(parseSdp(fixture("rtt_offer.sdp"))), true);
  assert.equal(offersText(parseSdp(fixture("asterisk_offer.sdp"))), false);
  const refused = fixture("rtt_offer.sdp").replace("m=text 11002", "m=text 0");
  assert.equal(offersText(parseSdp(refused)), false);
});
