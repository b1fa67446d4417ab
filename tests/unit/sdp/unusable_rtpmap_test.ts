import assert from "node:assert/strict";
import { identifyFormat } from "../../../src/sdp/codecs.ts";
import { answerOffer, type NegotiationResult } from "../../../src/sdp/negotiate.ts";
import { offeredCodecs } from "../../../src/sdp/offered_codecs.ts";
import { parseSdp } from "../../../src/sdp/parse.ts";
import { serializeSdp } from "../../../src/sdp/serialize.ts";
import { ANSWER_BASE } from "./_golden_cases.ts";

/** The offer of RFC 4475 §3.1.1.3 (esc01) and §3.1.1.7 (longreq): PCMU, plus LPC without a rate. */
const ESC01 = [
  "v=0",
  "o=mhandley 29739 7272939 IN IP4 192.0.2.1",
  "s=-",
  "c=IN IP4 192.0.2.1",
  "t=0 0",
  "m=audio 49217 RTP/AVP 0 12",
  "m=video 3227 RTP/AVP 31",
  "a=rtpmap:31 LPC",
  "",
].join("\r\n");

/** An audio offer of PCMU and opus whose last line is `rtpmap`. */
function audioOffer(rtpmap: string): string {
  return [
    "v=0",
    "o=- 1 1 IN IP4 192.0.2.1",
    "s=-",
    "c=IN IP4 192.0.2.1",
    "t=0 0",
    "m=audio 4000 RTP/AVP 96 0",
    "a=rtpmap:96 opus/48000/2",
    rtpmap,
    "",
  ].join("\r\n");
}

function answer(offer: string): NegotiationResult {
  return answerOffer(offer, { ...ANSWER_BASE, allowed: ["PCMU", "opus"] });
}

Deno.test("parseSdp() keeps esc01's rate-less a=rtpmap:31 LPC as a plain attribute", () => {
  const sd = parseSdp(ESC01);
  assert.deepEqual(sd.media.map((m) => m.media), ["audio", "video"]);
  assert.deepEqual(sd.media[1].rtpmaps, []);
  assert.deepEqual(sd.media[1].attributes, [{ name: "rtpmap", value: "31 LPC" }]);
  assert.equal(identifyFormat(sd.media[1], "31"), undefined);
  // Serialized back, it reads the same.
  assert.deepEqual(parseSdp(serializeSdp(sd)), sd);
});

Deno.test("answerOffer() takes PCMU from the esc01 offer and refuses its video stream", () => {
  const r = answer(ESC01);
  assert.ok(r.ok, !r.ok ? r.message : "");
  assert.equal(r.codec.name, "PCMU");
  const media = parseSdp(r.sdp).media;
  assert.deepEqual(media.map((m) => `${m.media} ${m.port === 0 ? 0 : "live"}`), [
    "audio live",
    "video 0",
  ]);
  assert.deepEqual(offeredCodecs(ESC01).map((c) => c.name), ["PCMU"]);
});

for (
  const [what, line] of [
    ["without a clock rate", "a=rtpmap:0 PCMU"],
    ["with a clock rate of 0", "a=rtpmap:0 PCMU/0"],
    ["with 0 channels", "a=rtpmap:0 PCMU/8000/0"],
    ["without a value", "a=rtpmap"],
    ["for a payload type the m= line does not list", "a=rtpmap:8 PCMA/8000"],
    ["naming a payload type twice", "a=rtpmap:96 opus/48000"],
  ] as const
) {
  Deno.test(`parseSdp() keeps an rtpmap ${what} as a plain attribute`, () => {
    const sd = parseSdp(audioOffer(line));
    const m = sd.media[0];
    assert.deepEqual(m.rtpmaps, [{
      payloadType: 96,
      encodingName: "opus",
      clockRate: 48000,
      channels: 2,
    }]);
    const colon = line.indexOf(":");
    assert.deepEqual(
      m.attributes,
      [colon < 0 ? { name: "rtpmap" } : { name: "rtpmap", value: line.slice(colon + 1) }],
    );
    assert.deepEqual(parseSdp(serializeSdp(sd)), sd);
  });
}

Deno.test("identifyFormat() gives no static codec for a PT remapped unreadably", () => {
  const m = parseSdp(audioOffer("a=rtpmap:0 PCMU")).media[0];
  assert.equal(identifyFormat(m, "0"), undefined);
  assert.equal(identifyFormat(m, "96")?.spec.name, "opus");
  // Without any rtpmap, PT 0 is PCMU by RFC 3551.
  const bare = parseSdp(audioOffer("a=ptime:20")).media[0];
  assert.equal(identifyFormat(bare, "0")?.spec.name, "PCMU");
});

Deno.test("identifyFormat() treats a payload type with two rtpmaps as unknown", () => {
  const m = parseSdp(audioOffer("a=rtpmap:96 opus/48000")).media[0];
  assert.equal(identifyFormat(m, "96"), undefined);
  assert.equal(identifyFormat(m, "0")?.spec.name, "PCMU");
});

Deno.test("answerOffer() skips a codec with an unusable rtpmap and takes the next one", () => {
  const offer = audioOffer("a=ptime:20").replace("a=rtpmap:96 opus/48000/2", "a=rtpmap:96 opus");
  assert.deepEqual(answer(audioOffer("a=ptime:20")).ok && "opus", "opus", "opus when readable");
  const r = answer(offer);
  assert.ok(r.ok, !r.ok ? r.message : "");
  assert.equal(r.codec.name, "PCMU");
});

Deno.test("answerOffer() still refuses with 488 an audio stream left with no usable codec", () => {
  const offer = [
    "v=0",
    "o=- 1 1 IN IP4 192.0.2.1",
    "s=-",
    "c=IN IP4 192.0.2.1",
    "t=0 0",
    "m=audio 4000 RTP/AVP 0",
    "a=rtpmap:0 PCMU",
    "m=video 4002 RTP/AVP 31",
    "a=rtpmap:31 H261/90000",
    "",
  ].join("\r\n");
  const r = answer(offer);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.sipStatus, 488);
  assert.equal(!r.ok && r.reason, "no_common_codec");
});
