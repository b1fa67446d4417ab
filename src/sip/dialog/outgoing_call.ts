/**
 * The UAC side of a dialog-creating INVITE (RFC 3261 §13.2): provisional responses and early
 * dialogs (§12.1.2, 183 early media), the 2xx that confirms a dialog and the ACK the UA core sends
 * for it and every retransmission (§13.2.2.4), failures, one retry after a digest challenge
 * (§22.2) or a 422 (RFC 4028 §7.4), and CANCEL (§9.1).
 */
import type { DigestCredentials } from "../auth/digest.ts";
import {
  formatAuthValue,
  generateCallId,
  generateTag,
  type NameAddr,
  nameAddr,
  SipHeaders,
  SipRequest,
  type SipResponse,
  type SipUri,
  withTag,
} from "../message/mod.ts";
import type { Destination } from "../transport/mod.ts";
import { buildCancel, type InviteClientTransaction } from "../transaction/mod.ts";
import type { UaContext } from "./_context.ts";
import { answerChallenge, type Authorization, isChallenge } from "./auth_retry.ts";
import { DialogState } from "./dialog_state.ts";
import { CallFailedError } from "./reasons.ts";
import { addVia, ALLOW, sdpOf, setSdp } from "./requests.ts";
import { outboundProxyRoute } from "./routing.ts";
import { DialogSession } from "./session.ts";
import { acceptAsUac } from "./session_timer.ts";

/** What to call and how. */
export interface InviteOptions {
  /** The Request-URI: who is called. */
  readonly uri: SipUri;
  /** To (default: `<uri>`). */
  readonly to?: NameAddr;
  /** From, without tag (one is added). */
  readonly from: NameAddr;
  /** Call-ID (default: a new one). */
  readonly callId?: string;
  /** The SDP offer. */
  readonly sdp?: string;
  /** Extra header fields: X-…, P-Asserted-Identity, Privacy, … (RFC 3323, RFC 3325). */
  readonly headers?: Iterable<readonly [string, string]>;
  /** Send through this proxy as a pre-loaded loose route (RFC 3261 §8.1.2). */
  readonly outboundProxy?: SipUri;
  /** Answer one 401/407 with these (RFC 3261 §22.2). */
  readonly auth?: DigestCredentials;
  /** Ask for this session interval in seconds (RFC 4028 §7.1). */
  readonly sessionExpires?: number;
  /** Aborting it cancels the call. */
  readonly signal?: AbortSignal;
  /** Every provisional response above 100 (180 Ringing, 183 …). */
  readonly onProvisional?: (response: SipResponse) => void;
  /** A provisional response carried SDP: early media (RFC 3960). */
  readonly onEarlyMedia?: (sdp: string, response: SipResponse) => void;
}

/** Where an outgoing call stands. */
export type OutgoingCallState = "calling" | "proceeding" | "answered" | "failed";

/** An INVITE on its way; `result` settles with the session or the failure. */
export class OutgoingCall {
  readonly callId: string;
  readonly localTag: string;
  /** The session once a 2xx arrives; rejects with `CallFailedError`. */
  readonly result: Promise<DialogSession>;
  readonly #ctx: UaContext;
  readonly #options: InviteOptions;
  readonly #settle: PromiseWithResolvers<DialogSession>;
  /** Early dialogs by remote tag (RFC 3261 §12.1.2). */
  readonly #early = new Map<string, DialogState>();
  #state: OutgoingCallState = "calling";
  #request: SipRequest | undefined;
  #destination: Destination | undefined;
  #tx: InviteClientTransaction | undefined;
  #session: DialogSession | undefined;
  /** Every session a 2xx created, by remote tag (forks; RFC 3261 §13.2.2.4). */
  readonly #answered = new Map<string, DialogSession>();
  #cancelWanted = false;
  #cancelSent = false;
  #retried = false;
  #failure: CallFailedError | undefined;
  #onAbort: (() => void) | undefined;

