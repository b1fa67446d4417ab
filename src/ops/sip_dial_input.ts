/**
 * Validation of the SIP fields of `POST /v1/legs {"type":"sip"}` (compat-notes §1 "SIP outbound"):
 * each bad field is a 400 naming it, checked before anything is created, so a request either
 * dials or leaves nothing behind. Also the codec lists of this build.
 */
import type { Config } from "../config/types.ts";
import { BadRequest } from "../errors.ts";
import { type AudioCodecName, audioCodecName } from "../sdp/mod.ts";
import type { DigestCredentials } from "../sip/auth/digest.ts";
import {
  type NameAddr,
  nameAddr,
  parseNameAddr,
  parseUri,
  type SipUri,
  sipUri,
} from "../sip/message/mod.ts";

/** Codecs the RTP sessions of this build carry. */
export const MEDIA_CODECS: readonly AudioCodecName[] = ["PCMU", "PCMA", "G722"];

/** SIP_CODECS restricted to what the media plane supports, in configured order. */
export function enabledCodecs(config: Config): AudioCodecName[] {
  return config.sipCodecs.filter((c) =>
    MEDIA_CODECS.includes(c as AudioCodecName)
  ) as AudioCodecName[];
}

/** The SIP fields of a create-leg request. */
export interface SipDialInput {
  readonly to?: string;
  readonly uri?: string;
  readonly from?: string;
  readonly codecs?: readonly string[];
  readonly headers?: Record<string, string>;
  readonly privacy?: string;
  readonly outbound_proxy?: string;
  readonly auth?: { readonly username?: string; readonly password: string } | null;
}

/** A validated dial. */
export interface SipDial {
  readonly uri: SipUri;
  readonly from: NameAddr;
  readonly codecs: AudioCodecName[];
  /** Every extra header field for the INVITE, in request order (Privacy last). */
  readonly headers: [string, string][];
  /** The X-* subset, reported as the leg's `sip_headers`. */
  readonly xHeaders: Record<string, string>;
  readonly outboundProxy?: SipUri;
  readonly auth?: DigestCredentials;
}

/**
 * Header fields the stack writes itself: a caller-supplied copy would corrupt the dialog or the
 * framing (RFC 3261 §8.1.1 mandatory fields, routing, body description, authorization).
 */
const RESERVED_HEADERS = new Set([
  "via",
  "v",
  "from",
  "f",
  "to",
  "t",
  "call-id",
  "i",
  "cseq",
  "contact",
  "m",
  "max-forwards",
  "content-length",
  "l",
  "content-type",
  "c",
  "route",
  "record-route",
  "authorization",
  "proxy-authorization",
  "session-expires",
  "x",
  "min-se",
  "supported",
  "k",
  "require",
  "allow",
]);

/** RFC 3261 §25.1 token characters (a header field name). */
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * Validates all SIP dial fields; throws 400 naming the first bad one. `advertisedIp` is our
 * address for a bare `from` when SIP_DOMAIN and SIP_EXTERNAL_IP are unset.
 */
export function parseSipDial(input: SipDialInput, config: Config, advertisedIp: string): SipDial {
  const uri = parseTarget(input.to ?? input.uri);
  const from = parseFrom(input.from, config, advertisedIp);
  const codecs = parseCodecs(input.codecs, config);
  const headers: [string, string][] = [];
  const xHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (!TOKEN.test(name)) {
      throw new BadRequest(`invalid headers: ${JSON.stringify(name)} is not a header name`);
    }
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new BadRequest(`invalid headers: ${name} is set by the server`);
    }
    checkValue(`headers: ${name}`, value);
    headers.push([name, value]);
    if (name.toLowerCase().startsWith("x-")) xHeaders[name] = value;
  }
  if (input.privacy !== undefined && input.privacy !== "") {
    // RFC 3323 §4.2: priv-value *(";" priv-value), each a token (id, header, session, user, none…).
    const values = input.privacy.split(";").map((v) => v.trim());
    if (values.some((v) => !TOKEN.test(v))) {
      throw new BadRequest("invalid privacy: must be tokens separated by ';' (e.g. id, none)");
    }
    headers.push(["Privacy", values.join(";")]);
  }
  return {
    uri,
    from,
    codecs,
    headers,
    xHeaders,
    outboundProxy: parseProxy(input.outbound_proxy),
    auth: parseAuth(input.auth, from.uri.kind === "sip" ? from.uri.user ?? "" : ""),
  };
}

function checkValue(field: string, value: string): void {
  // A CR or LF would start a new header field (header injection); NUL is never valid.
  if (/[\r\n\0]/.test(value)) {
    throw new BadRequest(`invalid ${field}: contains a line break or NUL`);
  }
}

function parseTarget(raw: string | undefined): SipUri {
  if (raw === undefined || raw.trim() === "") {
    throw new BadRequest("invalid to: required for sip legs");
  }
  const parsed = parseUri(raw.trim());
  if (!parsed.ok || parsed.value.kind !== "sip" || parsed.value.host === "") {
    throw new BadRequest("invalid to: must be a sip: or sips: URI");
  }
  return parsed.value;
}

/** `sip:proxy.example.com:5060;transport=tcp`, or the same without the scheme. */
function parseProxy(raw: string | undefined): SipUri | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const text = /^sips?:/i.test(raw.trim()) ? raw.trim() : `sip:${raw.trim()}`;
  const parsed = parseUri(text);
  if (!parsed.ok || parsed.value.kind !== "sip" || parsed.value.host === "") {
    throw new BadRequest("invalid outbound_proxy: must be a SIP URI or host[:port]");
  }
  return parsed.value;
}

/** Digest credentials; the username defaults to the From user. */
function parseAuth(raw: SipDialInput["auth"], fromUser: string): DigestCredentials | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!raw.password) throw new BadRequest("invalid auth: password is required");
  checkValue("auth: password", raw.password);
  checkValue("auth: username", raw.username ?? "");
  return { username: raw.username || fromUser, password: raw.password };
}

/** `from` as a bare user or a full URI / name-addr; default `SIP_HOST@SIP_DOMAIN`. */
function parseFrom(raw: string | undefined, config: Config, advertisedIp: string): NameAddr {
  const host = config.sipDomain || config.sipExternalIp || advertisedIp;
  const bare = (user: string) => nameAddr({ uri: sipUri({ user, host }) });
  if (raw === undefined || raw === "") return bare(config.sipHost || "voiceblender");
  if (!/^[a-z][a-z0-9+.-]*:|[<"]/i.test(raw)) return bare(raw);
  const parsed = parseNameAddr(raw);
  if (!parsed.ok || parsed.value.uri.kind === "other") {
    throw new BadRequest("invalid from: must be a user name or a SIP URI");
  }
  return nameAddr({ displayName: parsed.value.displayName, uri: parsed.value.uri });
}

function parseCodecs(raw: readonly string[] | undefined, config: Config): AudioCodecName[] {
  const enabled = enabledCodecs(config);
  if (raw === undefined || raw.length === 0) {
    if (enabled.length === 0) throw new BadRequest("invalid codecs: SIP_CODECS enables none");
    return enabled;
  }
  const out: AudioCodecName[] = [];
  for (const name of raw) {
    const codec = audioCodecName(name);
    if (!codec || !MEDIA_CODECS.includes(codec)) {
      throw new BadRequest(`invalid codec: ${name} (supported: ${MEDIA_CODECS.join(", ")})`);
    }
    if (!out.includes(codec)) out.push(codec);
  }
  return out;
}
