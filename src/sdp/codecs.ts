/**
 * Our codec catalogue: what each payload format is called on the wire, its RTP clock, and the
 * payload type and fmtp we put in our own offers. Names match case-insensitively (RFC 4855 §3:
 * media subtype names are case-insensitive), and `AMR` is AMR-NB (RFC 4867 §8.1).
 */

import type { SipCodecName } from "../config/types.ts";
import type { MediaDescription } from "./types.ts";

/** The audio codecs a SIP leg can negotiate (the names `SIP_CODECS` and the API use). */
export type AudioCodecName = SipCodecName;

/** Every payload format in the catalogue. */
export type CodecName = AudioCodecName | "telephone-event" | "t140" | "red";

/** One catalogue entry. */
export interface CodecSpec {
  readonly name: CodecName;
  /** `audio` codecs carry speech, `dtmf` is RFC 4733 events, `text` lives on m=text. */
  readonly kind: "audio" | "dtmf" | "text";
  /** The encoding name we write in a=rtpmap. */
  readonly encodingName: string;
  /** RTP timestamp clock (RFC 3551 §4.5: G.722 says 8000 although it samples at 16 kHz). */
  readonly clockRate: number;
  /** The rate the audio is actually sampled at; what the resampler must target. */
  readonly sampleRate: number;
  /** Channel count we write in a=rtpmap (RFC 7587 §7: opus is always `/2`). */
  readonly channels?: number;
  /** RFC 3551 §6 static payload type, for codecs that have one. */
  readonly staticPayloadType?: number;
  /** The payload type our offers use (the static one, or our dynamic default). */
  readonly defaultPayloadType: number;
  /** The fmtp our offers carry, when fixed (AMR's depends on configuration). */
  readonly defaultFmtp?: string;
}

const ENTRIES: readonly CodecSpec[] = [
  {
    name: "PCMU",
    kind: "audio",
    encodingName: "PCMU",
    clockRate: 8000,
    sampleRate: 8000,
    staticPayloadType: 0,
    defaultPayloadType: 0,
  },
  {
    name: "PCMA",
    kind: "audio",
    encodingName: "PCMA",
    clockRate: 8000,
    sampleRate: 8000,
    staticPayloadType: 8,
    defaultPayloadType: 8,
  },
  {
    name: "G722",
    kind: "audio",
    encodingName: "G722",
    clockRate: 8000,
    sampleRate: 16000,
    staticPayloadType: 9,
    defaultPayloadType: 9,
  },
  {
    name: "opus",
    kind: "audio",
    encodingName: "opus",
    clockRate: 48000,
    sampleRate: 48000,
    channels: 2,
    defaultPayloadType: 111,
    defaultFmtp: "minptime=10;useinbandfec=1",
  },
  {
    name: "AMR-WB",
    kind: "audio",
    encodingName: "AMR-WB",
    clockRate: 16000,
    sampleRate: 16000,
    channels: 1,
    defaultPayloadType: 96,
  },
  {
    name: "AMR-NB",
    kind: "audio",
    encodingName: "AMR",
    clockRate: 8000,
    sampleRate: 8000,
    channels: 1,
    defaultPayloadType: 97,
  },
  {
    name: "telephone-event",
    kind: "dtmf",
    encodingName: "telephone-event",
    clockRate: 8000,
    sampleRate: 8000,
    defaultPayloadType: 101,
    defaultFmtp: "0-16",
  },
  {
    name: "t140",
    kind: "text",
    encodingName: "t140",
    clockRate: 1000,
    sampleRate: 1000,
    defaultPayloadType: 99,
  },
  {
    name: "red",
    kind: "text",
    encodingName: "red",
    clockRate: 1000,
    sampleRate: 1000,
    defaultPayloadType: 98,
  },
];

const BY_NAME: ReadonlyMap<string, CodecSpec> = new Map([
  ...ENTRIES.map((e) => [e.name.toLowerCase(), e] as const),
  ...ENTRIES.map((e) => [e.encodingName.toLowerCase(), e] as const),
  // RFC 4867 §8.1 registers "AMR"; "AMR-NB" is the name people (and SIP_CODECS) use.
  ["amr-nb", ENTRIES[5]],
]);

