/**
 * Reading elements of an RTP header extension in the RFC 8285 formats. The packet
 * code carries the extension opaquely; this is for the rare caller that needs one
 * element (for example the RFC 6464 audio level).
 *
 * @module
 */

import type { RtpPacket } from "./packet.ts";

/** RFC 8285 §4.2: "defined by profile" value of the one-byte header form. */
export const ONE_BYTE_PROFILE = 0xbede;

/** RFC 8285 §4.3: the two-byte form uses 0x100 followed by 4 application bits. */
export function isTwoByteProfile(profile: number): boolean {
  return (profile & 0xfff0) === 0x1000;
}

/*
 * RFC 8285 §4.2 one-byte element:          §4.3 two-byte element:
 *  0 1 2 3 4 5 6 7                           0                   1
 * +-+-+-+-+-+-+-+-+                          0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
 * |  ID   |  len  |  data (len+1 octets)    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * +-+-+-+-+-+-+-+-+                          |       ID      |     length    |  data…
 * ID 0 = padding octet, ID 15 = stop         +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */

/**
 * Returns the data of extension element `id` (a view into the packet's extension
 * body), or null when the packet has no such element, uses neither RFC 8285 form,
 * or the element list is malformed (RFC 8285 §4.2, §4.3).
 */
export function findHeaderExtension(pkt: RtpPacket, id: number): Uint8Array | null {
  if (!pkt.extension) return null;
  const data = pkt.extensionData;
  const oneByte = pkt.extensionProfile === ONE_BYTE_PROFILE;
  if (!oneByte && !isTwoByteProfile(pkt.extensionProfile)) return null;
  let i = 0;
  while (i < data.length) {
    const b = data[i];
    if (b === 0) { // padding octet, both forms
      i++;
      continue;
    }
    let elemId: number;
    let len: number;
    if (oneByte) {
      elemId = b >> 4;
      if (elemId === 15) return null; // RFC 8285 §4.2: stop processing
      len = (b & 0x0f) + 1;
      i += 1;
    } else {
      if (i + 1 >= data.length) return null;
      elemId = b;
      len = data[i + 1];
      i += 2;
    }
    if (i + len > data.length) return null;
    if (elemId === id) return data.subarray(i, i + len);
    i += len;
  }
  return null;
}
