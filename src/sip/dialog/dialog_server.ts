/**
 * The server half of a dialog's session: the peer's re-INVITE (RFC 3261 §14.2, with 491 for
 * glare and 500 + Retry-After for overlap) and UPDATE (RFC 3311 §5.2), answered with the
 * application's SDP and the renegotiated session timer (RFC 4028 §9), and the wait for the ACK
 * of each 2xx we send to an INVITE, re-sending it meanwhile (§13.3.1.4).
 */
import type { SipRequest, SipResponse } from "../message/mod.ts";
import type { ResponseRoute } from "../transport/mod.ts";
import { type AnyServerTransaction, InviteServerTransaction } from "../transaction/mod.ts";
import type { UaContext } from "./_context.ts";
import type { NamedTimers } from "./_timers.ts";
import type { DialogState } from "./dialog_state.ts";
import { respondInDialog, targetRefreshOk } from "./in_dialog_responses.ts";
import { CallFailedError } from "./reasons.ts";
import { sdpOf } from "./requests.ts";
import { negotiateAsUas, type SessionTimerPlan } from "./session_timer.ts";
import type { OfferReply, RemoteOffer } from "./session_types.ts";
import { TwoXxRetransmitter } from "./two_xx_retransmitter.ts";

/** What the server half needs from the session around it. */
export interface DialogServerHooks {
  /** Whether the dialog has ended (late answers are dropped). */
  ended(): boolean;
  /** Our re-INVITE is in progress: the peer's gets 491 (§14.2). */
  ourInviteInProgress(): boolean;
  /** Our offer awaits its answer: the peer's UPDATE offer gets 491 (RFC 3311 §5.2). */
  ourOfferPending(): boolean;
  /** The application's reply to an offer. */
  answer(offer: RemoteOffer): Promise<OfferReply>;
  /** The SDP we last sent (our offer in the 2xx to an offerless re-INVITE). */
  localSdp(): string | undefined;
  /** We answered `remote` (undefined: our 2xx was the offer) with `local`. */
  exchanged(local: string, remote: string | undefined): void;
  /** The session timer in force. */
  timerPlan(): SessionTimerPlan | undefined;
  /** A 2xx to a refresh went out: restart the session timer under `plan`. */
  restartTimer(plan: SessionTimerPlan | undefined): void;
  /** The ACK for one of our 2xx arrived. */
  acked(ack: SipRequest): void;
  /** No ACK came within 64·T1 (§13.3.1.4): the session should end with a BYE. */
  ackTimedOut(): void;
}

/** An INVITE of the peer's from its arrival until the ACK of our 2xx. */
interface PeerInvite {
  readonly cseq: number;
  retransmitter?: TwoXxRetransmitter;
  waiter?: PromiseWithResolvers<SipRequest>;
}

/** Receives the peer's session-changing requests and ACKs. */
export class DialogServer {
  readonly #ctx: UaContext;
  readonly #dialog: DialogState;
  readonly #timers: NamedTimers;
  readonly #hooks: DialogServerHooks;
  #invite: PeerInvite | undefined;

  constructor(ctx: UaContext, dialog: DialogState, timers: NamedTimers, hooks: DialogServerHooks) {
    this.#ctx = ctx;
    this.#dialog = dialog;
    this.#timers = timers;
    this.#hooks = hooks;
  }

  /** Whether an INVITE of the peer's is open (we must not start one, §14.1). */
  get inviteOpen(): boolean {
    return this.#invite !== undefined;
  }

  /** Whether a 2xx of ours is waiting for its ACK (§15: our BYE must wait too). */
  get awaitingAck(): boolean {
    return this.#invite?.retransmitter?.active ?? false;
  }

  /**
   * Our 2xx to INVITE `cseq` went out along `route`: re-send it at T1, 2·T1 … T2 until the ACK
   * (§13.3.1.4). Resolves with the ACK (or the peer's BYE that overtook it); rejects after 64·T1
   * or when the dialog ends otherwise first.
   */
  expectAck(cseq: number, response: SipResponse, route: ResponseRoute): Promise<SipRequest> {
    const invite: PeerInvite = this.#invite?.cseq === cseq ? this.#invite : { cseq };
    this.#invite = invite;
    invite.waiter = Promise.withResolvers<SipRequest>();
    invite.waiter.promise.catch(() => {});
    invite.retransmitter = new TwoXxRetransmitter(
      this.#timers,
      this.#ctx.timers,
      `2xx.${cseq}`,
      () => {
        this.#ctx.transactions.respondStateless(response, route).catch((err) =>
          this.#ctx.log?.debug("Cannot re-send 2xx", { error: err })
        );
      },
      () => {
        if (this.#invite === invite) this.#invite = undefined;
        invite.waiter?.reject(
          new CallFailedError("invite_failed", { message: "SIP call failed: no ACK for the 2xx" }),
        );
        this.#hooks.ackTimedOut();
      },
    );
    invite.retransmitter.start();
    return invite.waiter.promise;
  }

