import assert from "node:assert/strict";
import {
  AUDIO_CODECS,
  audioCodecName,
  codecByName,
  codecSpec,
  identifyFormat,
  pickTelephoneEvent,
} from "../../../src/sdp/codecs.ts";
import {
  clampAmrMode,
  formatAmrParameters,
  parseAmrParameters,
  parseFmtpParameters,
} from "../../../src/sdp/fmtp.ts";
import { parseSdp } from "../../../src/sdp/parse.ts";
import type { MediaDescription } from "../../../src/sdp/types.ts";

function section(mLine: string, ...attrs: string[]): MediaDescription {
  const text = ["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", mLine]
    .concat(attrs.map((a) => `a=${a}`))
    .join("\r\n");
  return parseSdp(text + "\r\n").media[0];
}

Deno.test("codecByName() matches any case and resolves AMR to AMR-NB (RFC 4867 §8.1)", () => {
  assert.equal(codecByName("pcmu")?.name, "PCMU");
  assert.equal(codecByName("Pcma")?.name, "PCMA");
  assert.equal(codecByName("g722")?.name, "G722");
  assert.equal(codecByName("OPUS")?.name, "opus");
  assert.equal(codecByName("amr-wb")?.name, "AMR-WB");
  assert.equal(codecByName("AMR-NB")?.name, "AMR-NB");
  assert.equal(codecByName("amr")?.name, "AMR-NB");
  assert.equal(codecByName(" AMR ")?.name, "AMR-NB");
  assert.equal(codecByName("Telephone-Event")?.name, "telephone-event");
  assert.equal(codecByName("T140")?.name, "t140");
  assert.equal(codecByName("RED")?.name, "red");
  assert.equal(codecByName("G729"), undefined);
  assert.equal(codecByName(""), undefined);
});

Deno.test("audioCodecName() accepts only speech codecs", () => {
  assert.deepEqual(AUDIO_CODECS.map((n) => audioCodecName(n.toLowerCase())), AUDIO_CODECS);
  assert.equal(audioCodecName("amr"), "AMR-NB");
  assert.equal(audioCodecName("telephone-event"), undefined);
  assert.equal(audioCodecName("t140"), undefined);
});

Deno.test("the catalogue carries RFC 3551 static PTs, our dynamic defaults and rtpmap spellings", () => {
  const row = (n: Parameters<typeof codecSpec>[0]) => {
    const s = codecSpec(n);
    return [
      s.encodingName,
      s.defaultPayloadType,
      s.clockRate,
      s.sampleRate,
      s.channels,
      s.defaultFmtp,
    ];
  };
  assert.deepEqual(row("PCMU"), ["PCMU", 0, 8000, 8000, undefined, undefined]);
  assert.deepEqual(row("PCMA"), ["PCMA", 8, 8000, 8000, undefined, undefined]);
  // RFC 3551 §4.5.2: G.722's RTP clock is 8000 although it samples at 16 kHz.
  assert.deepEqual(row("G722"), ["G722", 9, 8000, 16000, undefined, undefined]);
  assert.deepEqual(row("opus"), ["opus", 111, 48000, 48000, 2, "minptime=10;useinbandfec=1"]);
  assert.deepEqual(row("AMR-WB"), ["AMR-WB", 96, 16000, 16000, 1, undefined]);
  assert.deepEqual(row("AMR-NB"), ["AMR", 97, 8000, 8000, 1, undefined]);
  assert.deepEqual(row("telephone-event"), ["telephone-event", 101, 8000, 8000, undefined, "0-16"]);
  assert.deepEqual(row("t140"), ["t140", 99, 1000, 1000, undefined, undefined]);
  assert.deepEqual(row("red"), ["red", 98, 1000, 1000, undefined, undefined]);
  assert.equal(codecSpec("PCMU").staticPayloadType, 0);
  assert.equal(codecSpec("opus").staticPayloadType, undefined);
});

Deno.test("identifyFormat() knows static payload types without an rtpmap", () => {
  const m = section("m=audio 4000 RTP/AVP 0 8 9 18");
  assert.deepEqual(m.formats.map((f) => identifyFormat(m, f)?.spec.name), [
    "PCMU",
    "PCMA",
    "G722",
    undefined,
  ]);
  assert.equal(identifyFormat(m, "9")?.clockRate, 8000);
});

Deno.test("identifyFormat() matches dynamic formats by encoding name and clock rate", () => {
  const m = section(
    "m=audio 4000 RTP/AVP 96 97 98 99 100 101 102",
    "rtpmap:96 OPUS/48000/2",
    "rtpmap:97 opus/16000",
    "rtpmap:98 PCMU/8000",
    "rtpmap:99 G722/16000",
    "rtpmap:100 red/8000",
    "rtpmap:101 telephone-event/48000",
    "rtpmap:102 AMR/8000",
    "fmtp:102 octet-align=1",
  );
  const ids = m.formats.map((f) => identifyFormat(m, f));
  assert.deepEqual(ids.map((i) => i?.spec.name), [
    "opus",
    undefined, // opus only exists at 48000 (RFC 7587 §7)
    "PCMU", // a dynamic PT for a static codec is legal
    undefined, // the common G722/16000 mistake is not G.722 as RFC 3551 defines it
    undefined, // red on m=audio is audio redundancy, which we do not do
    "telephone-event",
    "AMR-NB",
  ]);
  assert.equal(ids[0]?.channels, 2);
  assert.equal(ids[5]?.clockRate, 48000);
  assert.equal(ids[6]?.fmtp, "octet-align=1");
});

