/**
 * The INVITE server transaction (RFC 3261 §17.2.1, Figure 7; RFC 6026 §7.1 Accepted state).
 *
 * Proceeding: a 100 Trying goes out after 200 ms unless the TU answered first; provisionals are
 * sent as given and re-sent when the INVITE is retransmitted. A 300–699 final moves to Completed,
 * where Timer G re-sends it over UDP (T1 doubling, capped at T2) until an ACK arrives (Confirmed,
 * absorbing ACKs until Timer I) or Timer H (64·T1) gives up. A 2xx moves to Accepted, where the
 * TU's 2xx retransmissions pass through, INVITE retransmissions are absorbed and Timer L ends it;
 * the ACK for a 2xx belongs to the TU.
 */
import { buildResponse, serialize, type SipRequest, type SipResponse } from "../message/mod.ts";
import { type ServerEvent, type ServerOrigin, ServerTransaction } from "./server_transaction.ts";
import { cappedDouble, timerH, timerI, timerL } from "./timers.ts";
import type { TransactionContext } from "./transaction.ts";

/** An INVITE server transaction; the TU receives it with the INVITE. */
export class InviteServerTransaction extends ServerTransaction {
  /** Called when a CANCEL matching this INVITE arrives (RFC 3261 §9.2). */
  onCancel: ((cancel: SipRequest) => void) | undefined;
  #cancelled = false;
  #intervalG = 0;

  constructor(ctx: TransactionContext, key: string, request: SipRequest, origin: ServerOrigin) {
    super(ctx, key, request, origin, "proceeding");
  }

  /** Whether a matching CANCEL has arrived. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** RFC 3261 §17.2.1: enter Proceeding and arm the 100 Trying the TU may pre-empt. */
  start(): void {
    this.startTimer("Trying", this.ctx.tryingDelayMs);
  }

  /** Records a matching CANCEL (called by the transaction layer) and tells `onCancel`. */
  cancel(request: SipRequest): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    const onCancel = this.onCancel;
    if (onCancel) this.callTu("cancel", () => onCancel(request));
  }

  protected override dispatch(event: ServerEvent): boolean {
    switch (this.state) {
      case "proceeding":
        return this.#proceeding(event);
      case "completed":
        return this.#completed(event);
      case "confirmed":
        return this.#confirmed(event);
      case "accepted":
        return this.#accepted(event);
      default:
        return false;
    }
  }

  /** RFC 3261 §17.2.1, state Proceeding. */
  #proceeding(event: ServerEvent): boolean {
    switch (event.type) {
      case "timer":
        if (event.timer === "Trying" && !this.lastResponse) {
          this.#send(buildResponse(this.request, 100));
        }
        return false;
      case "request":
        // The most recent provisional, if any, answers a retransmitted INVITE.
        this.resendLast();
        return false;
      case "ack":
        return false;
      case "transport-error":
        this.end({ type: "transport-error", error: event.error });
        return false;
      case "respond":
        return this.#tuResponse(event.response, event.bytes);
    }
  }

  #tuResponse(response: SipResponse, bytes: Uint8Array): boolean {
    this.timers.stop("Trying");
    const status = response.status;
    if (status < 200) {
      this.sendResponse(response, bytes);
      return true;
    }
    if (status < 300) {
      // RFC 6026 §7.1 (updating §17.2.1): Accepted rather than Terminated.
      this.setState("accepted");
      this.sendResponse(response, bytes);
      this.startTimer("L", timerL(this.ctx.timers));
      return true;
    }
    this.setState("completed");
    this.sendResponse(response, bytes);
    if (!this.reliable) {
      this.#intervalG = this.ctx.timers.t1;
      this.startTimer("G", this.#intervalG);
    }
    this.startTimer("H", timerH(this.ctx.timers));
    return true;
  }

  /** RFC 3261 §17.2.1, state Completed: re-send the final until ACK or Timer H. */
  #completed(event: ServerEvent): boolean {
    switch (event.type) {
      case "timer":
        if (event.timer === "G") {
          this.resendLast();
          this.#intervalG = cappedDouble(this.#intervalG, this.ctx.timers);
          this.startTimer("G", this.#intervalG);
        } else if (event.timer === "H") {
          // The ACK never came: a transaction failure for the TU.
          this.end({ type: "timeout", timer: "H" });
        }
        return false;
      case "request":
        this.resendLast();
        return false;
      case "ack":
        this.timers.stop("G");
        this.timers.stop("H");
        this.setState("confirmed");
        this.startTimer("I", timerI(this.ctx.timers, this.reliable));
        return false;
      case "transport-error":
        this.end({ type: "transport-error", error: event.error });
        return false;
      case "respond":
        return false;
    }
  }

  /** RFC 3261 §17.2.1, state Confirmed: absorb ACK retransmissions until Timer I. */
  #confirmed(event: ServerEvent): boolean {
    if (event.type === "timer" && event.timer === "I") this.end({ type: "normal" });
    return false;
  }

  /**
   * RFC 6026 §7.1, state Accepted: INVITE retransmissions are absorbed (the TU retransmits the
   * 2xx), further 2xx from the TU are sent, a transport error does not end it, Timer L does.
   */
  #accepted(event: ServerEvent): boolean {
    if (event.type === "timer") {
      if (event.timer === "L") this.end({ type: "normal" });
      return false;
    }
    if (event.type === "respond" && event.response.status >= 200 && event.response.status < 300) {
      this.sendResponse(event.response, event.bytes);
      return true;
    }
    if (event.type === "transport-error") {
      this.ctx.log?.debug("SIP 2xx send failed in Accepted", { error: event.error });
    }
    return false;
  }

  #send(response: SipResponse): void {
    try {
      this.sendResponse(response, serialize(response));
    } catch (err) {
      this.ctx.log?.error("Cannot send 100 Trying", { error: err });
    }
  }
}
