/**
 * The UAS side of a dialog-creating INVITE (RFC 3261 §13.3): provisional responses that create
 * an early dialog (180, 183 with SDP), the 2xx that confirms it (§12.1.1) and is then re-sent by
 * the session until the ACK (§13.3.1.4), a rejection, and the caller's CANCEL (§9.2) or early BYE
 * (§15).
 */
import { buildResponse, generateTag, type SipRequest, type SipResponse } from "../message/mod.ts";
import type { AnyServerTransaction, InviteServerTransaction } from "../transaction/mod.ts";
import type { DialogUsage, UaContext } from "./_context.ts";
import { dialogKey, DialogState } from "./dialog_state.ts";
import { ALLOW, SDP_TYPE, sdpOf, setSdp } from "./requests.ts";
import { DialogSession } from "./session.ts";
import { negotiateAsUas, responseTimerHeaders } from "./session_timer.ts";

/** Where an incoming call stands. */
export type IncomingCallState =
  /** Received; 100 Trying (from the transaction layer) at most. */
  | "received"
  /** A 180/183 was sent: an early dialog exists. */
  | "early"
  /** A 2xx was sent: the session exists. */
  | "answered"
  /** Rejected by us. */
  | "rejected"
  /** CANCEL (or an early BYE) from the caller. */
  | "cancelled"
  /** `close()` before a decision: the transaction was terminated silently. */
  | "closed";

/** Options for a response sent on an incoming call. */
export interface IncomingResponseOptions {
  /** Extra header fields. */
  readonly headers?: Iterable<readonly [string, string]>;
  /** Reason phrase instead of the standard one. */
  readonly reason?: string;
}

/** An INVITE that did not belong to a dialog, waiting for the application's decision. */
export class IncomingCall implements DialogUsage {
  /** The caller gave up: CANCEL (already answered 200 and 487 below us) or an early BYE. */
  onCancelled: ((request: SipRequest) => void) | undefined;
  /** The INVITE. */
  readonly request: SipRequest;
  /** Its server transaction. */
  readonly transaction: InviteServerTransaction;
  /** The To tag of every response we send (RFC 3261 §12.1.1: one dialog, one tag). */
  readonly localTag: string;
  /** The caller's SDP offer, if the INVITE carried one. */
  readonly offer: string | undefined;
  readonly #ctx: UaContext;
  readonly #key: string;
  readonly #secure: boolean;
  #state: IncomingCallState = "received";
  #session: DialogSession | undefined;

  /** Internal: made by the `UserAgent` for each new INVITE. */
  constructor(ctx: UaContext, request: SipRequest, tx: InviteServerTransaction) {
    this.#ctx = ctx;
    this.request = request;
    this.transaction = tx;
    this.localTag = generateTag();
    this.offer = sdpOf(request);
    // RFC 3261 §12.1.1: secure when the INVITE came over TLS to a sips: Request-URI.
    this.#secure = tx.connection.transport === "tls" && request.uri.scheme === "sips";
    this.#key = dialogKey(request.callId, this.localTag, request.fromTag ?? "");
    tx.onCancel = (cancel) => this.#cancelled(cancel);
  }

  /** Where the call stands. */
  get state(): IncomingCallState {
    return this.#state;
  }

  /** The session, once answered. */
  get session(): DialogSession | undefined {
    return this.#session;
  }

  /** Internal: enters the dialog table so an early BYE finds us. */
  start(): void {
    this.#ctx.register(this.#key, this);
  }

  /** Sends 180 Ringing (creating the early dialog). False once the call is decided. */
  ring(options: IncomingResponseOptions = {}): boolean {
    return this.#provisional(180, undefined, options);
  }

  /** Sends 183 Session Progress with an SDP answer: early media (RFC 3960). */
  progress(sdp: string, options: IncomingResponseOptions = {}): boolean {
    return this.#provisional(183, sdp, options);
  }

