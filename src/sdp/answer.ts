/**
 * Answering an inbound offer (RFC 3264 §6): pick one audio codec — the first in the *offer's*
 * order that we allow, unless the application named one — echo the offerer's payload type
 * numbers, keep telephone-event, mirror the direction, accept a text stream when asked, and
 * refuse every other m= section with port 0. Never throws on bad offers; returns a failure.
 */

import {
  type AudioCodecName,
  type IdentifiedFormat,
  identifyFormat,
  pickTelephoneEvent,
} from "./codecs.ts";
import { answerDirection, effectiveDirection, isRemoteHold } from "./direction.ts";
import { isPlainRtp, remoteEndpoint } from "./endpoint.ts";
import { type AmrVariant, clampAmrMode, formatAmrParameters, parseAmrParameters } from "./fmtp.ts";
import {
  type AmrOptions,
  bareSection,
  checkPort,
  chooseAddress,
  DEFAULT_AMR,
  DEFAULT_PTIME,
  DEFAULT_TEXT_REDUNDANCY,
  type LocalAddresses,
  localSession,
  rejectedSection,
  rtpmapFor,
  type SdpNumber,
  textSection,
} from "./local_media.ts";
import {
  codecOf,
  failure,
  type NegotiatedCodec,
  type NegotiatedText,
  type NegotiationFailure,
  type NegotiationResult,
} from "./negotiated.ts";
import { parseSdp, SdpParseError } from "./parse.ts";
import { serializeSdp } from "./serialize.ts";
import type { Direction, MediaDescription, SessionDescription } from "./types.ts";

/** Options for {@link answerOffer}. */
export interface AnswerOptions {
  /** Codecs we may accept, in our preference order (SIP_CODECS ∩ the call's codecs). */
  readonly allowed: readonly AudioCodecName[];
  /** The application's choice (`codec` on answer / early-media); must be offered and allowed. */
  readonly preferred?: AudioCodecName;
  /** Our media address, or one per family to answer in the offer's own family. */
  readonly address: string | LocalAddresses;
  /** Our RTP port. */
  readonly port: number;
  readonly sessionId: SdpNumber;
  readonly sessionVersion: SdpNumber;
  /** What we want to do (default sendrecv; sendonly while we hold the call). */
  readonly direction?: Direction;
  /** Accept telephone-event when offered (default true). */
  readonly telephoneEvent?: boolean;
  /** a=ptime we ask for, ms (default 20). */
  readonly ptime?: number;
  /** Echo an offered a=rtcp-mux (default true). */
  readonly rtcpMux?: boolean;
  /** Accept an offered m=text on this port; without it the text stream is refused. */
  readonly text?: { readonly port: number; readonly redundancy?: number };
  readonly amrWb?: AmrOptions;
  readonly amrNb?: AmrOptions;
}

/** Answers `offer` (SDP text or a parsed description). */
export function answerOffer(
  offer: string | SessionDescription,
  opts: AnswerOptions,
): NegotiationResult {
  let sd: SessionDescription;
  try {
    sd = typeof offer === "string" ? parseSdp(offer) : offer;
  } catch (e) {
    if (e instanceof SdpParseError) return failure("invalid_sdp", e.message, 400);
    throw e;
  }
  if (opts.preferred !== undefined && !opts.allowed.includes(opts.preferred)) {
    return failure("codec_not_allowed", `codec ${opts.preferred} is not enabled`);
  }

  const pick = pickAudio(sd, opts);
  if (!pick.ok) return pick;
  const { index, m, format } = pick;
  const codec = negotiatedCodec(format, opts);
  const te = opts.telephoneEvent === false ? undefined : pickTelephoneEvent(m, codec.clockRate);
  const rtcpMux = m.rtcpMux && opts.rtcpMux !== false;
  const remoteDirection = effectiveDirection(sd, m);
  const direction = answerDirection(remoteDirection, opts.direction);
  const offerFamily = (m.connection ?? sd.connection)?.family;
  const { address, family } = chooseAddress(opts.address, offerFamily);

  const audio: MediaDescription = {
    ...bareSection("audio", checkPort(opts.port, "audio port"), m.proto, [
      `${codec.payloadType}`,
      ...(te ? [`${te.payloadType}`] : []),
    ]),
    rtpmaps: [
      rtpmapFor(format.spec, codec.payloadType),
      ...(te ? [rtpmapFor(te.spec, te.payloadType, te.clockRate)] : []),
    ],
    fmtps: [
      ...(codec.fmtp === "" ? [] : [{ format: `${codec.payloadType}`, parameters: codec.fmtp }]),
      ...(te ? [{ format: `${te.payloadType}`, parameters: te.spec.defaultFmtp! }] : []),
    ],
    ptime: opts.ptime ?? DEFAULT_PTIME,
    direction,
    rtcpMux,
  };

  let text: NegotiatedText | undefined;
  const media = sd.media.map((offered, i): MediaDescription => {
    if (i === index) return audio;
    if (text === undefined && opts.text !== undefined) {
      const accepted = acceptText(sd, offered, opts.text, opts.direction);
      if (accepted) {
        text = accepted.negotiated;
        return accepted.section;
      }
    }
    return rejectedSection(offered);
  });

  const description = localSession({ ...opts, address, family }, media);
  return {
    ok: true,
    sdp: serializeSdp(description),
    description,
    codec,
    remote: remoteEndpoint(sd, m, rtcpMux),
    rtcpMux,
    direction,
    remoteDirection,
    remoteHold: isRemoteHold(sd, m),
    ptime: m.ptime ?? DEFAULT_PTIME,
    ...(m.maxptime === undefined ? {} : { maxptime: m.maxptime }),
    ...(te ? { telephoneEventPt: te.payloadType, telephoneEventClockRate: te.clockRate } : {}),
    ...(text ? { text } : {}),
  };
}

