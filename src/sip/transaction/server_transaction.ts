/**
 * What the two server transactions share (RFC 3261 §17.2): the route responses take (§18.2.2,
 * fixed when the request arrives), the TU's `respond()`, and the most recent response kept so a
 * retransmitted request can be answered with it again.
 */
import { serialize, type SipRequest, type SipResponse } from "../message/mod.ts";
import type { Connection, Destination, ResponseRoute } from "../transport/mod.ts";
import type { TimerName } from "./timers.ts";
import { Transaction, type TransactionContext, type TransactionState } from "./transaction.ts";

/** An event fed to a server state function. */
export type ServerEvent =
  /** A retransmission of the request that created the transaction (§17.2.3 match). */
  | { readonly type: "request"; readonly request: SipRequest }
  /** An ACK matched to this INVITE transaction (§17.2.3). */
  | { readonly type: "ack"; readonly request: SipRequest }
  /** The TU passed a response. */
  | { readonly type: "respond"; readonly response: SipResponse; readonly bytes: Uint8Array }
  | { readonly type: "timer"; readonly timer: TimerName }
  | { readonly type: "transport-error"; readonly error: Error };

/** Where the request came from, as the transport reported it. */
export interface ServerOrigin {
  readonly source: Destination;
  readonly connection: Connection;
  readonly route: ResponseRoute;
}

/** Base of the INVITE and non-INVITE server transactions. */
export abstract class ServerTransaction extends Transaction {
  /** The request's source address and transport. */
  readonly source: Destination;
  /** The connection (or UDP socket path) the request arrived on. */
  readonly connection: Connection;
  /**
   * Where responses go (RFC 3261 §18.2.2). The TU keeps it to retransmit a 2xx itself
   * (§13.3.1.4) after the transaction has ended.
   */
  readonly route: ResponseRoute;
  #last: SipResponse | undefined;
  #lastBytes: Uint8Array | undefined;

  constructor(
    ctx: TransactionContext,
    key: string,
    request: SipRequest,
    origin: ServerOrigin,
    initial: TransactionState,
  ) {
    super(ctx, key, request, origin.connection.reliable, initial);
    this.source = origin.source;
    this.connection = origin.connection;
    this.route = origin.route;
  }

  /** The most recent response sent. */
  get lastResponse(): SipResponse | undefined {
    return this.#last;
  }

  /**
   * Sends `response` through the state machine. Returns false when the current state discards
   * it (e.g. a second final response, RFC 3261 §17.2.2) or the transaction has ended. A send
   * failure is reported through `done` (§17.2.4), not thrown.
   */
  respond(response: SipResponse): boolean {
    if (this.state === "terminated") return false;
    const bytes = serialize(response);
    const accepted = this.dispatch({ type: "respond", response, bytes });
    if (!accepted) {
      this.ctx.log?.debug("SIP response discarded by transaction", {
        status: response.status,
        state: this.state,
      });
    }
    return accepted;
  }

  /** Feeds a retransmitted request or a matched ACK (called by the transaction layer). */
  receive(request: SipRequest): void {
    if (this.state === "terminated") return;
    this.dispatch({ type: request.method === "ACK" ? "ack" : "request", request });
  }

  /** Sends a response and remembers it as the latest. */
  protected sendResponse(response: SipResponse, bytes: Uint8Array): void {
    this.#last = response;
    this.#lastBytes = bytes;
    this.transmit(bytes, this.route.destination, this.route.connection);
  }

  /** Re-sends the latest response (request retransmission, Timer G). */
  protected resendLast(): void {
    if (this.#lastBytes) {
      this.transmit(this.#lastBytes, this.route.destination, this.route.connection);
    }
  }

  /** Starts a timer that feeds a `timer` event to the current state. */
  protected startTimer(timer: TimerName, ms: number): void {
    this.timers.start(timer, ms, () => void this.dispatch({ type: "timer", timer }));
  }

  protected override onTransportError(error: Error): void {
    this.dispatch({ type: "transport-error", error });
  }

  /** Routes an event to the current state's function; true when a `respond` was accepted. */
  protected abstract dispatch(event: ServerEvent): boolean;
}
