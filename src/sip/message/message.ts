/**
 * SIP requests and responses (RFC 3261 §7): start line, ordered header fields and body, with
 * typed accessors for the header fields the upper layers read.
 */
import { hasControl, isToken } from "./_chars.ts";
import type { AuthValue } from "./auth_header.ts";
import type { MediaType } from "./content_type.ts";
import type { KnownHeaderName, KnownHeaders } from "./header_codec.ts";
import { SipHeaders } from "./headers.ts";
import { type Contact, type NameAddr, tagOf } from "./name_addr.ts";
import type { CSeq } from "./scalar_headers.ts";
import type { SessionExpires } from "./session_timer.ts";
import type { Uri } from "./uri.ts";
import type { Via } from "./via.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBody(body: Uint8Array | string | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  return typeof body === "string" ? encoder.encode(body) : body;
}

function toHeaders(h: SipHeaders | Iterable<readonly [string, string]> | undefined): SipHeaders {
  return h instanceof SipHeaders ? h : new SipHeaders(h ?? []);
}

/** Body, header fields and the typed accessors shared by requests and responses. */
export abstract class SipMessageBase {
  /** Header fields in wire order. */
  readonly headers: SipHeaders;
  /** The message body (RFC 3261 §7.4); Content-Length is derived from it on output. */
  body: Uint8Array;

  /** Used by the subclasses. */
  constructor(headers: SipHeaders, body: Uint8Array) {
    this.headers = headers;
    this.body = body;
  }

  #required<K extends KnownHeaderName>(name: K): KnownHeaders[K] {
    const v = this.headers.first(name);
    if (v === undefined) throw new Error(`SIP message has no ${name} header`);
    return v;
  }

  /** Every Via value, top first (RFC 3261 §20.42). */
  get via(): Via[] {
    return this.headers.all("Via");
  }

  /** The top Via (RFC 3261 §17.2.3 transaction matching, §18.2.2 response routing). */
  get topVia(): Via | undefined {
    return this.headers.first("Via");
  }

  /** From (RFC 3261 §20.20); throws when absent, which `parseMessage` never lets through. */
  get from(): NameAddr {
    return this.#required("From");
  }

  /** To (RFC 3261 §20.39); throws when absent. */
  get to(): NameAddr {
    return this.#required("To");
  }

  /** The From tag (RFC 3261 §19.3); absent in RFC 2543 requests. */
  get fromTag(): string | undefined {
    return tagOf(this.headers.first("From"));
  }

  /** The To tag; present once a dialog is established (RFC 3261 §12.1). */
  get toTag(): string | undefined {
    return tagOf(this.headers.first("To"));
  }

  /** Call-ID (RFC 3261 §20.8); throws when absent. */
  get callId(): string {
    return this.#required("Call-ID");
  }

  /** CSeq (RFC 3261 §20.16); throws when absent. */
  get cseq(): CSeq {
    return this.#required("CSeq");
  }

  /** Max-Forwards (RFC 3261 §20.22), if present. */
  get maxForwards(): number | undefined {
    return this.headers.first("Max-Forwards");
  }

  /** Contact values in order (RFC 3261 §20.10), `*` included. */
  get contacts(): Contact[] {
    return this.headers.all("Contact");
  }

  /** Route set entries in order (RFC 3261 §20.34). */
  get routes(): NameAddr[] {
    return this.headers.all("Route");
  }

  /** Record-Route entries in order (RFC 3261 §20.30). */
  get recordRoutes(): NameAddr[] {
    return this.headers.all("Record-Route");
  }

  /** Content-Type (RFC 3261 §20.15), if present. */
  get contentType(): MediaType | undefined {
    return this.headers.first("Content-Type");
  }

  /** The Content-Length as declared (RFC 3261 §20.14); the body length is what is sent. */
  get contentLength(): number | undefined {
    return this.headers.first("Content-Length");
  }

  /** Expires (RFC 3261 §20.19); `undefined` when absent or malformed (RFC 4475 §3.1.2.4). */
  get expires(): number | undefined {
    return this.headers.first("Expires");
  }

  /** Option tags of every Supported header (RFC 3261 §20.37). */
  get supported(): string[] {
    return this.headers.all("Supported").flat();
  }

  /** Option tags of every Require header (RFC 3261 §20.32). */
  get require(): string[] {
    return this.headers.all("Require").flat();
  }

  /** Option tags of every Proxy-Require header (RFC 3261 §20.29). */
  get proxyRequire(): string[] {
    return this.headers.all("Proxy-Require").flat();
  }

  /** Option tags of every Unsupported header (RFC 3261 §20.40). */
  get unsupported(): string[] {
    return this.headers.all("Unsupported").flat();
  }

  /** Methods of every Allow header (RFC 3261 §20.5). */
  get allow(): string[] {
    return this.headers.all("Allow").flat();
  }

  /** Session-Expires (RFC 4028 §4), if present. */
  get sessionExpires(): SessionExpires | undefined {
    return this.headers.first("Session-Expires");
  }

  /** Min-SE seconds (RFC 4028 §5), if present. */
  get minSe(): number | undefined {
    return this.headers.first("Min-SE")?.seconds;
  }

  /** Authorization credentials (RFC 3261 §20.7). */
  get authorization(): AuthValue[] {
    return this.headers.all("Authorization");
  }

  /** Proxy-Authorization credentials (RFC 3261 §20.28). */
  get proxyAuthorization(): AuthValue[] {
    return this.headers.all("Proxy-Authorization");
  }

  /** WWW-Authenticate challenges (RFC 3261 §20.44). */
  get wwwAuthenticate(): AuthValue[] {
    return this.headers.all("WWW-Authenticate");
  }

  /** Proxy-Authenticate challenges (RFC 3261 §20.27). */
  get proxyAuthenticate(): AuthValue[] {
    return this.headers.all("Proxy-Authenticate");
  }

  /** Date (RFC 3261 §20.17), if present. */
  get date(): Date | undefined {
    return this.headers.first("Date");
  }

  /** The body decoded as UTF-8 (SDP, text/plain, sipfrag). */
  get bodyText(): string {
    return decoder.decode(this.body);
  }
}