  /** RFC 3261 §13.3.1.4: the ACK of the 2xx we are re-sending; others are ignored. */
  receiveAck(ack: SipRequest): void {
    const invite = this.#invite;
    if (!invite?.retransmitter || ack.cseq.seq !== invite.cseq) return;
    invite.retransmitter.acked();
    this.#invite = undefined;
    invite.waiter?.resolve(ack);
    this.#hooks.acked(ack);
  }

  /** RFC 3261 §14.2: a re-INVITE from the peer. */
  async reinvite(request: SipRequest, tx: AnyServerTransaction): Promise<void> {
    if (this.#hooks.ourInviteInProgress()) return void this.#respond(tx, request, 491);
    if (this.#invite) return void this.#respond(tx, request, 500, true);
    const invite: PeerInvite = { cseq: request.cseq.seq };
    this.#invite = invite;
    if (tx instanceof InviteServerTransaction) {
      // RFC 3261 §9.2: the layer below answered 487; this INVITE no longer blocks others.
      tx.onCancel = () => {
        if (this.#invite === invite && !invite.retransmitter) this.#invite = undefined;
      };
    }
    this.#dialog.refreshTarget(request);
    const offer = sdpOf(request);
    const local = this.#hooks.localSdp();
    const reply: OfferReply = offer !== undefined
      ? await this.#hooks.answer({ kind: "reinvite", sdp: offer, request })
      : local !== undefined
      ? { sdp: local }
      : { status: 488 };
    const done = this.#hooks.ended() || tx.state !== "proceeding";
    if (done || "status" in reply) {
      if (this.#invite === invite) this.#invite = undefined;
      if (!done && "status" in reply) this.#respond(tx, request, reply.status, false, reply.reason);
      return;
    }
    const plan = negotiateAsUas(request, this.#ctx.sessionTimer, this.#hooks.timerPlan());
    const response = targetRefreshOk(this.#ctx, request, tx, {
      secure: this.#dialog.secure,
      sdp: reply.sdp,
      plan,
      headers: reply.headers,
    });
    tx.respond(response);
    this.#hooks.exchanged(reply.sdp, offer);
    this.#hooks.restartTimer(plan);
    void this.expectAck(invite.cseq, response, tx.route).catch(() => {});
  }

  /** RFC 3311 §5.2: an UPDATE from the peer, with an offer or only refreshing the session. */
  async update(request: SipRequest, tx: AnyServerTransaction): Promise<void> {
    this.#dialog.refreshTarget(request);
    const offer = sdpOf(request);
    let answer: Exclude<OfferReply, { status: number }> | undefined;
    if (offer !== undefined) {
      if (this.#hooks.ourOfferPending()) return void this.#respond(tx, request, 491);
      // An INVITE of the peer's whose offer we have not answered yet.
      if (this.#invite && !this.#invite.retransmitter) {
        return void this.#respond(tx, request, 500, true);
      }
      const reply = await this.#hooks.answer({ kind: "update", sdp: offer, request });
      if (this.#hooks.ended() || tx.state !== "trying") return;
      if ("status" in reply) {
        return void this.#respond(tx, request, reply.status, false, reply.reason);
      }
      answer = reply;
    }
    const plan = negotiateAsUas(request, this.#ctx.sessionTimer, this.#hooks.timerPlan());
    tx.respond(targetRefreshOk(this.#ctx, request, tx, {
      secure: this.#dialog.secure,
      sdp: answer?.sdp,
      plan,
      headers: answer?.headers,
    }));
    if (answer) this.#hooks.exchanged(answer.sdp, offer);
    this.#hooks.restartTimer(plan);
  }

  /**
   * A BYE arrived while our 2xx still waits for its ACK: the ACK was lost or overtaken, and the
   * peer evidently has the 2xx (it sends BYE in the dialog it confirmed, RFC 3261 §15). Stop
   * re-sending and settle the wait as answered, so the caller's normal hangup does not look
   * like a failed answer.
   */
  byeBeforeAck(bye: SipRequest): void {
    const invite = this.#invite;
    if (!invite?.retransmitter?.active) return;
    invite.retransmitter.acked();
    this.#invite = undefined;
    invite.waiter?.resolve(bye);
  }

  /** The dialog ended: stop re-sending and fail any wait for an ACK. */
  stop(why: string): void {
    const invite = this.#invite;
    this.#invite = undefined;
    invite?.retransmitter?.stop();
    invite?.waiter?.reject(
      new CallFailedError("invite_failed", {
        message: `SIP call failed: dialog ended (${why}) before the ACK`,
      }),
    );
  }

  #respond(
    tx: AnyServerTransaction,
    request: SipRequest,
    status: number,
    retryAfter = false,
    reason?: string,
  ): void {
    respondInDialog(this.#ctx, tx, request, status, { retryAfter, reason });
  }
}
