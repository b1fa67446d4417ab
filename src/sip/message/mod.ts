/**
 * SIP messages (RFC 3261 §7, §19, §20, §25): URIs, header fields, parsing, stream framing,
 * serialization and response building: the bottom layer of the SIP stack.
 *
 * @module
 */
export {
  type AuthParam,
  authParam,
  type AuthValue,
  formatAuthValue,
  parseAuthValue,
} from "./auth_header.ts";
export { buildErrorResponse, buildResponse, type ResponseOptions } from "./build_response.ts";
export {
  formatMediaType,
  isMediaType,
  type MediaType,
  mediaTypeParam,
  parseMediaType,
} from "./content_type.ts";
export type { KnownHeaderName, KnownHeaders } from "./header_codec.ts";
export { canonicalHeaderName, compactHeaderName, headerKey } from "./header_names.ts";
export { type HeaderEntry, type HeaderField, SipHeaders } from "./headers.ts";
export {
  bareHost,
  formatHostPort,
  hostsEqual,
  isIpLiteral,
  isIPv4,
  isIPv6,
  isValidHost,
  parsePort,
} from "./host.ts";
export { generateBranch, generateCallId, generateTag } from "./ids.ts";
export {
  type SipMessage,
  SipMessageBase,
  SipRequest,
  type SipRequestInit,
  SipResponse,
  type SipResponseInit,
} from "./message.ts";
export { isKnownMethod, type KnownMethod, SipMethod } from "./method.ts";
export {
  type Contact,
  contactExpires,
  formatContact,
  formatNameAddr,
  type NameAddr,
  nameAddr,
  type NameAddrInit,
  parseContact,
  parseNameAddr,
  tagOf,
  withTag,
} from "./name_addr.ts";
export { formatTokenList, parseTokenList } from "./option_tags.ts";
export {
  formatParams,
  getParam,
  hasParam,
  type Param,
  type Parsed,
  withoutParam,
  withParam,
} from "./params.ts";
export type { ParseError, ParseResult } from "./parse_error.ts";
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_HEADERS,
  isKeepAlive,
  parseMessage,
  type ParseOptions,
} from "./parser.ts";
export {
  type CSeq,
  formatCSeq,
  MAX_CSEQ,
  MAX_DELTA_SECONDS,
  parseCSeq,
  parseDeltaSeconds,
} from "./scalar_headers.ts";
export { formatStartLine, serialize } from "./serializer.ts";
export {
  formatSessionTimer,
  type MinSe,
  parseMinSe,
  parseSessionExpires,
  type SessionExpires,
  sessionExpires,
} from "./session_timer.ts";
export { formatSipDate, parseSipDate } from "./sip_date.ts";
export { reasonPhrase } from "./status.ts";
export { type FrameEvent, StreamFramer, type StreamFramerOptions } from "./stream_framer.ts";
export {
  formatUri,
  type OtherUri,
  parseRequestUri,
  parseUri,
  type SipUri,
  sipUri,
  type SipUriInit,
  type TelUri,
  type Uri,
  uriParam,
} from "./uri.ts";
export { uriEquals } from "./uri_compare.ts";
export {
  BRANCH_MAGIC_COOKIE,
  formatVia,
  isRfc3261Branch,
  parseVia,
  salvageVia,
  type Via,
  via,
  type ViaInit,
  withViaParam,
} from "./via.ts";
