/**
 * Session descriptions for SIP legs: the RFC 8866 model, parser and serializer, our codec
 * catalogue, offer/answer negotiation and the `offered_codecs` event field.
 */

export * from "./types.ts";
export { MAX_PACKET_TIME_MS, parseSdp, SdpParseError } from "./parse.ts";
export { serializeSdp } from "./serialize.ts";
export {
  AUDIO_CODECS,
  type AudioCodecName,
  audioCodecName,
  codecByName,
  type CodecName,
  type CodecSpec,
  codecSpec,
  type IdentifiedFormat,
  identifyFormat,
} from "./codecs.ts";
export {
  type AmrParameters,
  type AmrVariant,
  clampAmrMode,
  parseAmrParameters,
  parseFmtpParameters,
} from "./fmtp.ts";
export * from "./negotiate.ts";
export { type OfferedCodec, offeredCodecs } from "./offered_codecs.ts";