  /** Internal: made by `UserAgent.invite`. */
  constructor(ctx: UaContext, options: InviteOptions) {
    this.#ctx = ctx;
    this.#options = options;
    this.callId = options.callId ?? generateCallId();
    this.localTag = generateTag();
    this.#settle = Promise.withResolvers<DialogSession>();
    this.result = this.#settle.promise;
    this.result.catch(() => {});
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) this.#cancelWanted = true;
      this.#onAbort = () => this.cancel();
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
  }

  /** Where the call stands. */
  get state(): OutgoingCallState {
    return this.#state;
  }

  /** Early dialogs, one per answering fork, until the call is answered or fails. */
  get earlyDialogs(): readonly DialogState[] {
    return this.#state === "proceeding" ? [...this.#early.values()] : [];
  }

  /** Why the call failed, once it has. */
  get failure(): CallFailedError | undefined {
    return this.#failure;
  }

  /** The INVITE last sent (after an auth retry, the second one). */
  get request(): SipRequest | undefined {
    return this.#request;
  }

  /** Internal: resolve the next hop and send the INVITE. */
  async start(): Promise<void> {
    try {
      if (this.#cancelWanted) throw new CallFailedError("cancelled");
      const proxy = this.#options.outboundProxy;
      const destination = await this.#ctx.resolve(proxy ?? this.#options.uri);
      this.#destination = destination;
      if (this.#cancelWanted) throw new CallFailedError("cancelled");
      this.#send(this.#build(1, undefined, this.#options.sessionExpires));
    } catch (err) {
      this.#fail(
        err instanceof CallFailedError ? err : new CallFailedError("invite_failed", { cause: err }),
      );
    }
  }

  /**
   * Gives up: CANCEL once a provisional has arrived (RFC 3261 §9.1), or as soon as one does;
   * before anything was sent the call fails at once. `result` rejects with `cancelled` (unless a
   * 2xx crossed the CANCEL: that session is then ended with a BYE).
   */
  cancel(): void {
    if (this.#state === "answered" || this.#state === "failed") return;
    this.#cancelWanted = true;
    if (!this.#tx) return; // start() notices before sending
    if (this.#tx.hasProvisional) this.#sendCancel();
  }

  /** Stops without signalling: terminates the INVITE transaction and any session. */
  close(): void {
    this.#tx?.terminate();
    for (const session of this.#answered.values()) session.close();
    this.#fail(new CallFailedError("invite_failed", { message: "SIP call closed" }));
  }

  #build(seq: number, auth: Authorization | undefined, sessionExpires?: number): SipRequest {
    const o = this.#options;
    const destination = this.#destination!;
    const local = this.#ctx.localFor(destination);
    const h = new SipHeaders();
    h.append("Max-Forwards", 70);
    if (o.outboundProxy) h.append("Route", outboundProxyRoute(o.outboundProxy));
    h.append("From", withTag(o.from, this.localTag));
    h.append("To", o.to ?? nameAddr({ uri: o.uri }));
    h.append("Call-ID", this.callId);
    h.append("CSeq", { seq, method: "INVITE" });
    h.append("Contact", this.#ctx.contact(local, destination.transport, this.#secure()));
    h.append("Allow", ALLOW);
    const st = this.#ctx.sessionTimer;
    if (st.enabled) {
      h.append("Supported", "timer");
      if (sessionExpires !== undefined) {
        h.append("Session-Expires", String(sessionExpires));
        h.append("Min-SE", String(Math.min(st.minSe, sessionExpires)));
      }
    }
    for (const [name, value] of this.#ctx.commonHeaders) h.append(name, value);
    for (const [name, value] of o.headers ?? []) h.append(name, value);
    if (auth) h.append(auth.name, formatAuthValue(auth.value));
    const request = new SipRequest({ method: "INVITE", uri: o.uri, headers: h });
    setSdp(request, o.sdp);
    addVia(request, destination, local);
    return request;
  }

  #secure(): boolean {
    return this.#options.uri.scheme === "sips" && this.#destination?.transport === "tls";
  }

  #send(request: SipRequest): void {
    this.#request = request;
    const tx = this.#ctx.transactions.sendRequest(request, this.#destination!, {
      onResponse: (response) => this.#onResponse(request, response),
    }) as InviteClientTransaction;
    this.#tx = tx;
    tx.response().catch((err) => {
      if (this.#tx !== tx) return;
      const reason = this.#cancelWanted ? "cancelled" : "invite_failed";
      this.#fail(new CallFailedError(reason, { cause: err }));
    });
  }

  #sendCancel(): void {
    if (this.#cancelSent || !this.#tx || !this.#request) return;
    this.#cancelSent = true;
    const cancel = buildCancel(this.#request);
    try {
      this.#ctx.transactions.sendRequest(cancel, this.#destination!);
      this.#tx.cancelSent();
    } catch (err) {
      this.#ctx.log?.warn("Cannot send CANCEL", { error: err, call_id: this.callId });
    }
  }

  #onResponse(request: SipRequest, response: SipResponse): void {
    if (request !== this.#request) return;
    const status = response.status;
    if (status < 200) return this.#provisional(response);
    if (status < 300) return this.#success(request, response);
    if (this.#state === "failed" || this.#state === "answered") return;
    if (isChallenge(status) && this.#options.auth && !this.#retried && !this.#cancelWanted) {
      this.#retried = true;
      const auth = answerChallenge(request, response, this.#options.auth);
      if (auth) return this.#send(this.#build(request.cseq.seq + 1, auth, this.#asked(request)));
    }
    const minSe = response.minSe;
    if (status === 422 && minSe !== undefined && !this.#retried && !this.#cancelWanted) {
      // RFC 4028 §7.4: retry once with the interval the 422 asks for.
      this.#retried = true;
      const auth = this.#authOf(request);
      return this.#send(this.#build(request.cseq.seq + 1, auth, minSe));
    }
    this.#fail(CallFailedError.fromResponse(response));
  }

  #provisional(response: SipResponse): void {
    if (this.#state === "calling") this.#state = "proceeding";
    if (this.#cancelWanted) this.#sendCancel();
    // RFC 3261 §12.1.2: a tagged provisional creates an early dialog (one per fork); a later
    // one from the same fork refreshes its target. The 2xx recomputes it all (§13.2.2.4).
    const tag = response.toTag;
    const request = this.#request;
    if (tag !== undefined && request) {
      const early = this.#early.get(tag);
      if (early) early.refreshTarget(response);
      else this.#early.set(tag, DialogState.fromUac(request, response, { secure: this.#secure() }));
    }
    if (response.status === 100) return;
    this.#call(() => this.#options.onProvisional?.(response));
    const sdp = sdpOf(response);
    if (sdp !== undefined) this.#call(() => this.#options.onEarlyMedia?.(sdp, response));
  }

  /** RFC 3261 §13.2.2.4: the first 2xx makes the session; every 2xx gets its ACK. */
  #success(request: SipRequest, response: SipResponse): void {
    const tag = response.toTag ?? "";
    const known = this.#answered.get(tag);
    if (known) {
      void known.acknowledge(request);
      return;
    }
    const dialog = DialogState.fromUac(request, response, {
      secure: this.#secure(),
      outboundRoute: this.#options.outboundProxy
        ? outboundProxyRoute(this.#options.outboundProxy)
        : undefined,
    });
    dialog.peerSocket = this.#destination;
    const session = new DialogSession(this.#ctx, {
      dialog,
      localSdp: this.#options.sdp,
      remoteSdp: sdpOf(response),
      peerAllow: response.allow,
      credentials: this.#options.auth,
      timer: this.#ctx.sessionTimer.enabled ? acceptAsUac(response) : undefined,
    });
    this.#answered.set(tag, session);
    session.start();
    const acked = session.acknowledge(request);
    if (this.#session || this.#state === "failed" || this.#cancelWanted) {
      // Another fork answered too, or the 2xx crossed our CANCEL: ACK, then BYE (§9.1, §13.2.2.4).
      void acked.then(() => session.bye());
      this.#fail(new CallFailedError("cancelled"));
      return;
    }
    this.#session = session;
    this.#state = "answered";
    this.#detach();
    this.#settle.resolve(session);
  }

  #fail(error: CallFailedError): void {
    if (this.#state === "answered" || this.#state === "failed") return;
    this.#state = "failed";
    this.#failure = error;
    this.#detach();
    this.#settle.reject(error);
  }

  #detach(): void {
    if (this.#onAbort) this.#options.signal?.removeEventListener("abort", this.#onAbort);
    this.#onAbort = undefined;
  }

  #asked(request: SipRequest): number | undefined {
    return request.sessionExpires?.seconds;
  }

  #authOf(request: SipRequest): Authorization | undefined {
    const a = request.authorization[0];
    if (a) return { name: "Authorization", value: a };
    const p = request.proxyAuthorization[0];
    return p ? { name: "Proxy-Authorization", value: p } : undefined;
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#ctx.log?.error("SIP call handler threw", { error: err });
    }
  }
}
