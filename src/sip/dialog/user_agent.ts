/**
 * The user agent core (RFC 3261 §8, §12): sits on a `TransactionLayer`, starts outgoing calls,
 * turns new INVITEs into `IncomingCall`s, and routes every other request to its dialog by Call-ID
 * and tags — 481 when a To tag matches none (§12.2.2), ACKs without a dialog dropped, 2xx
 * retransmissions after the INVITE transaction re-ACKed (§13.2.2.4). Before a request reaches a
 * dialog or the application it passes the UAS checks of §8.2: Request-URI scheme (416), Require
 * (420), body type (415) and, for a new INVITE, Accept (406).
 */
import type { Logger } from "../../log/logger.ts";
import {
  buildResponse,
  generateTag,
  isKnownMethod,
  mediaTypeParam,
  type NameAddr,
  parseMediaType,
  type SipRequest,
  type SipResponse,
} from "../message/mod.ts";
import type { Destination, HostPort, TransportProto } from "../transport/mod.ts";
import {
  type AnyServerTransaction,
  type Clock,
  type IncomingRequest,
  InviteServerTransaction,
  systemClock,
  type TransactionLayer,
} from "../transaction/mod.ts";
import type { DialogUsage, UaContext } from "./_context.ts";
import { dialogKey } from "./dialog_state.ts";
import { IncomingCall } from "./incoming_call.ts";
import { type InviteOptions, OutgoingCall } from "./outgoing_call.ts";
import { ALLOW, contactAddress, SDP_TYPE } from "./requests.ts";
import { literalResolver, type Resolver } from "./routing.ts";
import { DEFAULT_SESSION_TIMER, type SessionTimerSettings } from "./session_timer.ts";

/** Option tags we understand in a Require header (RFC 3261 §8.2.2.3). */
const UNDERSTOOD = new Set(["timer"]);

/** Request-URI schemes we serve (RFC 3261 §8.2.2.1); others get 416. */
const SCHEMES = new Set(["sip", "sips", "tel"]);

/** Methods whose body we read as a session description (RFC 3261 §13.2.1, RFC 3311 §5.2). */
const SDP_METHODS = new Set(["INVITE", "UPDATE"]);

/** Options for a `UserAgent`. */
export interface UserAgentOptions {
  /** The transaction layer; the UA takes over its `onRequest` and `onStrayResponse`. */
  readonly transactions: TransactionLayer;
  /**
   * Our address toward a destination, for Via sent-by and Contact: `TransportLayer.localFor`,
   * or the fake transport's `local` in tests.
   */
  readonly localFor: (to: Destination) => HostPort | undefined;
  /** Host written in Contact instead of the socket address (`SIP_EXTERNAL_IP`). */
  readonly externalHost?: string;
  /** User part of our Contact (e.g. `SIP_HOST`). */
  readonly contactUser?: string;
  /**
   * `SIP_USE_SOURCE_SOCKET`: in-dialog requests (ACK, BYE, re-INVITE, …) go to the peer's socket
   * (where its INVITE came from, or where ours went) instead of its Contact / route set.
   */
  readonly useSourceSocket?: boolean;
  /** Next hop URI → address (RFC 3263); default: the URI taken literally. */
  readonly resolve?: Resolver;
  /** Timer source for the UA core's own timers (tests share the transaction layer's fake). */
  readonly clock?: Clock;
  /** Session timer settings (RFC 4028); missing fields take `DEFAULT_SESSION_TIMER`'s. */
  readonly sessionTimer?: Partial<SessionTimerSettings>;
  /** `User-Agent` on requests and `Server` on responses. */
  readonly product?: string;
  /** Uniform random numbers in [0, 1) for the glare back-off (default `Math.random`). */
  readonly random?: () => number;
  /** A new INVITE outside any dialog. Without a handler calls are refused with 480. */
  readonly onInvite?: (call: IncomingCall) => void;
  /**
   * A request outside any dialog that is neither INVITE nor BYE (REGISTER, MESSAGE, OPTIONS, …):
   * return true after responding through `incoming.transaction`; otherwise the UA answers
   * (OPTIONS 200, known methods 405, others 501).
   */
  readonly onRequest?: (incoming: IncomingRequest) => boolean;
  readonly log?: Logger;
}

/** The user agent core: outgoing and incoming calls and the dialog table. */
export class UserAgent {
  /** New INVITEs; replaceable. */
  onInvite: ((call: IncomingCall) => void) | undefined;
  /** Out-of-dialog requests the UA does not serve itself; replaceable. */
  onRequest: ((incoming: IncomingRequest) => boolean) | undefined;
  readonly #ctx: UaContext;
  readonly #table = new Map<string, DialogUsage>();
  readonly #calls = new Set<OutgoingCall>();
  readonly #log: Logger | undefined;
  #closed = false;