Deno.test("identifyFormat() finds t140 and red only on m=text", () => {
  const m = section("m=text 4000 RTP/AVP 100 98 0", "rtpmap:98 t140/1000", "rtpmap:100 red/1000");
  assert.deepEqual(m.formats.map((f) => identifyFormat(m, f)?.spec.name), [
    "red",
    "t140",
    undefined,
  ]);
});

Deno.test("pickTelephoneEvent() prefers the codec's clock, then 8000, then the first", () => {
  const m = section(
    "m=audio 4000 RTP/AVP 96 110 111 112",
    "rtpmap:96 opus/48000/2",
    "rtpmap:110 telephone-event/16000",
    "rtpmap:111 telephone-event/8000",
    "rtpmap:112 telephone-event/48000",
  );
  assert.equal(pickTelephoneEvent(m, 48000)?.payloadType, 112);
  assert.equal(pickTelephoneEvent(m, 16000)?.payloadType, 110);
  assert.equal(pickTelephoneEvent(m, 32000)?.payloadType, 111);
  const only16k = section("m=audio 4000 RTP/AVP 0 110", "rtpmap:110 telephone-event/16000");
  assert.equal(pickTelephoneEvent(only16k, 8000)?.payloadType, 110);
  assert.equal(pickTelephoneEvent(section("m=audio 4000 RTP/AVP 0"), 8000), undefined);
});

Deno.test("parseFmtpParameters() splits key=value lists with or without spaces", () => {
  assert.deepEqual(
    [...parseFmtpParameters("mode-set=0,1,2; Octet-Align=1;max-red=0 ;flag")],
    [["mode-set", "0,1,2"], ["octet-align", "1"], ["max-red", "0"], ["flag", ""]],
  );
  assert.deepEqual([...parseFmtpParameters("")], []);
});

Deno.test("parseAmrParameters() reads framing and mode-set, dropping out-of-range modes", () => {
  assert.deepEqual(parseAmrParameters("AMR-WB", "mode-set=2,0,1;octet-align=1"), {
    octetAligned: true,
    modeSet: [0, 1, 2],
    supported: true,
  });
  assert.deepEqual(parseAmrParameters("AMR-NB", "mode-set=0,4,7,8").modeSet, [0, 4, 7]);
  assert.deepEqual(parseAmrParameters("AMR-WB", "mode-set=0,4,7,8").modeSet, [0, 4, 7, 8]);
  assert.equal(parseAmrParameters("AMR-NB", "octet-align=0").octetAligned, false);
  assert.equal(parseAmrParameters("AMR-NB", "").octetAligned, false);
  assert.deepEqual(parseAmrParameters("AMR-NB", "").modeSet, []);
});

Deno.test("parseAmrParameters() marks CRC, robust sorting, interleaving and stereo as unsupported", () => {
  assert.equal(parseAmrParameters("AMR-WB", "octet-align=1;crc=1").supported, false);
  assert.equal(parseAmrParameters("AMR-WB", "octet-align=1;robust-sorting=1").supported, false);
  assert.equal(parseAmrParameters("AMR-WB", "octet-align=1;interleaving=4").supported, false);
  assert.equal(parseAmrParameters("AMR-WB", "octet-align=1", 2).supported, false);
  assert.equal(parseAmrParameters("AMR-WB", "octet-align=1;crc=0").supported, true);
});

Deno.test("clampAmrMode() keeps the ceiling inside the peer's mode-set", () => {
  assert.equal(clampAmrMode("AMR-WB", 8, [0, 1, 2]), 2);
  assert.equal(clampAmrMode("AMR-WB", 2, [0, 1, 2, 8]), 2);
  assert.equal(clampAmrMode("AMR-WB", 1, [3, 4]), 3);
  assert.equal(clampAmrMode("AMR-WB", 8, []), 8);
  assert.equal(clampAmrMode("AMR-NB", 5, [0, 2, 7]), 2);
  assert.equal(clampAmrMode("AMR-NB", 12, []), 7);
  assert.equal(clampAmrMode("AMR-NB", -3, []), 0);
});

Deno.test("formatAmrParameters() writes only what differs from the RFC 4867 defaults", () => {
  assert.equal(formatAmrParameters(true, [0, 1, 2]), "octet-align=1; mode-set=0,1,2");
  assert.equal(formatAmrParameters(true, []), "octet-align=1");
  assert.equal(formatAmrParameters(false, [2]), "mode-set=2");
  assert.equal(formatAmrParameters(false, []), "");
});
