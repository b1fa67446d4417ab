/**
 * RTCP sender and receiver reports, SDES and BYE (RFC 3550 §6.4–§6.6), and
 * compound packets (§6.1). RTCP runs every few seconds, not every 20 ms, so the
 * parser returns plain objects; it never throws on network input.
 *
 * @module
 */

/** RFC 3550 §12.1 packet types. */
export const RTCP_SR = 200;
/** Receiver report. */
export const RTCP_RR = 201;
/** Source description. */
export const RTCP_SDES = 202;
/** Goodbye. */
export const RTCP_BYE = 203;
/** RFC 3550 §6.5.1: SDES item type of the canonical name. */
export const SDES_CNAME = 1;

/** One reception report block (RFC 3550 §6.4.1), 24 octets on the wire. */
export interface ReportBlock {
  /** SSRC of the source this block reports on. */
  ssrc: number;
  /** Fraction of packets lost since the previous report, in 1/256 (0–255). */
  fractionLost: number;
  /** Cumulative packets lost, signed 24-bit (duplicates can make it negative). */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | max seq). */
  extendedHighestSeq: number;
  /** Interarrival jitter in timestamp units (§6.4.1, §A.8). */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received (LSR), 0 if none. */
  lastSr: number;
  /** Delay since that SR in 1/65536 s (DLSR), 0 if none. */
  delaySinceLastSr: number;
}

/** Sender report (RFC 3550 §6.4.1). */
export interface SenderReport {
  type: "sr";
  ssrc: number;
  /** NTP timestamp, integer seconds since 1900. */
  ntpSeconds: number;
  /** NTP timestamp, fraction of a second in 1/2^32. */
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
  /** Profile-specific extension octets after the report blocks, if any. */
  profileExtension?: Uint8Array;
}

/** Receiver report (RFC 3550 §6.4.2). */
export interface ReceiverReport {
  type: "rr";
  ssrc: number;
  reports: ReportBlock[];
  profileExtension?: Uint8Array;
}

/** One SDES item (RFC 3550 §6.5): type 1–8 and its UTF-8 text. */
export interface SdesItem {
  type: number;
  text: string;
}

/** One SDES chunk: a source and its items. */
export interface SdesChunk {
  source: number;
  items: SdesItem[];
}

/** Source description (RFC 3550 §6.5). */
export interface SourceDescription {
  type: "sdes";
  chunks: SdesChunk[];
}

/** Goodbye (RFC 3550 §6.6). */
export interface Goodbye {
  type: "bye";
  sources: number[];
  reason?: string;
}

/** Any other packet type (APP, RTPFB, PSFB, XR…): carried, not interpreted. */
export interface UnknownRtcp {
  type: "unknown";
  packetType: number;
  /** The 5-bit count / format field of the common header. */
  count: number;
  /** Octets after the 4-octet common header, padding removed. */
  body: Uint8Array;
}

/** One packet of an RTCP compound packet. */
export type RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye | UnknownRtcp;

/** Result of {@link parseRtcp}: the packets, or why the compound was rejected. */
export type RtcpParseResult = { ok: true; packets: RtcpPacket[] } | { ok: false; error: string };

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/*
 * RFC 3550 §6.4.1 common header and report block:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|    RC   |   PT=SR=200   |             length            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         SSRC of sender                        |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |              NTP timestamp, most significant word             |  (SR only)
 * |             NTP timestamp, least significant word             |
 * |                         RTP timestamp                         |
 * |                     sender's packet count                     |
 * |                      sender's octet count                     |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |                 SSRC_1 (SSRC of first source)                 |
 * | fraction lost |       cumulative number of packets lost       |
 * |           extended highest sequence number received           |
 * |                      interarrival jitter                      |
 * |                         last SR (LSR)                         |
 * |                   delay since last SR (DLSR)                  |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 */

function parseReports(b: Uint8Array, o: number, count: number): ReportBlock[] {
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++, o += 24) {
    reports.push({
      ssrc: u32(b, o),
      fractionLost: b[o + 4],
      cumulativeLost: (((b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) << 8) >> 8,
      extendedHighestSeq: u32(b, o + 8),
      jitter: u32(b, o + 12),
      lastSr: u32(b, o + 16),
      delaySinceLastSr: u32(b, o + 20),
    });
  }
  return reports;
}

/*
 * RFC 3550 §6.5 SDES and §6.6 BYE:
 *
 * |V=2|P|    SC   |  PT=SDES=202  |             length            |
 * |                          SSRC/CSRC_1                          |
 * |    CNAME=1    |     length    | user and domain name        ...
 *   … items, then a null octet, zero-padded to a 32-bit boundary; next chunk …
 *
 * |V=2|P|    SC   |   PT=BYE=203  |             length            |
 * |                           SSRC/CSRC                           |  × SC
 * |     length    |               reason for leaving            ...  (optional)
 */

