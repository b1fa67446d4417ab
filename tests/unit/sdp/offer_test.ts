import assert from "node:assert/strict";
import { buildOffer, holdOffer, isHoldOffer, resumeOffer } from "../../../src/sdp/negotiate.ts";
import { nextSessionVersion } from "../../../src/sdp/hold.ts";
import { parseSdp } from "../../../src/sdp/parse.ts";
import { fixture, OFFER_BASE, OFFER_CASES } from "./_golden_cases.ts";

for (const c of OFFER_CASES) {
  Deno.test(`buildOffer() golden: ${c.title}`, () => {
    const offer = buildOffer(c.options);
    assert.equal(offer.sdp, fixture(c.file));
    assert.deepEqual(parseSdp(offer.sdp), offer.description);
  });
}

Deno.test("buildOffer() lists codecs in the given order with the PTs and fmtp it used", () => {
  const offer = buildOffer(OFFER_CASES[1].options);
  assert.deepEqual(offer.codecs, [
    { name: "opus", payloadType: 111, clockRate: 48000, fmtp: "minptime=10;useinbandfec=1" },
    { name: "G722", payloadType: 9, clockRate: 8000, fmtp: "" },
    { name: "PCMU", payloadType: 0, clockRate: 8000, fmtp: "" },
    { name: "PCMA", payloadType: 8, clockRate: 8000, fmtp: "" },
    { name: "AMR-WB", payloadType: 96, clockRate: 16000, fmtp: "octet-align=1" },
    { name: "AMR-NB", payloadType: 97, clockRate: 8000, fmtp: "octet-align=1" },
  ]);
  assert.deepEqual(offer.telephoneEvents, [
    { payloadType: 100, clockRate: 48000 },
    { payloadType: 101, clockRate: 8000 },
    { payloadType: 102, clockRate: 16000 },
  ]);
  assert.deepEqual(offer.text, { t140PayloadType: 99, redPayloadType: 98, redundancy: 2 });
});

Deno.test("buildOffer() drops repeated codecs and honours ptime and direction", () => {
  const offer = buildOffer({
    ...OFFER_BASE,
    codecs: ["PCMA", "PCMA", "PCMU"],
    ptime: 40,
    direction: "sendonly",
  });
  assert.deepEqual(offer.codecs.map((c) => c.name), ["PCMA", "PCMU"]);
  const m = offer.description.media[0];
  assert.deepEqual([m.ptime, m.direction], [40, "sendonly"]);
});

Deno.test("buildOffer() rejects options that would produce an unusable offer", () => {
  const bad = [
    { ...OFFER_BASE, codecs: [] },
    { ...OFFER_BASE, codecs: ["PCMU"], port: 0 },
    { ...OFFER_BASE, codecs: ["PCMU"], port: 65536 },
    { ...OFFER_BASE, codecs: ["PCMU"], address: "sip.example.com" },
    { ...OFFER_BASE, codecs: ["PCMU"], sessionVersion: -1 },
    { ...OFFER_BASE, codecs: ["G729" as "PCMU"] },
    { ...OFFER_BASE, codecs: ["PCMU"], rtt: { port: 0 } },
  ] as const;
  for (const opts of bad) {
    assert.throws(() => buildOffer(opts), RangeError, JSON.stringify(opts));
  }
  assert.throws(
    () => buildOffer({ ...OFFER_BASE, codecs: [] }),
    { name: "RangeError", message: "Cannot build SDP offer: no codecs to offer" },
  );
});

Deno.test("holdOffer() re-offers sendonly with the o= version incremented", () => {
  const offer = buildOffer(OFFER_CASES[0].options);
  const held = holdOffer(offer.description);
  assert.equal(held.sdp, fixture("our_offer_default_hold.sdp"));
  assert.equal(held.description.origin.sessionVersion, "1700000001");
  assert.equal(held.description.origin.sessionId, offer.description.origin.sessionId);
  const resumed = resumeOffer(held.description);
  assert.equal(resumed.sdp, fixture("our_offer_default_resume.sdp"));
  assert.equal(resumed.description.origin.sessionVersion, "1700000002");
});

Deno.test("holdOffer() turns recvonly into inactive and leaves refused streams alone", () => {
  const text =
    "v=0\r\no=- 7 9 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\na=recvonly\r\n" +
    "m=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 99\r\n";
  const held = holdOffer(parseSdp(text));
  assert.equal(held.description.direction, undefined);
  assert.deepEqual(held.description.media.map((m) => m.direction), ["inactive", undefined]);
  assert.equal(held.description.origin.sessionVersion, "10");
  assert.deepEqual(resumeOffer(held.description).description.media.map((m) => m.direction), [
    "sendrecv",
    undefined,
  ]);
});

Deno.test("holdOffer() holds the text stream with the audio", () => {
  const held = holdOffer(buildOffer(OFFER_CASES[1].options).description);
  assert.deepEqual(held.description.media.map((m) => m.direction), ["sendonly", "sendonly"]);
});

Deno.test("nextSessionVersion() counts past 2^53 without losing precision", () => {
  assert.equal(nextSessionVersion("0"), "1");
  assert.equal(nextSessionVersion("9007199254740993"), "9007199254740994");
  assert.equal(nextSessionVersion("18446744073709551615"), "18446744073709551616");
});

Deno.test("isHoldOffer() recognises sendonly, inactive and c=0.0.0.0 re-offers", () => {
  assert.equal(isHoldOffer(parseSdp(fixture("hold_sendonly_offer.sdp"))), true);
  assert.equal(isHoldOffer(parseSdp(fixture("hold_null_address_offer.sdp"))), true);
  const inactive = fixture("asterisk_offer.sdp").replace("a=sendrecv", "a=inactive");
  assert.equal(isHoldOffer(parseSdp(inactive)), true);
  assert.equal(isHoldOffer(parseSdp(fixture("asterisk_offer.sdp"))), false);
  const recvonly = fixture("asterisk_offer.sdp").replace("a=sendrecv", "a=recvonly");
  assert.equal(isHoldOffer(parseSdp(recvonly)), false);
});
