/**
 * The INVITE client transaction (RFC 3261 §17.1.1, Figure 5; RFC 6026 §7.2 Accepted state).
 *
 * Calling: Timer A retransmits over UDP at T1, 2·T1, 4·T1… (no cap); Timer B (64·T1) times out.
 * Proceeding: no retransmissions; provisionals go up. A non-2xx final is passed up, ACKed from
 * here (§17.1.1.3), and Completed absorbs its retransmissions by re-sending the ACK until Timer D.
 * A 2xx is passed up and its ACK left to the TU; Accepted (Timer M, 64·T1) passes 2xx
 * retransmissions and other forks' 2xx up so the TU can ACK each.
 */
import { serialize, type SipRequest } from "../message/mod.ts";
import type { Destination } from "../transport/mod.ts";
import {
  type ClientEvent,
  ClientTransaction,
  type ClientTransactionOptions,
} from "./client_transaction.ts";
import { buildNon2xxAck } from "./derived_requests.ts";
import { timerB, timerD, timerM } from "./timers.ts";
import type { TransactionContext } from "./transaction.ts";

/** An INVITE client transaction. Create it through `TransactionLayer.sendRequest`. */
export class InviteClientTransaction extends ClientTransaction {
  /** The ACK sent for a non-2xx final response, re-sent for its retransmissions. */
  #ack: Uint8Array | undefined;
  #intervalA = 0;
  #provisional = false;

  constructor(
    ctx: TransactionContext,
    key: string,
    request: SipRequest,
    destination: Destination,
    options: ClientTransactionOptions = {},
  ) {
    super(ctx, key, request, destination, options, "calling");
  }

  /** Whether a provisional response has arrived (§9.1: CANCEL only after one). */
  get hasProvisional(): boolean {
    return this.#provisional;
  }

  /**
   * RFC 3261 §17.1.1.2: enter Calling — send the INVITE, start Timer A (unreliable only) and
   * Timer B, and Timer C when configured.
   */
  start(): void {
    this.sendRequest();
    if (!this.reliable) {
      this.#intervalA = this.ctx.timers.t1;
      this.startTimer("A", this.#intervalA);
    }
    this.startTimer("B", timerB(this.ctx.timers));
    if (this.options.timerC !== undefined) this.startTimer("C", this.options.timerC);
  }

  /**
   * RFC 3261 §9.1: the TU sent a CANCEL for this INVITE. If no final response follows within
   * 64·T1 the transaction is destroyed (reported as a `CancelGuard` timeout).
   */
  cancelSent(): void {
    if (this.state !== "calling" && this.state !== "proceeding") return;
    if (!this.timers.isRunning("CancelGuard")) {
      this.startTimer("CancelGuard", 64 * this.ctx.timers.t1);
    }
  }

  protected override dispatch(event: ClientEvent): void {
    switch (this.state) {
      case "calling":
        return this.#calling(event);
      case "proceeding":
        return this.#proceeding(event);
      case "completed":
        return this.#completed(event);
      case "accepted":
        return this.#accepted(event);
      default:
        return;
    }
  }

  /** RFC 3261 §17.1.1.2, state Calling. */
  #calling(event: ClientEvent): void {
    if (event.type === "timer") {
      if (event.timer === "A") {
        // Retransmit, doubling the interval each time (no cap for INVITE).
        this.sendRequest();
        this.#intervalA *= 2;
        this.startTimer("A", this.#intervalA);
        return;
      }
      if (event.timer === "B") return this.end({ type: "timeout", timer: "B" });
      return this.#commonTimer(event.timer);
    }
    if (event.type === "transport-error") {
      return this.end({ type: "transport-error", error: event.error });
    }
    const status = event.response.status;
    if (status < 200) {
      this.timers.stop("A");
      this.timers.stop("B");
      this.setState("proceeding");
      this.#provisionalReceived();
      this.passUp(event.response);
      return;
    }
    this.#final(event);
  }

  /** RFC 3261 §17.1.1.2, state Proceeding. */
  #proceeding(event: ClientEvent): void {
    if (event.type === "timer") return this.#commonTimer(event.timer);
    if (event.type === "transport-error") {
      return this.end({ type: "transport-error", error: event.error });
    }
    if (event.response.status < 200) {
      this.#provisionalReceived();
      this.passUp(event.response);
      return;
    }
    this.#final(event);
  }

  /** RFC 3261 §17.1.1.2, state Completed: re-ACK retransmitted finals until Timer D. */
  #completed(event: ClientEvent): void {
    if (event.type === "timer") {
      if (event.timer === "D") this.end({ type: "normal" });
      return;
    }
    if (event.type === "transport-error") {
      return this.end({ type: "transport-error", error: event.error });
    }
    if (event.response.status >= 300 && this.#ack) {
      this.transmit(this.#ack, this.destination, this.options.connection);
    }
  }

  /** RFC 6026 §7.2, state Accepted: every 2xx goes up (the TU ACKs it); Timer M ends it. */
  #accepted(event: ClientEvent): void {
    if (event.type === "timer") {
      if (event.timer === "M") this.end({ type: "normal" });
      return;
    }
    // RFC 6026 §7.2: transport errors no longer matter once a 2xx arrived.
    if (event.type === "transport-error") return;
    const status = event.response.status;
    if (status >= 200 && status < 300) this.passUp(event.response);
  }

  /** A final response in Calling or Proceeding. */
  #final(event: ClientEvent & { type: "response" }): void {
    const response = event.response;
    this.timers.stop("A");
    this.timers.stop("B");
    this.timers.stop("C");
    this.timers.stop("CancelGuard");
    if (response.status < 300) {
      // RFC 6026 §7.2 (updating §17.1.1.2): Accepted instead of Terminated; the TU sends the ACK.
      this.setState("accepted");
      this.passUp(response);
      this.startTimer("M", timerM(this.ctx.timers));
      return;
    }
    this.setState("completed");
    this.passUp(response);
    // §17.1.1.2: the ACK is generated here even over reliable transports, and goes to the same
    // address, port and transport as the INVITE.
    try {
      this.#ack = serialize(buildNon2xxAck(this.request, response));
      this.transmit(this.#ack, this.destination, this.options.connection);
    } catch (err) {
      this.ctx.log?.error("Cannot build ACK for non-2xx response", { error: err });
    }
    this.startTimer("D", timerD(this.ctx.timers, this.reliable));
  }

  #provisionalReceived(): void {
    this.#provisional = true;
    // §16.7 step 2: each provisional restarts Timer C.
    if (this.options.timerC !== undefined) this.startTimer("C", this.options.timerC);
  }

  /** Timers that behave alike in Calling and Proceeding. */
  #commonTimer(timer: string): void {
    if (timer === "C") {
      const onTimerC = this.options.onTimerC;
      if (onTimerC) this.callTu("Timer C", () => onTimerC(this));
      else this.end({ type: "timeout", timer: "C" });
    } else if (timer === "CancelGuard") {
      this.end({ type: "timeout", timer: "CancelGuard" });
    }
  }
}
