import assert from "node:assert/strict";
import {
  type AudioCodec,
  createCodec,
  createG722Codec,
  createPcmaCodec,
  createPcmuCodec,
} from "../../../src/codecs/codec.ts";

Deno.test("createCodec() knows PCMU, PCMA and G722 by SDP name, case-insensitively", () => {
  assert.equal(createCodec("pcmu")?.name, "PCMU");
  assert.equal(createCodec("PCMA")?.name, "PCMA");
  assert.equal(createCodec("g722")?.name, "G722");
  assert.equal(createCodec("opus"), null);
});

Deno.test("codec descriptors follow RFC 3551: G.722 is 16 kHz audio on an 8000 Hz RTP clock", () => {
  const facts = (c: AudioCodec) => [c.payloadType, c.clockRate, c.sampleRate, c.frameSamples];
  assert.deepEqual(facts(createPcmuCodec()), [0, 8000, 8000, 160]);
  assert.deepEqual(facts(createPcmaCodec()), [8, 8000, 8000, 160]);
  assert.deepEqual(facts(createG722Codec()), [9, 8000, 16000, 320]);
});

Deno.test("every codec turns one 20 ms frame into 160 octets and back", () => {
  for (const codec of [createPcmuCodec(), createPcmaCodec(), createG722Codec()]) {
    const pcm = new Int16Array(codec.frameSamples);
    for (let i = 0; i < pcm.length; i++) {
      pcm[i] = Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / codec.sampleRate));
    }
    const payload = new Uint8Array(160);
    const out = new Int16Array(codec.frameSamples);
    for (let f = 0; f < 5; f++) { // a few frames so the ADPCM settles
      assert.equal(codec.encode(pcm, payload), 160, codec.name);
      assert.equal(codec.decode(payload, out), codec.frameSamples, codec.name);
    }
    let energy = 0;
    for (const v of out) energy += v * v;
    assert.ok(Math.sqrt(energy / out.length) > 3000, `${codec.name} output level`);
  }
});

Deno.test("createG722Codec() instances keep separate state", () => {
  const a = createG722Codec();
  const b = createG722Codec();
  const pcm = new Int16Array(320).map((_, i) => (i % 40) * 500);
  const pa = new Uint8Array(160);
  const pb = new Uint8Array(160);
  a.encode(pcm, pa);
  a.encode(pcm, pa); // a's second frame
  b.encode(pcm, pb); // b's first frame
  const first = new Uint8Array(160);
  createG722Codec().encode(pcm, first);
  assert.deepEqual(pb, first);
  assert.notDeepEqual(pa, first);
});