  constructor(options: UserAgentOptions) {
    const transactions = options.transactions;
    this.onInvite = options.onInvite;
    this.onRequest = options.onRequest;
    this.#log = options.log;
    const product = options.product;
    const contact = (local: HostPort, transport: TransportProto, secure: boolean): NameAddr =>
      contactAddress(
        options.externalHost ? { host: options.externalHost, port: local.port } : local,
        transport,
        { user: options.contactUser, secure },
      );
    this.#ctx = {
      transactions,
      clock: options.clock ?? systemClock,
      timers: transactions.timers,
      resolve: options.resolve ?? literalResolver,
      sessionTimer: { ...DEFAULT_SESSION_TIMER, ...options.sessionTimer },
      random: options.random ?? Math.random,
      useSourceSocket: options.useSourceSocket ?? false,
      log: options.log,
      commonHeaders: product ? [["User-Agent", product]] : [],
      localFor: (to) => {
        const local = options.localFor(to);
        if (!local) throw new Error(`Cannot send: no ${to.transport} transport for ${to.host}`);
        return local;
      },
      contact,
      register: (key, usage) => void this.#table.set(key, usage),
      unregister: (key, usage) => {
        if (this.#table.get(key) === usage) this.#table.delete(key);
      },
    };
    transactions.onRequest = (incoming) => this.#receive(incoming);
    transactions.onStrayResponse = (response) => this.#stray(response);
  }

  /** Number of dialog-table entries (sessions and unanswered incoming calls). */
  get dialogCount(): number {
    return this.#table.size;
  }

