/**
 * An established dialog's session (RFC 3261 §12–§15, RFC 3311, RFC 4028): the requests we send
 * inside it (BYE, re-INVITE with glare back-off, UPDATE, INFO), the ones we receive (with the
 * §12.2.2 CSeq check), the ACK for every 2xx to our INVITEs (§13.2.2.4), the retransmission of
 * our 2xx until its ACK (§13.3.1.4), and the session timer.
 */
import type { DigestCredentials } from "../auth/digest.ts";
import { isKnownMethod, type SipRequest, type SipResponse } from "../message/mod.ts";
import type { ResponseRoute } from "../transport/mod.ts";
import type { AnyServerTransaction } from "../transaction/mod.ts";
import type { DialogUsage, UaContext } from "./_context.ts";
import { NamedTimers } from "./_timers.ts";
import { DialogClient } from "./dialog_client.ts";
import { DialogServer } from "./dialog_server.ts";
import type { DialogState } from "./dialog_state.ts";
import type { InDialogOptions } from "./in_dialog_request.ts";
import { type InDialogResponseOptions, respondInDialog } from "./in_dialog_responses.ts";
import { CallFailedError } from "./reasons.ts";
import { ALLOW, sdpOf } from "./requests.ts";
import {
  acceptAsUac,
  requestTimerHeaders,
  SessionTimer,
  type SessionTimerPlan,
} from "./session_timer.ts";
import type {
  DialogEnd,
  DialogEndReason,
  InDialogRequestOptions,
  InDialogResult,
  OfferReply,
  RemoteOffer,
} from "./session_types.ts";

/** Fields of a new session. Internal: sessions come from calls. */
export interface DialogSessionInit {
  readonly dialog: DialogState;
  readonly localSdp?: string;
  readonly remoteSdp?: string;
  /** Methods the peer allows (its INVITE's or 2xx's Allow). */
  readonly peerAllow: readonly string[];
  /** Credentials for challenged in-dialog requests. */
  readonly credentials?: DigestCredentials;
  /** The session timer negotiated by the dialog-creating INVITE. */
  readonly timer?: SessionTimerPlan;
}

/** A confirmed dialog and the session it carries. */
export class DialogSession implements DialogUsage {
  /** Called once when the session ends; see also `ended`. */
  onEnded: ((end: DialogEnd) => void) | undefined;
  /** Produces the SDP answer to a re-INVITE or UPDATE offer; without it the last local SDP. */
  onOffer: ((offer: RemoteOffer) => OfferReply | Promise<OfferReply>) | undefined;
  /** An INFO arrived (already answered 200). */
  onInfo: ((request: SipRequest) => void) | undefined;
  /** The ACK for a 2xx of ours arrived (with the SDP answer when our 2xx was the offer). */
  onAck: ((ack: SipRequest) => void) | undefined;
  /** Any other in-dialog request; return true after responding through `tx`. */
  onRequest: ((request: SipRequest, tx: AnyServerTransaction) => boolean) | undefined;
  /** The dialog (identifiers, CSeq, route set, remote target). */
  readonly dialog: DialogState;
  /** Settles once with how the session ended; never rejects. */
  readonly ended: Promise<DialogEnd>;
  readonly #ctx: UaContext;
  readonly #timers: NamedTimers;
  readonly #timer: SessionTimer;
  readonly #client: DialogClient;
  readonly #server: DialogServer;
  readonly #peerAllow: readonly string[];
  readonly #resolveEnded: (end: DialogEnd) => void;
  #localSdp: string | undefined;
  #remoteSdp: string | undefined;
  #end: DialogEnd | undefined;
  #byeAfterAck: PromiseWithResolvers<void> | undefined;