function parseSdes(b: Uint8Array, start: number, end: number, count: number): SourceDescription {
  const chunks: SdesChunk[] = [];
  let o = start;
  for (let c = 0; c < count; c++) {
    if (o + 4 > end) throw new Error("SDES chunk past the end");
    const chunk: SdesChunk = { source: u32(b, o), items: [] };
    o += 4;
    for (;;) {
      if (o >= end) throw new Error("SDES chunk without a terminating null item");
      const type = b[o];
      if (type === 0) {
        o = (o + 4) & ~3; // skip the null octet and the padding to the next 32-bit word
        break;
      }
      if (o + 2 > end || o + 2 + b[o + 1] > end) throw new Error("SDES item past the end");
      chunk.items.push({ type, text: decoder.decode(b.subarray(o + 2, o + 2 + b[o + 1])) });
      o += 2 + b[o + 1];
    }
    chunks.push(chunk);
  }
  return { type: "sdes", chunks };
}

function parseBye(b: Uint8Array, start: number, end: number, count: number): Goodbye {
  if (start + 4 * count > end) throw new Error("BYE sources past the end");
  const sources: number[] = [];
  for (let i = 0; i < count; i++) sources.push(u32(b, start + 4 * i));
  const o = start + 4 * count;
  if (o < end) {
    const len = b[o];
    if (o + 1 + len > end) throw new Error("BYE reason past the end");
    return { type: "bye", sources, reason: decoder.decode(b.subarray(o + 1, o + 1 + len)) };
  }
  return { type: "bye", sources };
}

/**
 * Parses an RTCP compound packet (RFC 3550 §6.1). Rejects (never throws) a
 * version ≠ 2, a length running past the datagram, padding on any packet but the
 * last or a bad padding count (§A.2), and truncated SR/RR/SDES/BYE bodies. A
 * leading SR/RR is not required, so reduced-size RTCP (RFC 5506) parses too.
 */
export function parseRtcp(buf: Uint8Array): RtcpParseResult {
  const packets: RtcpPacket[] = [];
  let o = 0;
  try {
    while (o < buf.length) {
      if (o + 4 > buf.length) return { ok: false, error: "Cannot parse RTCP: truncated header" };
      const b0 = buf[o];
      if (b0 >> 6 !== 2) return { ok: false, error: "Cannot parse RTCP: version is not 2" };
      const count = b0 & 0x1f;
      const pt = buf[o + 1];
      const size = 4 * (((buf[o + 2] << 8) | buf[o + 3]) + 1);
      if (o + size > buf.length) {
        return { ok: false, error: "Cannot parse RTCP: length past the end" };
      }
      let end = o + size;
      if ((b0 & 0x20) !== 0) {
        if (end !== buf.length) {
          return { ok: false, error: "Cannot parse RTCP: padding before the last packet" };
        }
        const pad = buf[end - 1];
        if (pad === 0 || pad > size - 4) {
          return { ok: false, error: "Cannot parse RTCP: bad padding" };
        }
        end -= pad;
      }
      const body = o + 4;
      if (pt === RTCP_SR || pt === RTCP_RR) {
        const fixed = pt === RTCP_SR ? 24 : 4;
        if (body + fixed + 24 * count > end) {
          return { ok: false, error: "Cannot parse RTCP: report blocks past the end" };
        }
        const reports = parseReports(buf, body + fixed, count);
        const extStart = body + fixed + 24 * count;
        const ext = extStart < end ? buf.slice(extStart, end) : undefined;
        if (pt === RTCP_SR) {
          const sr: SenderReport = {
            type: "sr",
            ssrc: u32(buf, body),
            ntpSeconds: u32(buf, body + 4),
            ntpFraction: u32(buf, body + 8),
            rtpTimestamp: u32(buf, body + 12),
            packetCount: u32(buf, body + 16),
            octetCount: u32(buf, body + 20),
            reports,
          };
          if (ext) sr.profileExtension = ext;
          packets.push(sr);
        } else {
          const rr: ReceiverReport = { type: "rr", ssrc: u32(buf, body), reports };
          if (ext) rr.profileExtension = ext;
          packets.push(rr);
        }
      } else if (pt === RTCP_SDES) {
        packets.push(parseSdes(buf, body, end, count));
      } else if (pt === RTCP_BYE) {
        packets.push(parseBye(buf, body, end, count));
      } else {
        packets.push({ type: "unknown", packetType: pt, count, body: buf.slice(body, end) });
      }
      o += size;
    }
  } catch (e) {
    return { ok: false, error: `Cannot parse RTCP: ${(e as Error).message}` };
  }
  if (packets.length === 0) return { ok: false, error: "Cannot parse RTCP: empty datagram" };
  return { ok: true, packets };
}

function sdesChunkSize(chunk: SdesChunk): number {
  let n = 4;
  for (const item of chunk.items) n += 2 + encoder.encode(item.text).length;
  return (n + 4) & ~3; // at least one null octet, then pad to 32 bits
}

