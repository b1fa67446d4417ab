/**
 * What the two client transactions share (RFC 3261 §17.1): the request serialized once so every
 * retransmission is the same bytes, the destination it goes to, responses passed up to the TU,
 * and a promise of the final response for TUs that only want that.
 */
import { serialize, type SipRequest, type SipResponse } from "../message/mod.ts";
import { type Connection, type Destination, isReliable } from "../transport/mod.ts";
import {
  type TerminationReason,
  Transaction,
  type TransactionContext,
  TransactionError,
  type TransactionState,
} from "./transaction.ts";
import type { TimerName } from "./timers.ts";

/** Options for a client transaction. */
export interface ClientTransactionOptions {
  /**
   * Receives every response the transaction passes up (RFC 3261 §17.1.1.2, §17.1.2.2):
   * provisionals and the final one, never retransmissions absorbed by the state machine.
   */
  readonly onResponse?: (response: SipResponse, tx: ClientTransaction) => void;
  /** Send on this connection while it is open (e.g. the one a peer registered over). */
  readonly connection?: Connection;
  /**
   * INVITE only: RFC 3261 §16.6 Timer C (> 3 min), restarted by each provisional. On expiry
   * `onTimerC` runs (typically sending CANCEL); without it the transaction ends with a timeout.
   */
  readonly timerC?: number;
  /** INVITE only: called when Timer C fires. */
  readonly onTimerC?: (tx: ClientTransaction) => void;
}

/** An event fed to a client state function. */
export type ClientEvent =
  | { readonly type: "response"; readonly response: SipResponse }
  | { readonly type: "timer"; readonly timer: TimerName }
  | { readonly type: "transport-error"; readonly error: Error };

/** Base of the INVITE and non-INVITE client transactions. */
export abstract class ClientTransaction extends Transaction {
  /** Where the request goes (and, for INVITE, the non-2xx ACK: §17.1.1.2). */
  readonly destination: Destination;
  /** The request as sent. */
  readonly bytes: Uint8Array;
  protected readonly options: ClientTransactionOptions;
  #final: SipResponse | undefined;
  #waiters: PromiseWithResolvers<SipResponse> | undefined;

  constructor(
    ctx: TransactionContext,
    key: string,
    request: SipRequest,
    destination: Destination,
    options: ClientTransactionOptions,
    initial: TransactionState,
  ) {
    super(ctx, key, request, isReliable(destination.transport), initial);
    this.destination = destination;
    this.options = options;
    this.bytes = serialize(request);
  }

  /** The final response, once one has been passed up. */
  get finalResponse(): SipResponse | undefined {
    return this.#final;
  }

  /**
   * The first final response; rejects with `TransactionError` when the transaction ends without
   * one (timeout, transport error, abort).
   */
  response(): Promise<SipResponse> {
    if (this.#final) return Promise.resolve(this.#final);
    const reason = this.terminationReason;
    if (reason && reason.type !== "normal") return Promise.reject(new TransactionError(reason));
    this.#waiters ??= Promise.withResolvers<SipResponse>();
    return this.#waiters.promise;
  }

  /** Feeds a response matched to this transaction (RFC 3261 §17.1.3) to the state machine. */
  receive(response: SipResponse): void {
    if (this.state === "terminated") return;
    this.dispatch({ type: "response", response });
  }

  /** Sends the request (first time and retransmissions). */
  protected sendRequest(): void {
    this.transmit(this.bytes, this.destination, this.options.connection);
  }

  /** Passes a response up to the TU. */
  protected passUp(response: SipResponse): void {
    if (response.status >= 200 && !this.#final) {
      this.#final = response;
      this.#waiters?.resolve(response);
    }
    const onResponse = this.options.onResponse;
    if (onResponse) this.callTu("response", () => onResponse(response, this));
  }

  /** Starts a timer that feeds a `timer` event to the current state. */
  protected startTimer(timer: TimerName, ms: number): void {
    this.timers.start(timer, ms, () => this.dispatch({ type: "timer", timer }));
  }

  protected override onTransportError(error: Error): void {
    this.dispatch({ type: "transport-error", error });
  }

  protected override onEnd(reason: TerminationReason): void {
    if (!this.#final && reason.type !== "normal") {
      this.#waiters?.reject(new TransactionError(reason));
    }
  }

  /** Routes an event to the function of the current state. */
  protected abstract dispatch(event: ClientEvent): void;
}