  /** Internal: created by `OutgoingCall` and `IncomingCall`, which then call `start()`. */
  constructor(ctx: UaContext, init: DialogSessionInit) {
    this.#ctx = ctx;
    this.dialog = init.dialog;
    this.#localSdp = init.localSdp;
    this.#remoteSdp = init.remoteSdp;
    this.#peerAllow = init.peerAllow;
    this.#timers = new NamedTimers(ctx.clock);
    this.#client = new DialogClient(ctx, init.dialog, this.#timers, {
      credentials: init.credentials,
      hooks: {
        gone: (status) => this.#finish({ reason: "request_failed", status }),
        ended: () => this.#end !== undefined,
        peerInviteOpen: () => this.#server.inviteOpen,
        refreshHeaders: () => {
          const plan = this.#timer.plan;
          return plan ? requestTimerHeaders(plan, ctx.sessionTimer) : [];
        },
      },
    });
    this.#server = new DialogServer(ctx, init.dialog, this.#timers, {
      ended: () => this.#end !== undefined,
      ourInviteInProgress: () => this.#client.inviteInProgress,
      ourOfferPending: () => this.#client.offerPending,
      answer: (offer) => this.#answer(offer),
      localSdp: () => this.#localSdp,
      exchanged: (local, remote) => {
        this.#localSdp = local;
        if (remote !== undefined) this.#remoteSdp = remote;
      },
      timerPlan: () => this.#timer.plan,
      restartTimer: (plan) => this.#timer.apply(plan),
      acked: (ack) => this.#acked(ack),
      ackTimedOut: () => {
        const bye = this.#byeAfterAck;
        this.#byeAfterAck = undefined;
        // §13.3.1.4: the dialog is confirmed but the session is over; end it with a BYE.
        this.#hangUp("ack_timeout").then(() => bye?.resolve());
      },
    });
    this.#timer = new SessionTimer(ctx.clock, ctx.sessionTimer.expiry, {
      refresh: () => void this.#refresh(),
      expire: () => void this.#hangUp("session_expired"),
    });
    this.#timer.apply(init.timer);
    const { promise, resolve } = Promise.withResolvers<DialogEnd>();
    this.ended = promise;
    this.#resolveEnded = resolve;
  }

  /** `confirmed` until the session ends. */
  get state(): "confirmed" | "terminated" {
    return this.#end ? "terminated" : "confirmed";
  }

  /** Our current SDP (last offer or answer we sent that took effect). */
  get localSdp(): string | undefined {
    return this.#localSdp;
  }

  /** The peer's current SDP. */
  get remoteSdp(): string | undefined {
    return this.#remoteSdp;
  }

  /** The session timer in force (RFC 4028), if any. */
  get sessionTimer(): SessionTimerPlan | undefined {
    return this.#timer.plan;
  }

  /** Names of running timers, the session timer included (tests assert cleanup). */
  runningTimers(): string[] {
    return [...this.#timers.running(), ...(this.#timer.running ? ["session"] : [])];
  }

  /** Internal: enters the dialog table. */
  start(): void {
    this.#ctx.register(this.dialog.key, this);
  }

  /**
   * Ends the session with a BYE (RFC 3261 §15.1.1). As UAS before the ACK of our 2xx the BYE
   * waits for the ACK or its timeout (§15). Resolves once the BYE transaction has finished.
   */
  bye(options: InDialogRequestOptions = {}): Promise<void> {
    if (this.#end) return Promise.resolve();
    if (this.#server.awaitingAck) {
      this.#byeAfterAck ??= Promise.withResolvers<void>();
      return this.#byeAfterAck.promise;
    }
    return this.#hangUp("local_bye", options);
  }

  /**
   * Sends a re-INVITE offering `sdp` (RFC 3261 §14.1; hold and unhold are offers with another
   * direction). A 491 is retried after the §14.1 back-off. Rejects with `CallFailedError` on a
   * final non-2xx (the session goes on unchanged) and with `Error` while another INVITE
   * transaction is in progress.
   */
  reinvite(sdp: string, options: InDialogRequestOptions = {}): Promise<InDialogResult> {
    return this.#offerTransaction("INVITE", sdp, options.headers);
  }

  /** Sends an UPDATE (RFC 3311), with an SDP offer or without (a session refresh). */
  update(options: InDialogRequestOptions & { sdp?: string } = {}): Promise<InDialogResult> {
    return this.#offerTransaction("UPDATE", options.sdp, options.headers);
  }

  /** Sends an INFO (RFC 6086) with `content` of `contentType`. */
  info(
    content: string | Uint8Array,
    contentType: string,
    options: InDialogRequestOptions = {},
  ): Promise<InDialogResult> {
    return this.request("INFO", { ...options, body: { contentType, content } });
  }

  /** Sends any non-INVITE request in the dialog; rejects with `CallFailedError` on non-2xx. */
  async request(
    method: string,
    options: InDialogRequestOptions & { body?: InDialogOptions["body"] } = {},
  ): Promise<InDialogResult> {
    if (["INVITE", "ACK", "CANCEL", "BYE", "UPDATE"].includes(method)) {
      throw new TypeError(`Cannot send ${method} with request(): use its own method`);
    }
    this.#assertOpen(method);
    const { response } = await this.#client.run(method, {
      headers: options.headers,
      body: options.body,
    });
    if (response.status >= 300) throw CallFailedError.fromResponse(response);
    return { response, sdp: sdpOf(response) };
  }

  /** Ends the session without signalling and terminates its client transactions. */
  close(): void {
    this.#client.terminateAll();
    this.#finish({ reason: "closed" });
  }

  /** Internal: ACK a 2xx to our INVITE (again for each retransmission, §13.2.2.4). */
  acknowledge(invite: SipRequest): Promise<void> {
    return this.#client.acknowledge(invite);
  }

  /**
   * Internal: our 2xx to INVITE `cseq` was sent along `route`; re-send it until the ACK arrives
   * (RFC 3261 §13.3.1.4). Resolves with the ACK, or with the peer's BYE when that overtakes a
   * lost ACK (the call was answered); rejects when 64·T1 pass (a BYE is then sent) or the
   * session ends otherwise first.
   */
  expectAck(cseq: number, response: SipResponse, route: ResponseRoute): Promise<SipRequest> {
    return this.#server.expectAck(cseq, response, route);
  }

  /** RFC 3261 §12.2.2: a request inside this dialog. */
  receiveRequest(request: SipRequest, tx: AnyServerTransaction): void {
    if (this.#end) return void this.#respond(tx, request, 481);
    if (!this.dialog.acceptRemoteCSeq(request)) {
      return void this.#respond(tx, request, 500, { reason: "CSeq Out of Order" });
    }
    switch (request.method) {
      case "BYE":
        this.#respond(tx, request, 200);
        this.#server.byeBeforeAck(request);
        return this.#finish({ reason: "remote_bye", request });
      case "INVITE":
        return void this.#server.reinvite(request, tx);
      case "UPDATE":
        return void this.#server.update(request, tx);
      case "INFO":
        this.#respond(tx, request, 200);
        this.#callApp("info", () => this.onInfo?.(request));
        return;
      case "OPTIONS":
        return void this.#respond(tx, request, 200, { capabilities: true });
      default: {
        const handler = this.onRequest;
        if (handler && this.#callApp("request", () => handler(request, tx)) === true) return;
        if (isKnownMethod(request.method)) {
          this.#respond(tx, request, 405, { headers: [["Allow", ALLOW]] });
        } else this.#respond(tx, request, 501);
      }
    }
  }

  /** RFC 3261 §13.3.1.4: the ACK for a 2xx of ours stops its retransmission. */
  receiveAck(ack: SipRequest): void {
    this.#server.receiveAck(ack);
  }

  /** RFC 3261 §13.2.2.4: a 2xx retransmission after the INVITE transaction ended. */
  receiveStray2xx(response: SipResponse): void {
    this.#client.resendAck(response.cseq.seq);
  }

  // ---- sending ----

  #assertOpen(method: string): void {
    if (this.#end) throw new Error(`Cannot send ${method}: the dialog has ended`);
  }

  /** A re-INVITE or UPDATE; its 2xx updates target, SDP and session timer. */
  async #offerTransaction(
    method: "INVITE" | "UPDATE",
    sdp: string | undefined,
    headers: Iterable<readonly [string, string]> | undefined,
  ): Promise<InDialogResult> {
    const response = await this.#client.offer(method, sdp, [...(headers ?? [])]);
    this.dialog.refreshTarget(response);
    const answer = sdpOf(response);
    if (sdp !== undefined) {
      this.#localSdp = sdp;
      if (answer !== undefined) this.#remoteSdp = answer;
    }
    // RFC 4028 §7.4: a 2xx to a refresh (any re-INVITE or UPDATE here) restarts the timer.
    if (!this.#end && this.#ctx.sessionTimer.enabled) {
      this.#timer.apply(acceptAsUac(response, this.#timer.plan));
    }
    return { response, sdp: answer };
  }

  /** RFC 4028 §10: time to refresh (UPDATE when the peer allows it, else re-INVITE). */
  async #refresh(): Promise<void> {
    if (this.#end) return;
    if (this.#client.inviteInProgress || this.#server.inviteOpen) {
      // That transaction's 2xx restarts the timer; until then the peer's deadline stands.
      this.#timer.refreshFailed();
      return;
    }
    const update = this.#ctx.sessionTimer.refreshWith === "update-if-allowed" &&
      this.#peerAllow.includes("UPDATE");
    try {
      await this.#offerTransaction(
        update ? "UPDATE" : "INVITE",
        update ? undefined : this.#localSdp,
        undefined,
      );
    } catch (err) {
      this.#ctx.log?.info("Session refresh failed", { error: err, call_id: this.dialog.callId });
      if (!this.#end) this.#timer.refreshFailed();
    }
  }

  /** Sends BYE (ending the session at once) and resolves when its transaction finishes. */
  async #hangUp(reason: DialogEndReason, options: InDialogRequestOptions = {}): Promise<void> {
    if (this.#end) return;
    const sending = this.#client.run("BYE", { headers: options.headers });
    this.#finish({ reason });
    try {
      await sending;
    } catch (err) {
      this.#ctx.log?.debug("BYE failed", { error: err, call_id: this.dialog.callId });
    }
  }

  /** The ACK of one of our 2xx: its SDP (our 2xx was the offer), the app, a waiting BYE. */
  #acked(ack: SipRequest): void {
    const sdp = sdpOf(ack);
    if (sdp !== undefined) this.#remoteSdp = sdp;
    this.#callApp("ack", () => this.onAck?.(ack));
    const bye = this.#byeAfterAck;
    if (bye) {
      this.#byeAfterAck = undefined;
      this.#hangUp("local_bye").then(bye.resolve);
    }
  }

  #finish(end: DialogEnd): void {
    if (this.#end) return;
    this.#end = end;
    this.#timer.stop();
    this.#timers.stopAll();
    this.#client.stop();
    this.#server.stop(end.reason);
    this.#byeAfterAck?.resolve();
    this.#byeAfterAck = undefined;
    this.#ctx.unregister(this.dialog.key, this);
    this.#resolveEnded(end);
    this.#callApp("ended", () => this.onEnded?.(end));
  }

  // ---- receiving ----

  async #answer(offer: RemoteOffer): Promise<OfferReply> {
    const handler = this.onOffer;
    if (!handler) return this.#localSdp !== undefined ? { sdp: this.#localSdp } : { status: 488 };
    try {
      return await handler(offer);
    } catch (err) {
      this.#ctx.log?.error("SIP offer handler threw", { error: err });
      return { status: 500 };
    }
  }

  #respond(
    tx: AnyServerTransaction,
    request: SipRequest,
    status: number,
    options: InDialogResponseOptions = {},
  ): boolean {
    return respondInDialog(this.#ctx, tx, request, status, options);
  }

  #callApp<T>(what: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.#ctx.log?.error(`SIP dialog ${what} handler threw`, { error: err });
      return undefined;
    }
  }
}
