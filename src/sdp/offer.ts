/**
 * Our SDP offer for an outbound INVITE (RFC 3264 §5): one m=audio with every enabled codec in
 * preference order, RFC 4733 telephone-event at each codec clock, and an optional RFC 4103
 * m=text section when the call asks for real-time text.
 */

import { type AudioCodecName, codecByName, codecSpec, TELEPHONE_EVENT_PT } from "./codecs.ts";
import { type AmrVariant, formatAmrParameters } from "./fmtp.ts";
import {
  type AmrOptions,
  bareSection,
  checkPort,
  chooseAddress,
  DEFAULT_AMR,
  DEFAULT_PTIME,
  DEFAULT_TEXT_REDUNDANCY,
  localSession,
  rtpmapFor,
  type SdpNumber,
  textSection,
} from "./local_media.ts";
import { serializeSdp } from "./serialize.ts";
import type { Direction, Fmtp, MediaDescription, RtpMap, SessionDescription } from "./types.ts";

/** Options for {@link buildOffer}. */
export interface OfferOptions {
  /** Our media address (an IPv4 or IPv6 literal; the family follows from it). */
  readonly address: string;
  /** Our RTP port. */
  readonly port: number;
  /** Codecs to offer, most preferred first (SIP_CODECS ∩ the call's `codecs`). */
  readonly codecs: readonly AudioCodecName[];
  /** Offer RFC 4733 telephone-event (default true). */
  readonly telephoneEvent?: boolean;
  /** a=ptime to ask for, ms (default 20). */
  readonly ptime?: number;
  /** Our direction (default sendrecv). */
  readonly direction?: Direction;
  readonly sessionId: SdpNumber;
  readonly sessionVersion: SdpNumber;
  /** Offer RFC 5761 RTCP multiplexing (default true). */
  readonly rtcpMux?: boolean;
  /** Offer an RFC 4103 text stream on this port (the call's `rtt: true`). */
  readonly rtt?: { readonly port: number; readonly redundancy?: number };
  readonly amrWb?: AmrOptions;
  readonly amrNb?: AmrOptions;
}

/** One codec as our offer lists it. */
export interface OfferedFormat {
  readonly name: AudioCodecName;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly fmtp: string;
}

/** The offer we sent, kept until the answer arrives (see `parseAnswer`). */
export interface LocalOffer {
  readonly sdp: string;
  readonly description: SessionDescription;
  readonly codecs: readonly OfferedFormat[];
  readonly telephoneEvents: readonly { readonly payloadType: number; readonly clockRate: number }[];
  readonly text?: {
    readonly t140PayloadType: number;
    readonly redPayloadType: number;
    readonly redundancy: number;
  };
  readonly amr: Readonly<Record<AmrVariant, AmrOptions>>;
}

/** Builds the SDP offer for an outbound call. Throws `RangeError` on invalid options. */
export function buildOffer(opts: OfferOptions): LocalOffer {
  const { address, family } = chooseAddress(opts.address);
  const port = checkPort(opts.port, "audio port");
  const amr = {
    "AMR-WB": opts.amrWb ?? DEFAULT_AMR["AMR-WB"],
    "AMR-NB": opts.amrNb ?? DEFAULT_AMR["AMR-NB"],
  };
  const names = [...new Set(opts.codecs.map((c) => codecByName(c)?.name))];
  if (names.length === 0) throw new RangeError("Cannot build SDP offer: no codecs to offer");

  const codecs: OfferedFormat[] = [];
  const rtpmaps: RtpMap[] = [];
  const fmtps: Fmtp[] = [];
  for (const name of names) {
    const spec = name === undefined ? undefined : codecSpec(name);
    if (spec === undefined || spec.kind !== "audio") {
      throw new RangeError(
        `Cannot build SDP offer: unknown codec in ${JSON.stringify(opts.codecs)}`,
      );
    }
    const pt = spec.defaultPayloadType;
    const fmtp = spec.name === "AMR-WB" || spec.name === "AMR-NB"
      ? formatAmrParameters(amr[spec.name].octetAligned, amr[spec.name].modeSet ?? [])
      : spec.defaultFmtp ?? "";
    codecs.push({
      name: spec.name as AudioCodecName,
      payloadType: pt,
      clockRate: spec.clockRate,
      fmtp,
    });
    rtpmaps.push(rtpmapFor(spec, pt));
    if (fmtp !== "") fmtps.push({ format: `${pt}`, parameters: fmtp });
  }

  // RFC 4733 §2.1: events use the audio codec's clock, so offer one telephone-event per clock.
  const telephoneEvents: { payloadType: number; clockRate: number }[] = [];
  if (opts.telephoneEvent !== false) {
    const te = codecSpec("telephone-event");
    for (const clock of new Set(codecs.map((c) => c.clockRate))) {
      const pt = TELEPHONE_EVENT_PT[clock];
      telephoneEvents.push({ payloadType: pt, clockRate: clock });
      rtpmaps.push(rtpmapFor(te, pt, clock));
      fmtps.push({ format: `${pt}`, parameters: te.defaultFmtp! });
    }
  }

  const direction = opts.direction ?? "sendrecv";
  const formats = [
    ...codecs.map((c) => c.payloadType),
    ...telephoneEvents.map((t) => t.payloadType),
  ];
  const audio: MediaDescription = {
    ...bareSection("audio", port, "RTP/AVP", formats.map(String)),
    rtpmaps,
    fmtps,
    ptime: opts.ptime ?? DEFAULT_PTIME,
    direction,
    rtcpMux: opts.rtcpMux !== false,
  };
  const media = [audio];
  let text: LocalOffer["text"];
  if (opts.rtt) {
    text = {
      t140PayloadType: codecSpec("t140").defaultPayloadType,
      redPayloadType: codecSpec("red").defaultPayloadType,
      redundancy: opts.rtt.redundancy ?? DEFAULT_TEXT_REDUNDANCY,
    };
    media.push(
      textSection({
        port: checkPort(opts.rtt.port, "text port"),
        proto: "RTP/AVP",
        direction,
        ...text,
      }),
    );
  }
  const description = localSession({ ...opts, address, family }, media);
  const offer = { sdp: serializeSdp(description), description, codecs, telephoneEvents, amr };
  return text === undefined ? offer : { ...offer, text };
}