  /**
   * Sends 200 OK with the SDP answer, Contact, Record-Route copied (§12.1.1) and the negotiated
   * session timer (RFC 4028 §9). Resolves with the session once the ACK arrives (or a BYE that
   * overtook a lost ACK: the session is then already ended with `remote_bye`); rejects with
   * `CallFailedError` when neither does (the session then sends BYE after 64·T1) or when the
   * call was already decided.
   */
  answer(sdp: string, options: IncomingResponseOptions = {}): Promise<DialogSession> {
    if (!this.#open()) {
      return Promise.reject(new Error(`Cannot answer: the call is ${this.#state}`));
    }
    const plan = negotiateAsUas(this.request, this.#ctx.sessionTimer);
    const extra: [string, string][] = [["Allow", ALLOW]];
    if (this.#ctx.sessionTimer.enabled) extra.push(["Supported", "timer"]);
    if (plan) extra.push(...responseTimerHeaders(plan));
    const response = this.#response(200, sdp, options, extra);
    const dialog = DialogState.fromUas(this.request, this.localTag, this.#secure);
    dialog.peerSocket = this.transaction.source;
    const session = new DialogSession(this.#ctx, {
      dialog,
      localSdp: sdp,
      remoteSdp: this.offer,
      peerAllow: this.request.allow,
      timer: plan,
    });
    if (!this.transaction.respond(response)) {
      session.close();
      return Promise.reject(new Error("Cannot answer: the INVITE transaction refused the 2xx"));
    }
    this.#state = "answered";
    this.#session = session;
    this.#ctx.unregister(this.#key, this);
    session.start();
    const acked = session.expectAck(this.request.cseq.seq, response, this.transaction.route)
      .then(() => session);
    // The outcome also reaches the session's `ended`; a caller need not await this one.
    acked.catch(() => {});
    return acked;
  }

  /** Rejects the call with a final 3xx–6xx (486 Busy Here, 603 Decline, …). */
  reject(status: number, options: IncomingResponseOptions = {}): boolean {
    if (status < 300 || status > 699) throw new RangeError(`Cannot reject with status ${status}`);
    if (!this.#open()) return false;
    const ok = this.transaction.respond(this.#response(status, undefined, options));
    this.#state = "rejected";
    this.#ctx.unregister(this.#key, this);
    return ok;
  }

  /** Stops without signalling: terminates the INVITE transaction (and the session, if any). */
  close(): void {
    this.#session?.close();
    if (this.#open()) {
      this.#state = "closed";
      this.transaction.terminate();
    }
    this.#ctx.unregister(this.#key, this);
  }

  /** Internal: an in-dialog request before our 2xx; only BYE (§15) and OPTIONS are served. */
  receiveRequest(request: SipRequest, tx: AnyServerTransaction): void {
    if (request.method === "BYE" && this.#open()) {
      tx.respond(buildResponse(request, 200));
      // §15.1.2: the UAS answers the INVITE with 487 when a BYE ends the early dialog.
      this.transaction.respond(this.#response(487, undefined, {}));
      this.#cancelled(request);
      return;
    }
    const status = request.method === "OPTIONS" ? 200 : this.#open() ? 405 : 481;
    const headers: [string, string][] = status === 481
      ? []
      : [["Allow", ALLOW], ["Accept", SDP_TYPE]];
    tx.respond(buildResponse(request, status, undefined, { headers }));
  }

  /** Internal: no ACK is expected before our 2xx (the non-2xx ACK stays in the transaction). */
  receiveAck(_ack: SipRequest): void {}

  /** Internal: not a UAC. */
  receiveStray2xx(_response: SipResponse): void {}

  #open(): boolean {
    return (this.#state === "received" || this.#state === "early") &&
      this.transaction.state === "proceeding";
  }

  #provisional(status: number, sdp: string | undefined, options: IncomingResponseOptions): boolean {
    if (!this.#open()) return false;
    const ok = this.transaction.respond(this.#response(status, sdp, options));
    if (ok) this.#state = "early";
    return ok;
  }

  /** A response with our tag, Contact (dialog-creating) and Record-Route copied (§12.1.1). */
  #response(
    status: number,
    sdp: string | undefined,
    options: IncomingResponseOptions,
    extra: readonly [string, string][] = [],
  ): SipResponse {
    const response = buildResponse(this.request, status, options.reason, {
      toTag: this.localTag,
      headers: [...extra, ...this.#ctx.commonHeaders, ...(options.headers ?? [])],
    });
    if (status > 100 && status < 300) {
      for (const rr of this.request.headers.entriesOf("Record-Route")) {
        response.headers.appendEntries([rr]);
      }
      const conn = this.transaction.connection;
      response.headers.append(
        "Contact",
        this.#ctx.contact(conn.local, conn.transport, this.#secure),
      );
    }
    setSdp(response, sdp);
    return response;
  }

  #cancelled(request: SipRequest): void {
    // A CANCEL that crosses our 2xx changes nothing (RFC 3261 §9.2).
    if (this.#state !== "received" && this.#state !== "early") return;
    this.#state = "cancelled";
    this.#ctx.unregister(this.#key, this);
    try {
      this.onCancelled?.(request);
    } catch (err) {
      this.#ctx.log?.error("SIP cancel handler threw", { error: err });
    }
  }
}
