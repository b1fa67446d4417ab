/**
 * The `offered_codecs` list of the `leg.ringing` event: the audio codecs of an inbound offer
 * that we know, in the offer's order (RFC 3264 §5.1: the offerer lists them by preference).
 */

import { type AudioCodecName, identifyFormat } from "./codecs.ts";
import { parseSdp } from "./parse.ts";
import type { SessionDescription } from "./types.ts";

/** One entry of the contract's `offered_codecs` (wire field names). */
export interface OfferedCodec {
  readonly name: AudioCodecName;
  readonly payload_type: number;
  /** RTP clock rate from the offer (8000 for G722). */
  readonly clock_rate: number;
  /** 1-based position among the listed codecs; 1 is the offerer's favourite. */
  readonly priority: number;
}

/**
 * Lists the known audio codecs of the offer's first live audio stream, each once (its first
 * payload type wins), optionally only those in `allowed`. A string is parsed first and may
 * throw `SdpParseError`. telephone-event and unknown formats are not codecs and are skipped.
 */
export function offeredCodecs(
  offer: string | SessionDescription,
  allowed?: readonly AudioCodecName[],
): OfferedCodec[] {
  const sd = typeof offer === "string" ? parseSdp(offer) : offer;
  const m = sd.media.find((x) => x.media === "audio" && x.port !== 0);
  if (m === undefined) return [];
  const out: OfferedCodec[] = [];
  for (const f of m.formats) {
    const id = identifyFormat(m, f);
    if (id?.spec.kind !== "audio") continue;
    const name = id.spec.name as AudioCodecName;
    if (out.some((c) => c.name === name)) continue;
    if (allowed !== undefined && !allowed.includes(name)) continue;
    out.push({
      name,
      payload_type: id.payloadType,
      clock_rate: id.clockRate,
      priority: out.length + 1,
    });
  }
  return out;
}
