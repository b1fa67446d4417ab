/**
 * RTP fixed header, CSRC list, header extension and padding (RFC 3550 §5.1, §5.3.1).
 *
 * Parsing follows the pion model: {@link unmarshalRtp} fills a caller-owned
 * {@link RtpPacket} and points `payload` / `extensionData` at the input buffer
 * (views, no copies), so the 20 ms receive path allocates nothing. A view object
 * is reused when the next datagram lands at the same place of the same buffer
 * (the `Deno.DatagramConn.receive(buf)` pattern), so steady state creates no
 * garbage at all. Views stay valid only until the buffer is overwritten.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);

/** RFC 3550 §5.1: the fixed part of the header is 12 octets. */
export const RTP_HEADER_SIZE = 12;

/** RFC 3550 §5.1: at most 15 CSRC identifiers (4-bit CC field). */
export const RTP_MAX_CSRC = 15;

/**
 * One RTP packet (RFC 3550 §5.1). Reuse one instance per receive loop.
 *
 * The header extension (RFC 3550 §5.3.1; RFC 8285 one-byte profile 0xBEDE and
 * two-byte profile 0x100X) is carried opaquely: `extensionProfile` plus the
 * extension body, whose length is a multiple of 4 octets.
 */
export class RtpPacket {
  /** Always 2 for packets accepted by {@link unmarshalRtp}. */
  version = 2;
  /** M bit: profile-defined; for audio, the first packet of a talkspurt (RFC 3551 §4.1). */
  marker = false;
  /** PT, 7 bits. */
  payloadType = 0;
  /** 16-bit sequence number. */
  sequenceNumber = 0;
  /** 32-bit RTP timestamp (unsigned). */
  timestamp = 0;
  /** 32-bit synchronization source (unsigned). */
  ssrc = 0;
  /** Number of valid entries in {@link csrc}. */
  csrcCount = 0;
  /** Contributing sources; only the first {@link csrcCount} entries are meaningful. */
  readonly csrc: Uint32Array = new Uint32Array(RTP_MAX_CSRC);
  /** X bit: a header extension follows the CSRC list. */
  extension = false;
  /** The 16-bit "defined by profile" field of the header extension. */
  extensionProfile = 0;
  /** Extension body after its 4-octet header; length is a multiple of 4. */
  extensionData: Uint8Array = EMPTY;
  /** Payload octets, padding excluded. */
  payload: Uint8Array = EMPTY;
  /** Padding octets at the end (P bit set when > 0); the last one holds this count. */
  paddingSize = 0;
}

function view(buf: Uint8Array, start: number, end: number, current: Uint8Array): Uint8Array {
  if (
    current.buffer === buf.buffer && current.byteOffset === buf.byteOffset + start &&
    current.length === end - start
  ) {
    return current;
  }
  return buf.subarray(start, end);
}

/*
 * RFC 3550 §5.1 fixed header, §5.3.1 extension:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * |            contributing source (CSRC) identifiers             |
 * |                             ....                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      defined by profile       |           length              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        header extension                       |
 * |                             ....                              |
 */

/**
 * Parses an RTP packet (RFC 3550 §5.1) into `into` without copying. Returns
 * false, leaving `into` partly written, when the packet is malformed: shorter than
 * the fixed header, version ≠ 2, CSRC list or extension running past the end, or
 * a padding count of zero or larger than what follows the header (§5.1, §A.1).
 */
export function unmarshalRtp(buf: Uint8Array, into: RtpPacket): boolean {
  const len = buf.length;
  if (len < RTP_HEADER_SIZE) return false;
  const b0 = buf[0];
  if (b0 >> 6 !== 2) return false;
  const cc = b0 & 0x0f;
  let offset = RTP_HEADER_SIZE + 4 * cc;
  if (offset > len) return false;
  const b1 = buf[1];
  into.version = 2;
  into.marker = (b1 & 0x80) !== 0;
  into.payloadType = b1 & 0x7f;
  into.sequenceNumber = (buf[2] << 8) | buf[3];
  into.timestamp = ((buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]) >>> 0;
  into.ssrc = ((buf[8] << 24) | (buf[9] << 16) | (buf[10] << 8) | buf[11]) >>> 0;
  into.csrcCount = cc;
  for (let i = 0, o = RTP_HEADER_SIZE; i < cc; i++, o += 4) {
    into.csrc[i] = ((buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3]) >>> 0;
  }
  if ((b0 & 0x10) !== 0) {
    if (offset + 4 > len) return false;
    const end = offset + 4 + 4 * ((buf[offset + 2] << 8) | buf[offset + 3]);
    if (end > len) return false;
    into.extension = true;
    into.extensionProfile = (buf[offset] << 8) | buf[offset + 1];
    into.extensionData = view(buf, offset + 4, end, into.extensionData);
    offset = end;
  } else {
    into.extension = false;
    into.extensionProfile = 0;
    into.extensionData = EMPTY;
  }
  let end = len;
  if ((b0 & 0x20) !== 0) {
    const pad = buf[len - 1];
    if (pad === 0 || pad > len - offset) return false;
    end -= pad;
    into.paddingSize = pad;
  } else {
    into.paddingSize = 0;
  }
  into.payload = view(buf, offset, end, into.payload);
  return true;
}