/** The audio codecs, in catalogue order. */
export const AUDIO_CODECS: readonly AudioCodecName[] = [
  "PCMU",
  "PCMA",
  "G722",
  "opus",
  "AMR-WB",
  "AMR-NB",
];

/** Dynamic payload types our offers use for telephone-event at each RTP clock (RFC 4733 §2.1). */
export const TELEPHONE_EVENT_PT: Readonly<Record<number, number>> = {
  8000: 101,
  48000: 100,
  16000: 102,
};

/** Looks a codec up by any accepted spelling (`pcmu`, `Opus`, `AMR`, `amr-wb`, …). */
export function codecByName(name: string): CodecSpec | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}

/** The canonical audio codec name for a spelling, or undefined if it is not an audio codec. */
export function audioCodecName(name: string): AudioCodecName | undefined {
  const spec = codecByName(name);
  return spec?.kind === "audio" ? spec.name as AudioCodecName : undefined;
}

/** The catalogue entry of a canonical name. */
export function codecSpec(name: CodecName): CodecSpec {
  return BY_NAME.get(name.toLowerCase())!;
}

/** A payload format of a media section, matched against the catalogue. */
export interface IdentifiedFormat {
  readonly spec: CodecSpec;
  readonly payloadType: number;
  /** From the rtpmap (telephone-event may run at any audio clock). */
  readonly clockRate: number;
  readonly channels?: number;
  /** The format's fmtp parameters, "" when there is none. */
  readonly fmtp: string;
}

/**
 * Identifies one format of an RTP media section: by its a=rtpmap when present (encoding name
 * and clock rate must both match), else by RFC 3551 static payload type. Formats of the wrong
 * media kind (red on m=audio, PCMU on m=text), unknown codecs, and formats with an a=rtpmap the
 * parser could not use (kept as a plain attribute) give undefined.
 */
export function identifyFormat(m: MediaDescription, format: string): IdentifiedFormat | undefined {
  if (!/^\d{1,3}$/.test(format)) return undefined;
  // The peer remapped this payload type in a way we cannot read (or twice): falling back to its
  // static meaning would guess, so it is unknown.
  if (m.attributes.some((a) => a.name === "rtpmap" && rtpmapTarget(a.value) === format)) {
    return undefined;
  }
  const payloadType = Number(format);
  const fmtp = m.fmtps.find((f) => f.format === format)?.parameters ?? "";
  const wanted = m.media === "text" ? "text" : m.media === "audio" ? "audio" : undefined;
  if (wanted === undefined) return undefined;
  const map = m.rtpmaps.find((r) => r.payloadType === payloadType);
  if (map === undefined) {
    const spec = ENTRIES.find((e) => e.staticPayloadType === payloadType);
    if (spec === undefined || wanted !== "audio") return undefined;
    return { spec, payloadType, clockRate: spec.clockRate, fmtp };
  }
  const spec = codecByName(map.encodingName);
  if (spec === undefined) return undefined;
  const kindOk = wanted === "text" ? spec.kind === "text" : spec.kind !== "text";
  if (!kindOk) return undefined;
  if (spec.kind !== "dtmf" && map.clockRate !== spec.clockRate) return undefined;
  return map.channels === undefined
    ? { spec, payloadType, clockRate: map.clockRate, fmtp }
    : { spec, payloadType, clockRate: map.clockRate, channels: map.channels, fmtp };
}

/** The payload type an a=rtpmap value names: its first token. */
function rtpmapTarget(value: string | undefined): string | undefined {
  return value?.trim().split(/\s+/, 1)[0];
}

/**
 * RFC 4733 §2.1: telephone-event should share the codec's clock. Take the offered one at the
 * codec's clock, else the 8 kHz one, else whichever came first.
 */
export function pickTelephoneEvent(
  m: MediaDescription,
  clockRate: number,
): IdentifiedFormat | undefined {
  const events = m.formats.map((f) => identifyFormat(m, f)).filter((f) =>
    f?.spec.kind === "dtmf"
  ) as IdentifiedFormat[];
  return events.find((e) => e.clockRate === clockRate) ??
    events.find((e) => e.clockRate === 8000) ?? events[0];
}