type AudioPick =
  | { ok: true; index: number; m: MediaDescription; format: IdentifiedFormat }
  | NegotiationFailure;

/** The first usable audio section and, in it, the codec: preferred, else first offered allowed. */
function pickAudio(sd: SessionDescription, opts: AnswerOptions): AudioPick {
  const offeredNames: string[] = [];
  let usableAudio = false;
  let unsupportedProto: string | undefined;
  for (let index = 0; index < sd.media.length; index++) {
    const m = sd.media[index];
    if (m.media !== "audio" || m.port === 0) continue;
    if (!isPlainRtp(m.proto)) {
      unsupportedProto ??= m.proto;
      continue;
    }
    usableAudio = true;
    const formats = m.formats.map((f) => identifyFormat(m, f)).filter((f) =>
      f?.spec.kind === "audio"
    ) as IdentifiedFormat[];
    for (const f of formats) {
      if (!offeredNames.includes(f.spec.name)) offeredNames.push(f.spec.name);
    }
    const acceptable = formats.filter((f) =>
      opts.allowed.includes(f.spec.name as AudioCodecName) && amrAcceptable(f)
    );
    const format = opts.preferred === undefined
      ? acceptable[0]
      : acceptable.find((f) => f.spec.name === opts.preferred);
    if (format) return { ok: true, index, m, format };
  }
  if (!usableAudio) {
    const why = unsupportedProto ? ` (${unsupportedProto} is not supported)` : "";
    return failure("no_audio", `offer has no usable audio stream${why}`, 488);
  }
  if (opts.preferred !== undefined && !offeredNames.includes(opts.preferred)) {
    return failure("codec_not_offered", `codec ${opts.preferred} is not in the offer`, 488);
  }
  const offered = offeredNames.length > 0 ? offeredNames.join(", ") : "none we know";
  return failure(
    "no_common_codec",
    `no common codec: offered ${offered}; allowed ${opts.allowed.join(", ") || "none"}`,
    488,
  );
}

function amrAcceptable(f: IdentifiedFormat): boolean {
  if (f.spec.name !== "AMR-WB" && f.spec.name !== "AMR-NB") return true;
  return parseAmrParameters(f.spec.name, f.fmtp, f.channels ?? 1).supported;
}

/** The codec as our answer states it: opus with our fmtp, AMR echoing framing and mode-set. */
function negotiatedCodec(f: IdentifiedFormat, opts: AnswerOptions): NegotiatedCodec {
  const base = codecOf(f);
  if (f.spec.name === "AMR-WB" || f.spec.name === "AMR-NB") {
    const variant: AmrVariant = f.spec.name;
    const cfg = (variant === "AMR-WB" ? opts.amrWb : opts.amrNb) ?? DEFAULT_AMR[variant];
    const peer = parseAmrParameters(variant, f.fmtp);
    const amr = {
      octetAligned: peer.octetAligned,
      modeSet: peer.modeSet,
      mode: clampAmrMode(variant, cfg.mode, peer.modeSet),
    };
    return { ...base, fmtp: formatAmrParameters(amr.octetAligned, amr.modeSet), amr };
  }
  return { ...base, fmtp: f.spec.defaultFmtp ?? "" };
}

/**
 * Whether `offer` carries a live RFC 4103 text stream we could accept (plain RTP with a t140
 * format) — the SIP layer allocates a text port and passes `text` to `answerOffer` when so.
 */
export function offersText(offer: SessionDescription): boolean {
  return offer.media.some((m) =>
    m.media === "text" && m.port !== 0 && isPlainRtp(m.proto) &&
    m.formats.some((f) => identifyFormat(m, f)?.spec.name === "t140")
  );
}

/** Accepts an offered RFC 4103 text section, or returns undefined to have it refused. */
function acceptText(
  sd: SessionDescription,
  m: MediaDescription,
  local: NonNullable<AnswerOptions["text"]>,
  localDirection: Direction | undefined,
): { section: MediaDescription; negotiated: NegotiatedText } | undefined {
  if (m.media !== "text" || m.port === 0 || !isPlainRtp(m.proto)) return undefined;
  const formats = m.formats.map((f) => identifyFormat(m, f));
  const t140 = formats.find((f) => f?.spec.name === "t140");
  if (t140 === undefined) return undefined;
  const red = formats.find((f) => f?.spec.name === "red");
  const redundancy = red ? local.redundancy ?? DEFAULT_TEXT_REDUNDANCY : 0;
  const direction = answerDirection(effectiveDirection(sd, m), localDirection);
  const negotiated: NegotiatedText = {
    t140PayloadType: t140.payloadType,
    ...(red ? { redPayloadType: red.payloadType } : {}),
    redundancy,
    remote: remoteEndpoint(sd, m, false),
    direction,
  };
  const section = textSection({
    port: checkPort(local.port, "text port"),
    proto: m.proto,
    t140PayloadType: t140.payloadType,
    redPayloadType: red?.payloadType,
    redundancy,
    direction,
  });
  return { section, negotiated };
}