/** Fields for `new SipRequest()`; `body` may be text (encoded as UTF-8). */
export interface SipRequestInit {
  /** Method token, e.g. `SipMethod.INVITE`. */
  readonly method: string;
  /** Request-URI. */
  readonly uri: Uri;
  /** Header fields, as a `SipHeaders` or `[name, value]` pairs. */
  readonly headers?: SipHeaders | Iterable<readonly [string, string]>;
  /** Body; text is encoded as UTF-8. */
  readonly body?: Uint8Array | string;
}

/** A SIP request (RFC 3261 §7.1). */
export class SipRequest extends SipMessageBase {
  /** Discriminant of `SipMessage`. */
  readonly kind = "request" as const;
  /** The method token, case-sensitive (RFC 3261 §7.1). */
  method: string;
  /** The Request-URI. */
  uri: Uri;

  /** Throws `TypeError` when `method` is not a token (a caller bug, not a wire error). */
  constructor(init: SipRequestInit) {
    super(toHeaders(init.headers), toBody(init.body));
    if (!isToken(init.method)) throw new TypeError(`Invalid SIP method "${init.method}"`);
    this.method = init.method;
    this.uri = init.uri;
  }

  /** A deep-enough copy: new header list and body buffer, shared immutable values. */
  clone(): SipRequest {
    return new SipRequest({
      method: this.method,
      uri: this.uri,
      headers: this.headers.clone(),
      body: this.body.slice(),
    });
  }
}

/** Fields for `new SipResponse()`. */
export interface SipResponseInit {
  /** Status code, 100–699. */
  readonly status: number;
  /** Reason phrase (see `reasonPhrase()`). */
  readonly reason: string;
  /** Header fields, as a `SipHeaders` or `[name, value]` pairs. */
  readonly headers?: SipHeaders | Iterable<readonly [string, string]>;
  /** Body; text is encoded as UTF-8. */
  readonly body?: Uint8Array | string;
}

/** A SIP response (RFC 3261 §7.2). */
export class SipResponse extends SipMessageBase {
  /** Discriminant of `SipMessage`. */
  readonly kind = "response" as const;
  /** Status-Code, 100–699 (RFC 3261 §7.2). */
  status: number;
  /** Reason-Phrase; may be empty (RFC 4475 §3.1.1.13). */
  reason: string;

  /** Throws `TypeError` for a status outside 100–699 or a reason with control characters. */
  constructor(init: SipResponseInit) {
    super(toHeaders(init.headers), toBody(init.body));
    if (!Number.isInteger(init.status) || init.status < 100 || init.status > 699) {
      throw new TypeError(`Invalid SIP status ${init.status}`);
    }
    // Reason-Phrase admits no control characters but HTAB (RFC 3261 §25.1).
    if (hasControl(init.reason)) {
      throw new TypeError("Invalid SIP reason phrase");
    }
    this.status = init.status;
    this.reason = init.reason;
  }

  /** A deep-enough copy: new header list and body buffer, shared immutable values. */
  clone(): SipResponse {
    return new SipResponse({
      status: this.status,
      reason: this.reason,
      headers: this.headers.clone(),
      body: this.body.slice(),
    });
  }
}

/** A SIP message: discriminate on `kind`. */
export type SipMessage = SipRequest | SipResponse;
