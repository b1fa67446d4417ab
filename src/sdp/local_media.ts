/**
 * Building blocks for the SDP we write (offers, answers, re-offers): the session skeleton,
 * rtpmap lines from the catalogue, the RFC 4103 text section, and RFC 3264 §6 rejected
 * sections. Invalid arguments here are programming errors and throw `RangeError`.
 */

import { familyOf } from "./address.ts";
import { type CodecSpec, codecSpec } from "./codecs.ts";
import type { AmrVariant } from "./fmtp.ts";
import type {
  AddressFamily,
  Direction,
  MediaDescription,
  RtpMap,
  SessionDescription,
} from "./types.ts";

/** An `o=` session id or version as callers hold it. */
export type SdpNumber = string | number | bigint;

/** AMR settings from configuration (`AMRWB_*` / `AMRNB_*`). */
export interface AmrOptions {
  /** Offer octet-aligned framing (answers always echo the peer's framing). */
  readonly octetAligned: boolean;
  /** Encoder speech-mode ceiling; clamped into the peer's mode-set. */
  readonly mode: number;
  /** A mode-set to put in offers; omitted by default (we decode every mode). */
  readonly modeSet?: readonly number[];
}

/** Configuration defaults: octet-aligned, AMR-WB mode 2 (12.65k), AMR-NB mode 7 (12.2k). */
export const DEFAULT_AMR: Readonly<Record<AmrVariant, AmrOptions>> = {
  "AMR-WB": { octetAligned: true, mode: 2 },
  "AMR-NB": { octetAligned: true, mode: 7 },
};

/** Packet time we ask for and send, ms; the media clock ticks every 20 ms. */
export const DEFAULT_PTIME = 20;

/** RFC 4103 §4: primary plus two redundant generations is the recommended RED depth. */
export const DEFAULT_TEXT_REDUNDANCY = 2;

/** Local addresses per family, for answering an offer in its own family. */
export interface LocalAddresses {
  readonly ip4?: string;
  readonly ip6?: string;
}

/** Checks an `o=` number and renders it as decimal digits. */
export function sdpNumber(v: SdpNumber, what: string): string {
  const s = typeof v === "string" ? v : v.toString();
  if (!/^\d{1,20}$/.test(s)) {
    throw new RangeError(`Cannot build SDP: ${what} "${s}" is not a non-negative integer`);
  }
  return s;
}

/** Checks a media port (1-65535). */
export function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Cannot build SDP: ${what} ${port} is out of range (1-65535)`);
  }
  return port;
}

/**
 * Picks our address: a literal as given, or from `LocalAddresses` the one in the offer's family
 * (falling back to the other family when we have none in it).
 */
export function chooseAddress(
  address: string | LocalAddresses,
  preferred?: AddressFamily,
): { address: string; family: AddressFamily } {
  let chosen: string | undefined;
  if (typeof address === "string") {
    chosen = address;
  } else {
    const [first, second] = preferred === "IP6"
      ? [address.ip6, address.ip4]
      : [address.ip4, address.ip6];
    chosen = first ?? second;
  }
  const family = chosen === undefined ? undefined : familyOf(chosen);
  if (chosen === undefined || family === undefined) {
    throw new RangeError(`Cannot build SDP: local address "${chosen ?? ""}" is not an IP literal`);
  }
  return { address: chosen, family };
}

/** The `v= o= s= c= t=` skeleton we always write, around `media`. */
export function localSession(
  o: { sessionId: SdpNumber; sessionVersion: SdpNumber; address: string; family: AddressFamily },
  media: readonly MediaDescription[],
): SessionDescription {
  return {
    origin: {
      username: "-",
      sessionId: sdpNumber(o.sessionId, "session id"),
      sessionVersion: sdpNumber(o.sessionVersion, "session version"),
      family: o.family,
      address: o.address,
    },
    sessionName: "-",
    emails: [],
    phones: [],
    connection: { family: o.family, address: o.address },
    bandwidths: [],
    timing: [{ start: 0, stop: 0, repeats: [] }],
    attributes: [],
    media,
  };
}

/** The a=rtpmap we write for a catalogue codec. */
export function rtpmapFor(
  spec: CodecSpec,
  payloadType: number,
  clockRate = spec.clockRate,
): RtpMap {
  return spec.channels === undefined
    ? { payloadType, encodingName: spec.encodingName, clockRate }
    : { payloadType, encodingName: spec.encodingName, clockRate, channels: spec.channels };
}

/** A media section with nothing but the m= line. */
export function bareSection(
  media: string,
  port: number,
  proto: string,
  formats: readonly string[],
): MediaDescription {
  return {
    media,
    port,
    proto,
    formats,
    bandwidths: [],
    rtpmaps: [],
    fmtps: [],
    rtcpMux: false,
    attributes: [],
  };
}

/** RFC 3264 §6: a refused stream is answered with port 0, keeping its slot and formats. */
export function rejectedSection(offered: MediaDescription): MediaDescription {
  return bareSection(offered.media, 0, offered.proto, offered.formats);
}

/**
 * RFC 4103 §3 m=text section: RED (RFC 2198) first when used, then t140. The RED fmtp names
 * the generations it carries, primary first (`99/99/99` = primary + 2 redundant).
 */
export function textSection(o: {
  port: number;
  proto: string;
  t140PayloadType: number;
  redPayloadType?: number;
  redundancy: number;
  direction: Direction;
}): MediaDescription {
  const t140 = codecSpec("t140");
  const red = codecSpec("red");
  const formats = o.redPayloadType === undefined
    ? [`${o.t140PayloadType}`]
    : [`${o.redPayloadType}`, `${o.t140PayloadType}`];
  const base = bareSection("text", o.port, o.proto, formats);
  if (o.redPayloadType === undefined) {
    return { ...base, rtpmaps: [rtpmapFor(t140, o.t140PayloadType)], direction: o.direction };
  }
  const generations = Array(o.redundancy + 1).fill(`${o.t140PayloadType}`).join("/");
  return {
    ...base,
    rtpmaps: [rtpmapFor(red, o.redPayloadType), rtpmapFor(t140, o.t140PayloadType)],
    fmtps: [{ format: `${o.redPayloadType}`, parameters: generations }],
    direction: o.direction,
  };
}
