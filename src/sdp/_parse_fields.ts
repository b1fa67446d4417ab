/**
 * Field parsers behind `parseSdp`: one function per SDP line type or lifted attribute, each
 * reporting problems through the caller's `fail` (which throws `SdpParseError` with the line).
 */

import { isValidAddress } from "./address.ts";
import type {
  AddressFamily,
  Attribute,
  Bandwidth,
  Connection,
  Direction,
  Fmtp,
  MediaDescription,
  Origin,
  RtcpAttribute,
  RtpMap,
} from "./types.ts";
import { DIRECTIONS } from "./types.ts";

/** Largest accepted a=ptime / a=maxptime, in ms: anything longer is a broken peer, not a choice. */
export const MAX_PACKET_TIME_MS = 1000;

const TOKEN = /^[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+$/;
/** An unsigned decimal that fits a JS number exactly. */
export const DIGITS = /^\d{1,18}$/;
const DECIMAL = /^\d{1,6}(\.\d{1,6})?$/;

/** Reports a problem with the current line; never returns. */
export type Fail = (detail: string) => never;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** A media section while its lines are being read. */
export interface MediaDraft extends Mutable<MediaDescription> {
  readonly rtp: boolean;
  readonly lineNo: number;
  rtpmaps: RtpMap[];
  fmtps: Fmtp[];
  bandwidths: Bandwidth[];
  attributes: Attribute[];
}

/** Shortens quoted input in error messages. */
export function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** Whether an attribute name is one of the four direction attributes. */
export function isDirection(name: string): name is Direction {
  return (DIRECTIONS as readonly string[]).includes(name);
}

function parseFamily(nettype: string, addrtype: string, line: string, fail: Fail): AddressFamily {
  if (nettype !== "IN") fail(`unsupported network type "${clip(nettype)}" in ${line}=`);
  if (addrtype !== "IP4" && addrtype !== "IP6") {
    fail(`unsupported address type "${clip(addrtype)}" in ${line}=`);
  }
  return addrtype as AddressFamily;
}

/** RFC 8866 §5.2: `o=<username> <sess-id> <sess-version> IN <addrtype> <address>`. */
export function parseOrigin(value: string, fail: Fail): Origin {
  const parts = value.split(/ +/);
  if (parts.length !== 6) fail(`o= must have 6 fields, got ${parts.length}`);
  const [username, sessionId, sessionVersion, nettype, addrtype, address] = parts;
  if (!/^\d{1,20}$/.test(sessionId)) fail(`o= session id "${clip(sessionId)}" is not numeric`);
  if (!/^\d{1,20}$/.test(sessionVersion)) {
    fail(`o= session version "${clip(sessionVersion)}" is not numeric`);
  }
  const family = parseFamily(nettype, addrtype, "o", fail);
  if (!isValidAddress(family, address)) fail(`o= address "${clip(address)}" is not valid`);
  return { username, sessionId, sessionVersion, family, address };
}

/** RFC 8866 §5.7: `c=IN <addrtype> <address>[/<ttl>][/<count>]`. */
export function parseConnection(value: string, fail: Fail): Connection {
  const parts = value.split(/ +/);
  if (parts.length !== 3) fail(`c= must be "IN <IP4|IP6> <address>", got "${clip(value)}"`);
  const family = parseFamily(parts[0], parts[1], "c", fail);
  const [address, ...suffix] = parts[2].split("/");
  if (!isValidAddress(family, address)) fail(`c= address "${clip(address)}" is not valid`);
  if (suffix.some((s) => !DIGITS.test(s)) || suffix.length > (family === "IP4" ? 2 : 1)) {
    fail(`c= multicast suffix in "${clip(parts[2])}" is not valid`);
  }
  if (family === "IP4" && suffix.length > 0) {
    return suffix.length === 2
      ? { family, address, ttl: Number(suffix[0]), count: Number(suffix[1]) }
      : { family, address, ttl: Number(suffix[0]) };
  }
  return suffix.length === 1 ? { family, address, count: Number(suffix[0]) } : { family, address };
}

/** RFC 8866 §5.8: `b=<bwtype>:<bandwidth>`. */
export function parseBandwidth(value: string, fail: Fail): Bandwidth {
  const m = /^([!#$%&'*+\-.^_`{|}~0-9A-Za-z]+):(\d{1,12})$/.exec(value);
  if (!m) fail(`b= must be "<type>:<kbps>", got "${clip(value)}"`);
  return { type: m![1], value: Number(m![2]) };
}

/** RFC 8866 §5.14: `m=<media> <port>[/<count>] <proto> <fmt> …`. */
export function parseMediaLine(value: string, lineNo: number, fail: Fail): MediaDraft {
  const parts = value.split(/ +/);
  if (parts.length < 4) fail(`m= must be "<media> <port> <proto> <fmt> ...", got "${clip(value)}"`);
  const [mediaType, portText, proto, ...formats] = parts;
  if (!TOKEN.test(mediaType)) fail(`m= media type "${clip(mediaType)}" is not a token`);
  const pm = /^(\d{1,5})(?:\/(\d{1,5}))?$/.exec(portText);
  if (!pm) fail(`m= port "${clip(portText)}" is not a number`);
  const port = Number(pm![1]);
  if (port > 65535) fail(`m= port ${port} is out of range (0-65535)`);
  if (!/^[A-Za-z0-9]+(\/[A-Za-z0-9]+)*$/.test(proto)) {
    fail(`m= proto "${clip(proto)}" is not valid`);
  }
  const rtp = proto.split("/").includes("RTP");
  for (const f of formats) {
    if (rtp) {
      if (!/^\d{1,3}$/.test(f) || Number(f) > 127) {
        fail(`m= payload type "${clip(f)}" is not a number in 0-127`);
      }
    } else if (!/^[\x21-\x7e]+$/.test(f)) {
      fail(`m= format "${clip(f)}" is not valid`);
    }
  }
  if (new Set(formats).size !== formats.length) fail("m= lists a format twice");
  return {
    media: mediaType,
    port,
    portCount: pm![2] === undefined ? undefined : Number(pm![2]),
    proto,
    formats,
    bandwidths: [],
    rtpmaps: [],
    fmtps: [],
    rtcpMux: false,
    attributes: [],
    rtp,
    lineNo,
  };
}

/** RFC 8866 §5.13: `a=<name>` or `a=<name>:<value>`. */
export function parseAttribute(value: string, fail: Fail): Attribute {
  const colon = value.indexOf(":");
  const name = colon < 0 ? value : value.slice(0, colon);
  if (!TOKEN.test(name)) fail(`attribute name "${clip(name)}" is not a token`);
  return colon < 0 ? { name } : { name, value: value.slice(colon + 1) };
}

/**
 * One media-level `a=` line: rtpmap, fmtp, ptime, maxptime, rtcp, rtcp-mux and the direction
 * attributes are lifted into typed fields (rtpmap/fmtp only on RTP sections); the rest is kept.
 */
export function parseMediaAttribute(value: string, m: MediaDraft, fail: Fail): void {
  const attr = parseAttribute(value, fail);
  const v = attr.value;
  const needValue = (): string => v ?? fail(`a=${attr.name} needs a value`);
  switch (attr.name) {
    case "rtpmap": {
      if (!m.rtp || v === undefined) break;
      const map = parseRtpmap(v, m);
      if (map === undefined) break;
      m.rtpmaps.push(map);
      return;
    }
    case "fmtp":
      if (!m.rtp) break;
      m.fmtps.push(parseFmtp(needValue(), m, fail));
      return;
    case "ptime":
    case "maxptime": {
      const ms = parsePacketTime(attr.name, needValue(), fail);
      const prev = attr.name === "ptime" ? m.ptime : m.maxptime;
      if (prev !== undefined && prev !== ms) fail(`conflicting a=${attr.name} values`);
      if (attr.name === "ptime") m.ptime = ms;
      else m.maxptime = ms;
      return;
    }
    case "rtcp":
      if (m.rtcp !== undefined) fail("duplicate a=rtcp");
      m.rtcp = parseRtcp(needValue(), fail);
      return;
    case "rtcp-mux":
      if (v !== undefined) fail("a=rtcp-mux takes no value");
      m.rtcpMux = true;
      return;
  }
  if (isDirection(attr.name)) {
    if (v !== undefined) fail(`a=${attr.name} takes no value`);
    if (m.direction !== undefined && m.direction !== attr.name) {
      fail(`conflicting direction attributes a=${m.direction} and a=${attr.name}`);
    }
    m.direction = attr.name;
    return;
  }
  m.attributes.push(attr);
}

/**
 * RFC 8866 §6.6: `<pt> <encoding name>/<clock rate>[/<channels>]`. An rtpmap we cannot use —
 * ill-formed (RFC 4475 §3.1.1.3's `a=rtpmap:31 LPC`), zero clock or channels, for a payload type
 * the m= line does not list, or a second one for a payload type — gives undefined: the caller keeps
 * it as a plain attribute, and `identifyFormat` then treats its payload type as unknown. A stream
 * we do not use must not cost the call (RFC 8866 §5.13: unknown attributes are ignored); an audio
 * section left without a usable codec is refused at negotiation (RFC 3264 §6: 488).
 */
function parseRtpmap(value: string, m: MediaDraft): RtpMap | undefined {
  const r = /^(\d{1,3}) +([^\s/]+)\/(\d{1,9})(?:\/(\d{1,3}))?$/.exec(value);
  if (!r || !m.formats.includes(r[1])) return undefined;
  const payloadType = Number(r[1]);
  if (m.rtpmaps.some((x) => x.payloadType === payloadType)) return undefined;
  const clockRate = Number(r[3]);
  const channels = r[4] === undefined ? undefined : Number(r[4]);
  if (clockRate === 0 || channels === 0) return undefined;
  return channels === undefined
    ? { payloadType, encodingName: r[2], clockRate }
    : { payloadType, encodingName: r[2], clockRate, channels };
}

/** RFC 8866 §6.15: `<format> <format specific parameters>`. */
function parseFmtp(value: string, m: MediaDraft, fail: Fail): Fmtp {
  const sp = value.indexOf(" ");
  const format = sp < 0 ? value : value.slice(0, sp);
  const parameters = sp < 0 ? "" : value.slice(sp + 1).trim();
  if (!m.formats.includes(format)) {
    fail(`a=fmtp for format ${clip(format)} not listed on the m= line`);
  }
  if (m.fmtps.some((x) => x.format === format)) fail(`duplicate a=fmtp for format ${format}`);
  return { format, parameters };
}

function parsePacketTime(name: string, value: string, fail: Fail): number {
  if (!DECIMAL.test(value)) {
    fail(`a=${name} value "${clip(value)}" is not a number of milliseconds`);
  }
  const ms = Number(value);
  if (ms <= 0 || ms > MAX_PACKET_TIME_MS) {
    fail(`a=${name}:${value} is out of range (0 < ${name} <= ${MAX_PACKET_TIME_MS} ms)`);
  }
  return ms;
}

/** RFC 3605 §2.1: `<port> [IN <addrtype> <address>]`. */
function parseRtcp(value: string, fail: Fail): RtcpAttribute {
  const parts = value.split(/ +/);
  if (!/^\d{1,5}$/.test(parts[0]) || Number(parts[0]) > 65535) {
    fail(`a=rtcp port "${clip(parts[0])}" is not a port number`);
  }
  const port = Number(parts[0]);
  if (parts.length === 1) return { port };
  if (parts.length !== 4) fail(`a=rtcp must be "<port> [IN <IP4|IP6> <address>]"`);
  return { port, connection: parseConnection(parts.slice(1).join(" "), fail) };
}
