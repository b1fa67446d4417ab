/**
 * The codec interface media workers use, and factories for the built-in
 * TypeScript codecs (PCMU, PCMA, G.722). Opus and AMR live behind the same
 * interface in their adapter modules.
 *
 * @module
 */

import { alawDecode, alawEncode, ulawDecode, ulawEncode } from "./g711.ts";
import { G722Decoder, G722Encoder } from "./g722.ts";

/**
 * One codec instance: stateful for ADPCM codecs, so create one per leg. Frames
 * are 20 ms. `encode` and `decode` process as much of their input as fits the
 * output and return the octets / samples written; they never allocate.
 */
export interface AudioCodec {
  /** SDP encoding name (RFC 3551 §6): "PCMU", "PCMA", "G722". */
  readonly name: string;
  /** Static RTP payload type (RFC 3551 §6, Table 4). */
  readonly payloadType: number;
  /** RTP timestamp clock rate (8000 for G.722 too, RFC 3551 §4.5.2). */
  readonly clockRate: number;
  /** PCM sample rate the codec consumes and produces. */
  readonly sampleRate: number;
  /** PCM samples per 20 ms frame at `sampleRate`. */
  readonly frameSamples: number;
  /** Encodes PCM samples; returns the payload octets written. */
  encode(pcm: Int16Array, out: Uint8Array): number;
  /** Decodes a payload; returns the PCM samples written. */
  decode(payload: Uint8Array, out: Int16Array): number;
}

/** RFC 3551 §4.5.14: PCMU, 8 kHz µ-law, PT 0. */
export function createPcmuCodec(): AudioCodec {
  return {
    name: "PCMU",
    payloadType: 0,
    clockRate: 8000,
    sampleRate: 8000,
    frameSamples: 160,
    encode: (pcm, out) => ulawEncode(pcm, out),
    decode: (payload, out) => ulawDecode(payload, out),
  };
}

/** RFC 3551 §4.5.14: PCMA, 8 kHz A-law, PT 8. */
export function createPcmaCodec(): AudioCodec {
  return {
    name: "PCMA",
    payloadType: 8,
    clockRate: 8000,
    sampleRate: 8000,
    frameSamples: 160,
    encode: (pcm, out) => alawEncode(pcm, out),
    decode: (payload, out) => alawDecode(payload, out),
  };
}

/**
 * RFC 3551 §4.5.2: G.722, PT 9. Audio is 16 kHz (320 samples ↔ 160 octets per
 * 20 ms) but the RTP clock rate is 8000, so each 20 ms packet advances the RTP
 * timestamp by 160, not 320. Holds encoder and decoder state.
 */
export function createG722Codec(): AudioCodec {
  const encoder = new G722Encoder();
  const decoder = new G722Decoder();
  return {
    name: "G722",
    payloadType: 9,
    clockRate: 8000,
    sampleRate: 16000,
    frameSamples: 320,
    encode: (pcm, out) => encoder.encode(pcm, out),
    decode: (payload, out) => decoder.decode(payload, out),
  };
}

/** A new instance of the named codec (case-insensitive SDP name), or null if unknown. */
export function createCodec(name: string): AudioCodec | null {
  switch (name.toUpperCase()) {
    case "PCMU":
      return createPcmuCodec();
    case "PCMA":
      return createPcmaCodec();
    case "G722":
      return createG722Codec();
    default:
      return null;
  }
}
