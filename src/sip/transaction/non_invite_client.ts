/**
 * The non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6).
 *
 * Trying: over UDP Timer E retransmits at T1, then MIN(2·interval, T2); Timer F (64·T1) times out.
 * Proceeding (after a provisional): Timer E keeps retransmitting, now every T2, so the server
 * can re-send its final response. Completed absorbs response retransmissions until Timer K (T4,
 * zero over reliable transports).
 */
import type { SipRequest } from "../message/mod.ts";
import type { Destination } from "../transport/mod.ts";
import {
  type ClientEvent,
  ClientTransaction,
  type ClientTransactionOptions,
} from "./client_transaction.ts";
import { cappedDouble, timerF, timerK } from "./timers.ts";
import type { TransactionContext } from "./transaction.ts";

/** A non-INVITE client transaction. Create it through `TransactionLayer.sendRequest`. */
export class NonInviteClientTransaction extends ClientTransaction {
  #intervalE = 0;

  constructor(
    ctx: TransactionContext,
    key: string,
    request: SipRequest,
    destination: Destination,
    options: ClientTransactionOptions = {},
  ) {
    super(ctx, key, request, destination, options, "trying");
  }

  /** RFC 3261 §17.1.2.2: enter Trying — send, start Timer F, and Timer E when unreliable. */
  start(): void {
    this.sendRequest();
    this.startTimer("F", timerF(this.ctx.timers));
    if (!this.reliable) {
      this.#intervalE = this.ctx.timers.t1;
      this.startTimer("E", this.#intervalE);
    }
  }

  protected override dispatch(event: ClientEvent): void {
    switch (this.state) {
      case "trying":
        return this.#trying(event);
      case "proceeding":
        return this.#proceeding(event);
      case "completed":
        return this.#completed(event);
      default:
        return;
    }
  }

  /** RFC 3261 §17.1.2.2, state Trying. */
  #trying(event: ClientEvent): void {
    if (event.type === "timer") {
      if (event.timer === "E") {
        this.sendRequest();
        this.#intervalE = cappedDouble(this.#intervalE, this.ctx.timers);
        this.startTimer("E", this.#intervalE);
      } else if (event.timer === "F") {
        this.end({ type: "timeout", timer: "F" });
      }
      return;
    }
    if (event.type === "transport-error") {
      return this.end({ type: "transport-error", error: event.error });
    }
    if (event.response.status < 200) {
      this.setState("proceeding");
      this.passUp(event.response);
      return;
    }
    this.#final(event);
  }

  /** RFC 3261 §17.1.2.2, state Proceeding. */
  #proceeding(event: ClientEvent): void {
    if (event.type === "timer") {
      if (event.timer === "E") {
        this.sendRequest();
        this.#intervalE = this.ctx.timers.t2;
        this.startTimer("E", this.#intervalE);
      } else if (event.timer === "F") {
        this.end({ type: "timeout", timer: "F" });
      }
      return;
    }
    if (event.type === "transport-error") {
      return this.end({ type: "transport-error", error: event.error });
    }
    if (event.response.status < 200) {
      this.passUp(event.response);
      return;
    }
    this.#final(event);
  }

  /** RFC 3261 §17.1.2.2, state Completed: absorb retransmissions until Timer K. */
  #completed(event: ClientEvent): void {
    if (event.type === "timer" && event.timer === "K") this.end({ type: "normal" });
  }

  #final(event: ClientEvent & { type: "response" }): void {
    this.timers.stop("E");
    this.timers.stop("F");
    this.setState("completed");
    this.passUp(event.response);
    this.startTimer("K", timerK(this.ctx.timers, this.reliable));
  }
}
