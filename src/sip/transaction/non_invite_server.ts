/**
 * The non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8).
 *
 * Trying: request retransmissions are discarded until the TU answers. Proceeding (after a
 * provisional): a retransmission gets the latest provisional again. Completed (after a final):
 * a retransmission gets the final again and further finals from the TU are discarded, until
 * Timer J (64·T1; zero over reliable transports).
 */
import type { SipRequest, SipResponse } from "../message/mod.ts";
import { type ServerEvent, type ServerOrigin, ServerTransaction } from "./server_transaction.ts";
import { timerJ } from "./timers.ts";
import type { TransactionContext } from "./transaction.ts";

/** A non-INVITE server transaction; the TU receives it with the request. */
export class NonInviteServerTransaction extends ServerTransaction {
  constructor(ctx: TransactionContext, key: string, request: SipRequest, origin: ServerOrigin) {
    super(ctx, key, request, origin, "trying");
  }

  protected override dispatch(event: ServerEvent): boolean {
    switch (this.state) {
      case "trying":
        return this.#trying(event);
      case "proceeding":
        return this.#proceeding(event);
      case "completed":
        return this.#completed(event);
      default:
        return false;
    }
  }

  /** RFC 3261 §17.2.2, state Trying: retransmissions discarded. */
  #trying(event: ServerEvent): boolean {
    if (event.type === "respond") return this.#tuResponse(event.response, event.bytes);
    if (event.type === "transport-error") this.end({ type: "transport-error", error: event.error });
    return false;
  }

  /** RFC 3261 §17.2.2, state Proceeding: retransmissions get the latest provisional. */
  #proceeding(event: ServerEvent): boolean {
    switch (event.type) {
      case "request":
        this.resendLast();
        return false;
      case "respond":
        return this.#tuResponse(event.response, event.bytes);
      case "transport-error":
        this.end({ type: "transport-error", error: event.error });
        return false;
      default:
        return false;
    }
  }

  /** RFC 3261 §17.2.2, state Completed: retransmissions get the final; Timer J ends it. */
  #completed(event: ServerEvent): boolean {
    switch (event.type) {
      case "request":
        this.resendLast();
        return false;
      case "timer":
        if (event.timer === "J") this.end({ type: "normal" });
        return false;
      case "transport-error":
        this.end({ type: "transport-error", error: event.error });
        return false;
      default:
        // Any other final from the TU is discarded.
        return false;
    }
  }

  #tuResponse(response: SipResponse, bytes: Uint8Array): boolean {
    if (response.status < 200) {
      this.setState("proceeding");
      this.sendResponse(response, bytes);
      return true;
    }
    this.setState("completed");
    this.sendResponse(response, bytes);
    this.startTimer("J", timerJ(this.ctx.timers, this.reliable));
    return true;
  }
}
