/**
 * RFC 8866 (formerly RFC 4566) session description parser.
 *
 * Strict about structure — `v=0` first, one `o=`, known type letters only (RFC 8866 §5: a
 * description with a type letter we do not understand must be ignored, so we refuse it), numeric
 * ports and payload types, fmtp only for formats the m= line declares — and tolerant about
 * transport noise (CRLF or bare LF, trailing whitespace, blank lines, a missing `s=` or `t=`) and
 * about an a=rtpmap it cannot use, which stays a plain attribute so that one ill-formed stream we
 * would refuse anyway does not cost the call (RFC 4475 §3.1.1.3).
 * Every failure is an {@link SdpParseError}; nothing else is thrown.
 */

import {
  clip,
  DIGITS,
  isDirection,
  MAX_PACKET_TIME_MS,
  type MediaDraft,
  parseAttribute,
  parseBandwidth,
  parseConnection,
  parseMediaAttribute,
  parseMediaLine,
  parseOrigin,
} from "./_parse_fields.ts";
import type {
  Attribute,
  Bandwidth,
  Connection,
  Direction,
  MediaDescription,
  Origin,
  SessionDescription,
} from "./types.ts";

export { MAX_PACKET_TIME_MS };

/** A session description that cannot be used; `message` reads `Cannot parse SDP: line N: …`. */
export class SdpParseError extends Error {
  /** 1-based line of the offending text, when one line is to blame. */
  readonly line?: number;
  constructor(detail: string, line?: number) {
    super(`Cannot parse SDP: ${line === undefined ? "" : `line ${line}: `}${detail}`);
    this.name = "SdpParseError";
    this.line = line;
  }
}

const KNOWN_TYPES = new Set("vosiuepcbtrzkam");
const MEDIA_TYPES = new Set("icbkam");

/** Parses an SDP body. Throws {@link SdpParseError} — and only that — when it is unusable. */
export function parseSdp(text: string): SessionDescription {
  if (typeof text !== "string") throw new SdpParseError("body is not text");
  const lines = text.split(/\r?\n/);
  let origin: Origin | undefined;
  let sessionName: string | undefined;
  let info: string | undefined;
  let uri: string | undefined;
  let connection: Connection | undefined;
  let timeZones: string | undefined;
  let key: string | undefined;
  let direction: Direction | undefined;
  let sawVersion = false;
  const emails: string[] = [];
  const phones: string[] = [];
  const bandwidths: Bandwidth[] = [];
  const timing: { start: number; stop: number; repeats: string[] }[] = [];
  const attributes: Attribute[] = [];
  const media: MediaDraft[] = [];
  let current: MediaDraft | undefined;

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i].replace(/[ \t]+$/, "");
    if (raw === "") continue;
    const fail = (detail: string): never => {
      throw new SdpParseError(detail, lineNo);
    };
    if (raw.length < 2 || raw[1] !== "=") fail(`expected <type>=<value>, got "${clip(raw)}"`);
    const type = raw[0];
    const value = raw.slice(2);
    if (!KNOWN_TYPES.has(type)) fail(`unknown line type "${clip(type)}="`);
    if (/[\0\r]/.test(value)) fail(`${type}= contains a control character`);
    if (!sawVersion) {
      if (type !== "v") fail("the description must start with v=0");
      if (value !== "0") fail(`unsupported protocol version v=${clip(value)}`);
      sawVersion = true;
      continue;
    }
    if (type !== "s" && value === "") fail(`${type}= has no value`);
    if (current !== undefined && !MEDIA_TYPES.has(type)) {
      fail(`${type}= is not allowed inside a media section`);
    }
    switch (type) {
      case "v":
        fail("duplicate v= line");
        break;
      case "o":
        if (origin !== undefined) fail("duplicate o= line");
        origin = parseOrigin(value, fail);
        break;
      case "s":
        if (sessionName !== undefined) fail("duplicate s= line");
        sessionName = value;
        break;
      case "i":
        if (current) current.info = value;
        else info = value;
        break;
      case "u":
        uri = value;
        break;
      case "e":
        emails.push(value);
        break;
      case "p":
        phones.push(value);
        break;
      case "c": {
        const c = parseConnection(value, fail);
        if (current) current.connection = c;
        else connection = c;
        break;
      }
      case "b":
        (current ? current.bandwidths : bandwidths).push(parseBandwidth(value, fail));
        break;
      case "t": {
        const [start, stop, ...extra] = value.split(/ +/);
        if (extra.length > 0 || !DIGITS.test(start) || !DIGITS.test(stop ?? "")) {
          fail(`t= must be "<start> <stop>", got "${clip(value)}"`);
        }
        timing.push({ start: Number(start), stop: Number(stop), repeats: [] });
        break;
      }
      case "r":
        if (timing.length === 0) fail("r= must follow a t= line");
        timing[timing.length - 1].repeats.push(value);
        break;
      case "z":
        timeZones = value;
        break;
      case "k":
        if (current) current.key = value;
        else key = value;
        break;
      case "m":
        if (origin === undefined) fail("m= before o=");
        current = parseMediaLine(value, lineNo, fail);
        media.push(current);
        break;
      case "a":
        if (current) {
          parseMediaAttribute(value, current, fail);
        } else {
          const attr = parseAttribute(value, fail);
          if (isDirection(attr.name)) {
            if (attr.value !== undefined) fail(`a=${attr.name} takes no value`);
            if (direction !== undefined && direction !== attr.name) {
              fail(`conflicting direction attributes a=${direction} and a=${attr.name}`);
            }
            direction = attr.name;
          } else {
            attributes.push(attr);
          }
        }
        break;
    }
  }

  if (!sawVersion) throw new SdpParseError("empty description (no v= line)");
  if (origin === undefined) throw new SdpParseError("missing o= line");
  for (const m of media) {
    if (m.port !== 0 && m.connection === undefined && connection === undefined) {
      throw new SdpParseError(
        `m=${m.media} has no c= line and the session has no c= line`,
        m.lineNo,
      );
    }
  }

  return compact({
    origin,
    sessionName: sessionName ?? "-",
    info,
    uri,
    emails,
    phones,
    connection,
    bandwidths,
    timing: timing.length > 0 ? timing : [{ start: 0, stop: 0, repeats: [] }],
    timeZones,
    key,
    direction,
    attributes,
    media: media.map(finishMedia),
  });
}

function finishMedia(d: MediaDraft): MediaDescription {
  const { rtp: _rtp, lineNo: _lineNo, ...m } = d;
  // Canonical order: the m= line's format order, which is also the order serializeSdp writes.
  const rank = (format: string) => m.formats.indexOf(format);
  m.rtpmaps.sort((a, b) => rank(`${a.payloadType}`) - rank(`${b.payloadType}`));
  m.fmtps.sort((a, b) => rank(a.format) - rank(b.format));
  return compact(m);
}

/** Drops keys whose value is undefined, so parsed and hand-built descriptions compare equal. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) {
    if (o[k] === undefined) delete o[k];
  }
  return o;
}