/** Octets {@link marshalRtcpTo} writes for `pkt` (a multiple of 4, RFC 3550 §6.4). */
export function rtcpMarshalSize(pkt: RtcpPacket): number {
  switch (pkt.type) {
    case "sr":
      return 28 + 24 * pkt.reports.length + (pkt.profileExtension?.length ?? 0);
    case "rr":
      return 8 + 24 * pkt.reports.length + (pkt.profileExtension?.length ?? 0);
    case "sdes":
      return 4 + pkt.chunks.reduce((n, c) => n + sdesChunkSize(c), 0);
    case "bye": {
      const reason = pkt.reason === undefined ? 0 : 1 + encoder.encode(pkt.reason).length;
      return 4 + 4 * pkt.sources.length + ((reason + 3) & ~3);
    }
    case "unknown":
      return 4 + pkt.body.length;
  }
}

function writeReport(out: Uint8Array, o: number, r: ReportBlock): void {
  putU32(out, o, r.ssrc);
  const lost = Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost)) & 0xffffff;
  putU32(out, o + 4, ((r.fractionLost & 0xff) << 24) | lost);
  putU32(out, o + 8, r.extendedHighestSeq);
  putU32(out, o + 12, r.jitter);
  putU32(out, o + 16, r.lastSr);
  putU32(out, o + 20, r.delaySinceLastSr);
}

/**
 * Serializes one RTCP packet (RFC 3550 §6.4–§6.6) at `offset`; returns the octets
 * written. Throws RangeError on a programming error: more than 31 report blocks,
 * chunks or sources, an SDES text or BYE reason over 255 octets, an unaligned
 * extension or body, or `out` too small.
 */
export function marshalRtcpTo(pkt: RtcpPacket, out: Uint8Array, offset = 0): number {
  const size = rtcpMarshalSize(pkt);
  if ((size & 3) !== 0) throw new RangeError("Cannot marshal RTCP: body is not 32-bit aligned");
  if (offset < 0 || offset + size > out.length) {
    throw new RangeError("Cannot marshal RTCP: output buffer too small");
  }
  const header = (count: number, pt: number) => {
    if (count > 31) throw new RangeError("Cannot marshal RTCP: more than 31 items in one packet");
    out[offset] = 0x80 | count;
    out[offset + 1] = pt;
    out[offset + 2] = ((size / 4 - 1) >> 8) & 0xff;
    out[offset + 3] = (size / 4 - 1) & 0xff;
  };
  out.fill(0, offset, offset + size);
  let o = offset + 4;
  switch (pkt.type) {
    case "sr":
    case "rr": {
      header(pkt.reports.length, pkt.type === "sr" ? RTCP_SR : RTCP_RR);
      putU32(out, o, pkt.ssrc);
      o += 4;
      if (pkt.type === "sr") {
        putU32(out, o, pkt.ntpSeconds);
        putU32(out, o + 4, pkt.ntpFraction);
        putU32(out, o + 8, pkt.rtpTimestamp);
        putU32(out, o + 12, pkt.packetCount);
        putU32(out, o + 16, pkt.octetCount);
        o += 20;
      }
      for (const r of pkt.reports) {
        writeReport(out, o, r);
        o += 24;
      }
      if (pkt.profileExtension) out.set(pkt.profileExtension, o);
      break;
    }
    case "sdes":
      header(pkt.chunks.length, RTCP_SDES);
      for (const chunk of pkt.chunks) {
        const start = o;
        putU32(out, o, chunk.source);
        o += 4;
        for (const item of chunk.items) {
          const text = encoder.encode(item.text);
          if (text.length > 255) {
            throw new RangeError("Cannot marshal RTCP: SDES text over 255 octets");
          }
          out[o] = item.type;
          out[o + 1] = text.length;
          out.set(text, o + 2);
          o += 2 + text.length;
        }
        o = start + sdesChunkSize(chunk); // null octet and padding are already zero
      }
      break;
    case "bye": {
      header(pkt.sources.length, RTCP_BYE);
      for (const s of pkt.sources) {
        putU32(out, o, s);
        o += 4;
      }
      if (pkt.reason !== undefined) {
        const text = encoder.encode(pkt.reason);
        if (text.length > 255) {
          throw new RangeError("Cannot marshal RTCP: BYE reason over 255 octets");
        }
        out[o] = text.length;
        out.set(text, o + 1);
      }
      break;
    }
    case "unknown":
      header(pkt.count, pkt.packetType);
      out.set(pkt.body, o);
      break;
  }
  return size;
}

/** Serializes a compound RTCP packet (RFC 3550 §6.1) into a new buffer. */
export function marshalRtcpCompound(packets: readonly RtcpPacket[]): Uint8Array {
  const out = new Uint8Array(packets.reduce((n, p) => n + rtcpMarshalSize(p), 0));
  let o = 0;
  for (const p of packets) o += marshalRtcpTo(p, out, o);
  return out;
}

/** The CNAME of the first SDES chunk that carries one (RFC 3550 §6.5.1), if any. */
export function sdesCname(pkt: SourceDescription): string | undefined {
  for (const c of pkt.chunks) {
    for (const item of c.items) if (item.type === SDES_CNAME) return item.text;
  }
  return undefined;
}
