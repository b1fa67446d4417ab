/**
 * Reading the answer to our own offer (RFC 3264 §6, §7): the answer must keep our m= lines in
 * order, may refuse a stream with port 0, and must choose among the codecs we offered. The
 * answerer's first format is its preference (§6.1); its payload type numbers are the ones it
 * expects to receive, so they are what we send with.
 */

import { type IdentifiedFormat, identifyFormat, pickTelephoneEvent } from "./codecs.ts";
import {
  answerDirection,
  declaredDirection,
  effectiveDirection,
  isRemoteHold,
} from "./direction.ts";
import { remoteEndpoint } from "./endpoint.ts";
import { type AmrVariant, clampAmrMode, parseAmrParameters } from "./fmtp.ts";
import { DEFAULT_PTIME } from "./local_media.ts";
import {
  codecOf,
  failure,
  type NegotiatedCodec,
  type NegotiatedText,
  type NegotiationResult,
} from "./negotiated.ts";
import type { LocalOffer } from "./offer.ts";
import { parseSdp, SdpParseError } from "./parse.ts";
import type { MediaDescription, SessionDescription } from "./types.ts";

/** Validates the answer (SDP text or parsed) to `offer` and extracts what was agreed. */
export function parseAnswer(
  offer: LocalOffer,
  answer: string | SessionDescription,
): NegotiationResult {
  let sd: SessionDescription;
  try {
    sd = typeof answer === "string" ? parseSdp(answer) : answer;
  } catch (e) {
    if (e instanceof SdpParseError) return failure("invalid_sdp", e.message);
    throw e;
  }
  const ours = offer.description;
  if (sd.media.length !== ours.media.length) {
    return failure(
      "media_mismatch",
      `answer has ${sd.media.length} m= lines, the offer had ${ours.media.length}`,
    );
  }
  for (let i = 0; i < sd.media.length; i++) {
    if (sd.media[i].media !== ours.media[i].media) {
      return failure(
        "media_mismatch",
        `answer m= line ${i + 1} is ${sd.media[i].media}, the offer's is ${ours.media[i].media}`,
      );
    }
  }
  const audioIndex = ours.media.findIndex((m) => m.media === "audio");
  const m = sd.media[audioIndex];
  const local = ours.media[audioIndex];
  if (m.port === 0) return failure("rejected", "answer rejected the audio stream");

  const format = m.formats
    .map((f) => identifyFormat(m, f))
    .find((f) => f?.spec.kind === "audio" && offer.codecs.some((c) => c.name === f.spec.name));
  if (format === undefined) {
    return failure(
      "codec_not_offered",
      `answer chose no codec we offered (answer formats ${m.formats.join(" ")})`,
    );
  }
  const codec = answeredCodec(offer, format);
  const te = offer.telephoneEvents.length === 0
    ? undefined
    : pickTelephoneEvent(m, codec.clockRate);
  const rtcpMux = local.rtcpMux && m.rtcpMux;
  const remoteDirection = effectiveDirection(sd, m);
  const text = answeredText(offer, sd);
  return {
    ok: true,
    sdp: offer.sdp,
    description: ours,
    codec,
    remote: remoteEndpoint(sd, m, rtcpMux),
    rtcpMux,
    direction: answerDirection(remoteDirection, declaredDirection(ours, local)),
    remoteDirection,
    remoteHold: isRemoteHold(sd, m),
    ptime: m.ptime ?? DEFAULT_PTIME,
    ...(m.maxptime === undefined ? {} : { maxptime: m.maxptime }),
    ...(te ? { telephoneEventPt: te.payloadType, telephoneEventClockRate: te.clockRate } : {}),
    ...(text ? { text } : {}),
  };
}

/** The codec as answered; AMR takes the answer's framing and mode-set (ours when it has none). */
function answeredCodec(offer: LocalOffer, f: IdentifiedFormat): NegotiatedCodec {
  const base = { ...codecOf(f), fmtp: f.fmtp };
  if (f.spec.name !== "AMR-WB" && f.spec.name !== "AMR-NB") return base;
  const variant: AmrVariant = f.spec.name;
  const cfg = offer.amr[variant];
  const peer = parseAmrParameters(variant, f.fmtp);
  const modeSet = peer.modeSet.length > 0 ? peer.modeSet : [...(cfg.modeSet ?? [])];
  return {
    ...base,
    amr: {
      octetAligned: peer.octetAligned,
      modeSet,
      mode: clampAmrMode(variant, cfg.mode, modeSet),
    },
  };
}

/** The text stream, when we offered one and the answer kept it with a t140 format. */
function answeredText(offer: LocalOffer, sd: SessionDescription): NegotiatedText | undefined {
  if (offer.text === undefined) return undefined;
  const index = offer.description.media.findIndex((x) => x.media === "text");
  const m: MediaDescription = sd.media[index];
  if (m.port === 0) return undefined;
  const formats = m.formats.map((f) => identifyFormat(m, f));
  const t140 = formats.find((f) => f?.spec.name === "t140");
  if (t140 === undefined) return undefined;
  const red = formats.find((f) => f?.spec.name === "red");
  const local = offer.description.media[index];
  return {
    t140PayloadType: t140.payloadType,
    ...(red ? { redPayloadType: red.payloadType } : {}),
    redundancy: red ? offer.text.redundancy : 0,
    remote: remoteEndpoint(sd, m, false),
    direction: answerDirection(
      effectiveDirection(sd, m),
      declaredDirection(offer.description, local),
    ),
  };
}