  /**
   * Starts an outgoing call (RFC 3261 §13.2.1). The ring timeout is the caller's: call
   * `cancel()` (or abort `options.signal`) when it expires.
   */
  invite(options: InviteOptions): OutgoingCall {
    if (this.#closed) throw new Error("Cannot place call: user agent is closed");
    const call = new OutgoingCall(this.#ctx, options);
    this.#calls.add(call);
    call.result.then(
      () => this.#calls.delete(call),
      () => this.#calls.delete(call),
    );
    void call.start();
    return call;
  }

  /**
   * Ends everything without signalling: pending calls and sessions are closed (their timers
   * cleared, their transactions terminated) and the transaction layer is let go of. Idempotent;
   * the transaction layer itself belongs to the caller.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const call of [...this.#calls]) call.close();
    for (const usage of [...this.#table.values()]) usage.close();
    this.#table.clear();
    const t = this.#ctx.transactions;
    t.onRequest = undefined;
    t.onStrayResponse = undefined;
  }

  /** `using` support. */
  [Symbol.dispose](): void {
    this.close();
  }

  #receive(incoming: IncomingRequest): void {
    if (this.#closed) return;
    const request = incoming.request;
    if (request.method === "ACK") {
      // RFC 3261 §17: the ACK of a 2xx is the TU's; without a dialog it is dropped.
      this.#usageOf(request)?.receiveAck(request);
      return;
    }
    const tx = incoming.transaction;
    if (!tx) return;
    if (request.toTag !== undefined) {
      const usage = this.#usageOf(request);
      if (!usage) return this.#respond(tx, request, 481); // §12.2.2
      if (this.#refused(request, tx)) return;
      usage.receiveRequest(request, tx);
      return;
    }
    if (this.#refused(request, tx)) return;
    switch (request.method) {
      case "INVITE":
        return this.#invite(request, tx);
      case "BYE":
        return this.#respond(tx, request, 481);
    }
    const handler = this.onRequest;
    if (handler && this.#guard(() => handler(incoming))) return;
    if (request.method === "OPTIONS") {
      return this.#respond(tx, request, 200, [["Allow", ALLOW], ["Accept", SDP_TYPE]]);
    }
    if (isKnownMethod(request.method)) return this.#respond(tx, request, 405, [["Allow", ALLOW]]);
    this.#respond(tx, request, 501);
  }

  #invite(request: SipRequest, tx: AnyServerTransaction): void {
    if (!(tx instanceof InviteServerTransaction)) return;
    // RFC 3261 §21.4.7: our 2xx carries SDP, so a caller that accepts none cannot be answered.
    if (!acceptsSdp(request)) return this.#respond(tx, request, 406, [["Accept", SDP_TYPE]]);
    const handler = this.onInvite;
    if (!handler) return this.#respond(tx, request, 480);
    const call = new IncomingCall(this.#ctx, request, tx);
    call.start();
    try {
      handler(call);
    } catch (err) {
      // A failing application must not leave the caller with 100 Trying until Timer C.
      this.#log?.error("SIP INVITE handler threw", { error: err, call_id: request.callId });
      call.reject(500);
    }
  }

  /**
   * The UAS checks of RFC 3261 §8.2.2 and §8.2.3, in the RFC's order: Request-URI scheme (416),
   * Require (420), then the body of a request that may carry an offer (415). Answers and returns
   * true when the request is refused. CANCEL is exempt: it only names the INVITE it cancels
   * (§9.2), and the INVITE itself went through these checks.
   */
  #refused(request: SipRequest, tx: AnyServerTransaction): boolean {
    if (request.method === "CANCEL") return false;
    // §8.2.2.1: a Request-URI scheme we do not serve (RFC 4475 §3.3.2, §3.3.3).
    if (!SCHEMES.has(request.uri.scheme.toLowerCase())) {
      this.#respond(tx, request, 416);
      return true;
    }
    // §8.2.2.3: 420 listing the Require option tags we do not support.
    const missing = request.require.filter((t) => !UNDERSTOOD.has(t.toLowerCase()));
    if (missing.length > 0) {
      this.#respond(tx, request, 420, [["Unsupported", missing.join(", ")]]);
      return true;
    }
    // §8.2.3: a body we cannot read (RFC 4475 §3.3.6) gets 415 saying what we do read.
    if (SDP_METHODS.has(request.method) && request.body.length > 0) {
      const encoding = request.headers.getAll("Content-Encoding").join(",").trim().toLowerCase();
      if (encoding !== "" && encoding !== "identity") {
        this.#respond(tx, request, 415, [["Accept-Encoding", "identity"]]);
        return true;
      }
      const type = request.contentType;
      if (!type || `${type.type}/${type.subtype}`.toLowerCase() !== SDP_TYPE) {
        this.#respond(tx, request, 415, [["Accept", SDP_TYPE]]);
        return true;
      }
    }
    return false;
  }

  /** RFC 3261 §13.2.2.4: a 2xx to INVITE whose transaction is gone is ACKed by its dialog. */
  #stray(response: SipResponse): void {
    if (this.#closed) return;
    if (response.status < 200 || response.status >= 300) return;
    let method: string;
    try {
      method = response.cseq.method;
    } catch {
      return;
    }
    if (method !== "INVITE" || response.fromTag === undefined || response.toTag === undefined) {
      return;
    }
    this.#table.get(dialogKey(response.callId, response.fromTag, response.toTag))
      ?.receiveStray2xx(response);
  }

  /** The usage a request belongs to: local tag in To, remote tag in From (§12.2.2). */
  #usageOf(request: SipRequest): DialogUsage | undefined {
    const toTag = request.toTag;
    if (toTag === undefined) return undefined;
    return this.#table.get(dialogKey(request.callId, toTag, request.fromTag ?? ""));
  }

  #respond(
    tx: AnyServerTransaction,
    request: SipRequest,
    status: number,
    headers: [string, string][] = [],
  ): void {
    // RFC 3261 §8.2.6.2: a response outside a dialog gets a To tag of ours.
    const toTag = request.toTag === undefined && status > 100 ? generateTag() : undefined;
    tx.respond(buildResponse(request, status, undefined, { headers, toTag }));
  }

  #guard<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.#log?.error("SIP user agent handler threw", { error: err });
      return undefined;
    }
  }
}

/**
 * Whether the request's Accept header fields allow `application/sdp` (RFC 3261 §20.1): no Accept
 * means `application/sdp`; otherwise `application/sdp`, the `application` wildcard or the any-type
 * one must be listed with a q other than 0, and an empty Accept accepts nothing. A range we cannot
 * read is skipped.
 */
function acceptsSdp(request: SipRequest): boolean {
  const fields = request.headers.getAll("Accept");
  if (fields.length === 0) return true;
  for (const field of fields) {
    for (const range of splitRanges(field)) {
      const parsed = parseMediaType(range);
      if (!parsed.ok) continue;
      const { type, subtype } = parsed.value;
      const t = type.toLowerCase();
      const st = subtype.toLowerCase();
      const matches = (t === "*" && st === "*") ||
        (t === "application" && (st === "*" || st === "sdp"));
      if (!matches) continue;
      const q = mediaTypeParam(parsed.value, "q");
      if (q === undefined || !/^0(\.0{0,3})?$/.test(q.trim())) return true;
    }
  }
  return false;
}

/** The comma-separated media ranges of one Accept value, outside quoted strings. */
function splitRanges(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out.map((r) => r.trim()).filter((r) => r !== "");
}
