import assert from "node:assert/strict";
import { offeredCodecs } from "../../../src/sdp/offered_codecs.ts";
import { SdpParseError } from "../../../src/sdp/parse.ts";
import { fixture } from "./_golden_cases.ts";

Deno.test("offeredCodecs() lists known audio codecs in offer order with 1-based priority", () => {
  assert.deepEqual(offeredCodecs(fixture("linphone_offer.sdp")), [
    { name: "opus", payload_type: 96, clock_rate: 48000, priority: 1 },
    { name: "G722", payload_type: 9, clock_rate: 8000, priority: 2 },
    { name: "PCMU", payload_type: 0, clock_rate: 8000, priority: 3 },
    { name: "PCMA", payload_type: 8, clock_rate: 8000, priority: 4 },
  ]);
});

Deno.test("offeredCodecs() lists each codec once, at its first payload type", () => {
  assert.deepEqual(offeredCodecs(fixture("amrwb_offer.sdp")), [
    { name: "AMR-WB", payload_type: 116, clock_rate: 16000, priority: 1 },
    { name: "AMR-NB", payload_type: 118, clock_rate: 8000, priority: 2 },
  ]);
});

Deno.test("offeredCodecs() can be limited to the allowed codecs, renumbering priority", () => {
  assert.deepEqual(offeredCodecs(fixture("baresip_offer.sdp"), ["PCMA", "PCMU"]), [
    { name: "PCMU", payload_type: 0, clock_rate: 8000, priority: 1 },
    { name: "PCMA", payload_type: 8, clock_rate: 8000, priority: 2 },
  ]);
});

Deno.test("offeredCodecs() is empty for an offer with no codec we know or no live audio", () => {
  assert.deepEqual(offeredCodecs(fixture("no_common_codec_offer.sdp")), []);
  const disabled = fixture("asterisk_offer.sdp").replace("m=audio 16384", "m=audio 0");
  assert.deepEqual(offeredCodecs(disabled), []);
});

Deno.test("offeredCodecs() throws SdpParseError for unparseable text", () => {
  assert.throws(() => offeredCodecs("garbage"), SdpParseError);
});