/** Octets {@link marshalRtpTo} writes for `pkt` (RFC 3550 §5.1 layout). */
export function rtpMarshalSize(pkt: RtpPacket): number {
  return RTP_HEADER_SIZE + 4 * pkt.csrcCount +
    (pkt.extension ? 4 + pkt.extensionData.length : 0) + pkt.payload.length + pkt.paddingSize;
}

/**
 * Serializes `pkt` (RFC 3550 §5.1) into `out` at `offset`; returns the octets
 * written. Padding octets are zero except the last, which holds the count. Throws
 * RangeError on a programming error: `out` too small, more than 15 CSRCs, an
 * extension body not a multiple of 4 octets, or padding outside 0–255.
 */
export function marshalRtpTo(pkt: RtpPacket, out: Uint8Array, offset = 0): number {
  const cc = pkt.csrcCount;
  if (cc < 0 || cc > RTP_MAX_CSRC) throw new RangeError("Cannot marshal RTP: more than 15 CSRCs");
  const extLen = pkt.extension ? pkt.extensionData.length : 0;
  if ((extLen & 3) !== 0 || extLen > 0x3fffc) {
    throw new RangeError("Cannot marshal RTP: extension length is not a multiple of 4");
  }
  const pad = pkt.paddingSize;
  if (pad < 0 || pad > 255) throw new RangeError("Cannot marshal RTP: padding outside 0-255");
  const size = rtpMarshalSize(pkt);
  if (offset < 0 || offset + size > out.length) {
    throw new RangeError("Cannot marshal RTP: output buffer too small");
  }
  let o = offset;
  out[o] = 0x80 | (pad > 0 ? 0x20 : 0) | (pkt.extension ? 0x10 : 0) | cc;
  out[o + 1] = (pkt.marker ? 0x80 : 0) | (pkt.payloadType & 0x7f);
  out[o + 2] = (pkt.sequenceNumber >> 8) & 0xff;
  out[o + 3] = pkt.sequenceNumber & 0xff;
  writeU32(out, o + 4, pkt.timestamp);
  writeU32(out, o + 8, pkt.ssrc);
  o += RTP_HEADER_SIZE;
  for (let i = 0; i < cc; i++, o += 4) writeU32(out, o, pkt.csrc[i]);
  if (pkt.extension) {
    out[o] = (pkt.extensionProfile >> 8) & 0xff;
    out[o + 1] = pkt.extensionProfile & 0xff;
    out[o + 2] = (extLen >> 10) & 0xff;
    out[o + 3] = (extLen >> 2) & 0xff;
    out.set(pkt.extensionData, o + 4);
    o += 4 + extLen;
  }
  out.set(pkt.payload, o);
  o += pkt.payload.length;
  if (pad > 0) {
    out.fill(0, o, o + pad - 1);
    out[o + pad - 1] = pad;
    o += pad;
  }
  return o - offset;
}

function writeU32(out: Uint8Array, o: number, v: number): void {
  out[o] = (v >>> 24) & 0xff;
  out[o + 1] = (v >>> 16) & 0xff;
  out[o + 2] = (v >>> 8) & 0xff;
  out[o + 3] = v & 0xff;
}

/**
 * RFC 5761 §4: on a muxed RTP/RTCP port, a datagram whose second octet is in
 * 192–223 (RTCP packet types 192–223; RTP payload types 64–95 are avoided) is RTCP.
 */
export function isRtcpPacket(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[1] >= 192 && buf[1] <= 223;
}
