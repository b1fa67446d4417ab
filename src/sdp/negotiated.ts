/**
 * What offer/answer settles on, shared by answering an inbound offer and reading the answer to
 * our own offer, and the typed failures either can end in.
 */

import type { AudioCodecName, IdentifiedFormat } from "./codecs.ts";
import type { RemoteEndpoint } from "./endpoint.ts";
import type { Direction, SessionDescription } from "./types.ts";

/** AMR framing and rate settled for the call (RFC 4867 §8.1). */
export interface NegotiatedAmr {
  readonly octetAligned: boolean;
  /** The peer's mode-set, ascending; empty means every mode. */
  readonly modeSet: readonly number[];
  /** The mode our encoder sends: the configured ceiling clamped into `modeSet`. */
  readonly mode: number;
}

/** The one audio codec both sides use. */
export interface NegotiatedCodec {
  readonly name: AudioCodecName;
  /** The payload type on the wire (the offerer's number, echoed by the answer). */
  readonly payloadType: number;
  /** RTP timestamp clock (8000 for G.722, RFC 3551 §4.5.2). */
  readonly clockRate: number;
  /** The rate the codec's audio is sampled at (16000 for G.722). */
  readonly sampleRate: number;
  readonly channels?: number;
  /** The fmtp parameters of the negotiated format as the answer states them ("" for none). */
  readonly fmtp: string;
  /** Present for AMR-WB and AMR-NB. */
  readonly amr?: NegotiatedAmr;
}

/** A negotiated RFC 4103 real-time text stream. */
export interface NegotiatedText {
  readonly t140PayloadType: number;
  /** RFC 2198 redundancy payload type, when both sides use it. */
  readonly redPayloadType?: number;
  /** Redundant generations we send per packet (0 without red). */
  readonly redundancy: number;
  readonly remote: RemoteEndpoint;
  /** What we do on the text stream. */
  readonly direction: Direction;
}

/** A successful negotiation. */
export interface Negotiated {
  readonly ok: true;
  /** Our side's SDP: the answer we send, or the offer we sent. */
  readonly sdp: string;
  /** The model of `sdp`; hand it to `holdOffer`/`resumeOffer` for the next re-INVITE. */
  readonly description: SessionDescription;
  readonly codec: NegotiatedCodec;
  /** RFC 4733 telephone-event payload type, when both sides support it. */
  readonly telephoneEventPt?: number;
  /** The telephone-event RTP clock (matches the codec's where the peer offered that). */
  readonly telephoneEventClockRate?: number;
  /** Where we send RTP and RTCP. */
  readonly remote: RemoteEndpoint;
  /** RFC 5761: both sides agreed to multiplex RTCP onto the RTP port. */
  readonly rtcpMux: boolean;
  /** What we do on the audio stream (sendrecv, or less while either side holds). */
  readonly direction: Direction;
  /** What the peer declared, with a null c= address counted as "does not receive". */
  readonly remoteDirection: Direction;
  /** RFC 3264 §8.4: the peer has put us on hold (sendonly, inactive or c=0.0.0.0). */
  readonly remoteHold: boolean;
  /** Packet time the peer wants to receive, ms (a=ptime, default 20). */
  readonly ptime: number;
  /** Longest packet time the peer accepts, ms, when it said. */
  readonly maxptime?: number;
  /** Present when a text stream was negotiated. */
  readonly text?: NegotiatedText;
}

/** Why a negotiation failed. */
export type NegotiationFailureReason =
  /** The SDP does not parse (SIP: 400). */
  | "invalid_sdp"
  /** No audio stream over plain RTP with a non-zero port (SIP: 488). */
  | "no_audio"
  /** Nothing offered is in the allowed list (SIP: 488). */
  | "no_common_codec"
  /** The requested codec is not in the offer, or the answer picked one we did not offer. */
  | "codec_not_offered"
  /** The requested codec is not enabled (SIP_CODECS ∩ the call's codecs). */
  | "codec_not_allowed"
  /** The answer rejected our audio stream (port 0). */
  | "rejected"
  /** The answer's m= lines do not line up with our offer's (RFC 3264 §6). */
  | "media_mismatch";

/** A failed negotiation; `message` is fit for a log line or an API error. */
export interface NegotiationFailure {
  readonly ok: false;
  readonly reason: NegotiationFailureReason;
  readonly message: string;
  /** The SIP response to send when this ends an inbound offer (400 or 488). */
  readonly sipStatus?: 400 | 488;
}

/** The outcome of `answerOffer` and `parseAnswer`. */
export type NegotiationResult = Negotiated | NegotiationFailure;

/** Shorthand for building a failure. */
export function failure(
  reason: NegotiationFailureReason,
  message: string,
  sipStatus?: 400 | 488,
): NegotiationFailure {
  return sipStatus === undefined
    ? { ok: false, reason, message }
    : { ok: false, reason, message, sipStatus };
}

/** What a negotiated codec takes from the agreed format, before any fmtp (both directions). */
export function codecOf(
  f: IdentifiedFormat,
): Omit<NegotiatedCodec, "fmtp" | "amr"> {
  return {
    name: f.spec.name as AudioCodecName,
    payloadType: f.payloadType,
    clockRate: f.clockRate,
    sampleRate: f.spec.sampleRate,
    ...(f.spec.channels === undefined ? {} : { channels: f.spec.channels }),
  };
}
