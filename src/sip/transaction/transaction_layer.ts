/**
 * The transaction layer (RFC 3261 §17): owns the client and server transaction tables, routes
 * each inbound message to its transaction (§17.1.3, §17.2.3) or to the TU (new requests, stray
 * responses, ACKs for 2xx), answers CANCEL per §9.2, and counts what is open so tests can assert
 * nothing accumulates.
 */
import type { Logger } from "../../log/logger.ts";
import {
  buildResponse,
  generateTag,
  serialize,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from "../message/mod.ts";
import {
  type Connection,
  type Destination,
  type InboundMessage,
  type ResponseRoute,
  responseRoute,
  type SipTransport,
} from "../transport/mod.ts";
import type { ClientTransactionOptions } from "./client_transaction.ts";
import { InviteClientTransaction } from "./invite_client.ts";
import { InviteServerTransaction } from "./invite_server.ts";
import { clientKeyOf, isRfc2543, serverKey } from "./keys.ts";
import { NonInviteClientTransaction } from "./non_invite_client.ts";
import { NonInviteServerTransaction } from "./non_invite_server.ts";
import {
  checkTimers,
  type Clock,
  DEFAULT_SIP_TIMERS,
  DEFAULT_TRYING_DELAY_MS,
  type SipTimers,
  systemClock,
} from "./timers.ts";
import type { Transaction, TransactionContext } from "./transaction.ts";

/** A request handed to the TU. */
export interface IncomingRequest {
  readonly request: SipRequest;
  /** Its new server transaction; undefined for ACK, which never has one (RFC 3261 §17). */
  readonly transaction?: InviteServerTransaction | NonInviteServerTransaction;
  /**
   * For a CANCEL (when the layer does not answer CANCELs itself): the INVITE transaction it
   * targets, if any. For an ACK: the INVITE transaction in Accepted whose 2xx it acknowledges.
   */
  readonly invite?: InviteServerTransaction;
  readonly source: Destination;
  readonly connection: Connection;
}

/** Receives requests that start a transaction, and ACKs for 2xx. Should not throw. */
export type RequestHandler = (incoming: IncomingRequest) => void;

/** Receives responses matching no client transaction (RFC 3261 §18.1.2). */
export type StrayResponseHandler = (response: SipResponse, inbound: InboundMessage) => void;

/** Options for a `TransactionLayer`. */
export interface TransactionLayerOptions {
  /** T1, T2, T4 (default RFC 3261's 500 ms, 4 s, 5 s); every timer derives from them. */
  readonly timers?: SipTimers;
  /** Time source (tests pass a fake). */
  readonly clock?: Clock;
  /** RFC 3261 §17.2.1 delay before an automatic 100 Trying (default 200 ms). */
  readonly tryingDelayMs?: number;
  /** `SIP_USE_SOURCE_SOCKET`: responses go to the request's source address and port. */
  readonly useSourceSocket?: boolean;
  /**
   * Answer CANCEL here (default true): 200 and a 487 for the INVITE when it has no final response
   * yet, or 481 when nothing matches (RFC 3261 §9.2); the TU learns through the INVITE
   * transaction's `onCancel`. When false, CANCELs go to `onRequest` with `invite` set.
   */
  readonly handleCancel?: boolean;
  readonly onRequest?: RequestHandler;
  readonly onStrayResponse?: StrayResponseHandler;
  readonly log?: Logger;
}

/** Numbers of open transactions. */
export interface TransactionCounts {
  readonly client: number;
  readonly server: number;
}

/** Any client transaction the layer creates. */
export type AnyClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
/** Any server transaction the layer creates. */
export type AnyServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

/** RFC 3261 §17 transaction layer over a `SipTransport`. */
export class TransactionLayer {
  /** TU handler for new requests; replaceable. */
  onRequest: RequestHandler | undefined;
  /** TU handler for unmatched responses; replaceable. */
  onStrayResponse: StrayResponseHandler | undefined;
  readonly #transport: SipTransport;
  readonly #ctx: TransactionContext;
  readonly #clients = new Map<string, AnyClientTransaction>();
  readonly #servers = new Map<string, AnyServerTransaction>();
  readonly #useSourceSocket: boolean;
  readonly #handleCancel: boolean;
  readonly #log: Logger | undefined;
  readonly #unsubscribe: () => void;
  #closed = false;

  constructor(transport: SipTransport, options: TransactionLayerOptions = {}) {
    this.#transport = transport;
    this.#log = options.log;
    this.#useSourceSocket = options.useSourceSocket ?? false;
    this.#handleCancel = options.handleCancel ?? true;
    this.onRequest = options.onRequest;
    this.onStrayResponse = options.onStrayResponse;
    this.#ctx = {
      transport,
      timers: checkTimers(options.timers ?? DEFAULT_SIP_TIMERS),
      clock: options.clock ?? systemClock,
      tryingDelayMs: options.tryingDelayMs ?? DEFAULT_TRYING_DELAY_MS,
      log: options.log,
      onTerminated: (tx) => this.#forget(tx),
    };
    this.#unsubscribe = transport.onMessage((inbound) => this.#receive(inbound));
  }

  /** The timer base values in use. */
  get timers(): SipTimers {
    return this.#ctx.timers;
  }

  /** Open transactions (they leave the tables the moment they terminate). */
  counts(): TransactionCounts {
    return { client: this.#clients.size, server: this.#servers.size };
  }

  /** Open client transactions. */
  clientTransactions(): AnyClientTransaction[] {
    return [...this.#clients.values()];
  }

  /** Open server transactions. */
  serverTransactions(): AnyServerTransaction[] {
    return [...this.#servers.values()];
  }

  /**
   * Starts a client transaction for `request` (RFC 3261 §17.1) to `destination`: INVITE or
   * non-INVITE by method. The request's top Via must carry the branch (`generateBranch()`) and
   * the sent-by the TU chose. Throws `TypeError` for an ACK (sent with `sendStateless`, §17.1)
   * or a request without a branch, and `Error` when the branch and method are already in use.
   */
  sendRequest(
    request: SipRequest,
    destination: Destination,
    options: ClientTransactionOptions = {},
  ): AnyClientTransaction {
    if (this.#closed) throw new Error("Cannot send request: transaction layer is closed");
    if (request.method === "ACK") {
      throw new TypeError("Cannot start a client transaction for ACK: use sendStateless");
    }
    const key = clientKeyOf(request);
    if (key === undefined) {
      throw new TypeError("Cannot start client transaction: top Via has no branch");
    }
    if (this.#clients.has(key)) {
      throw new Error("Cannot start client transaction: branch already in use for this method");
    }
    const tx = request.method === "INVITE"
      ? new InviteClientTransaction(this.#ctx, key, request, destination, options)
      : new NonInviteClientTransaction(this.#ctx, key, request, destination, options);
    this.#clients.set(key, tx);
    tx.start();
    return tx;
  }

  /**
   * Sends a message outside any transaction: the ACK for a 2xx (RFC 3261 §13.2.2.4, §17.1) or a
   * response the TU retransmits itself (§13.3.1.4). Rejects with the transport's error.
   */
  sendStateless(
    message: SipMessage,
    destination: Destination,
    options: { connection?: Connection } = {},
  ): Promise<void> {
    return this.#transport.send(serialize(message), destination, options);
  }

  /** Sends a response along a saved route (e.g. a server transaction's `route`). */
  respondStateless(response: SipResponse, route: ResponseRoute): Promise<void> {
    return this.sendStateless(response, route.destination, { connection: route.connection });
  }

  /** Terminates every transaction (clearing all timers) and stops receiving; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    for (const tx of [...this.#clients.values(), ...this.#servers.values()]) tx.terminate();
    this.#clients.clear();
    this.#servers.clear();
  }

  /** `using` support. */
  [Symbol.dispose](): void {
    this.close();
  }

  #forget(tx: Transaction): void {
    const table: Map<string, Transaction> = tx instanceof InviteClientTransaction ||
        tx instanceof NonInviteClientTransaction
      ? this.#clients
      : this.#servers;
    if (table.get(tx.key) === tx) table.delete(tx.key);
  }

  #receive(inbound: InboundMessage): void {
    if (this.#closed) return;
    const msg = inbound.message;
    if (msg.kind === "response") this.#receiveResponse(msg, inbound);
    else if (msg.method === "ACK") this.#receiveAck(msg, inbound);
    else this.#receiveRequest(msg, inbound);
  }

  /** RFC 3261 §18.1.2 / §17.1.3: to the matching client transaction, else to the TU. */
  #receiveResponse(response: SipResponse, inbound: InboundMessage): void {
    const key = clientKeyOf(response);
    const tx = key === undefined ? undefined : this.#clients.get(key);
    if (tx) {
      tx.receive(response);
      return;
    }
    const stray = this.onStrayResponse;
    if (stray) this.#callTu(() => stray(response, inbound));
  }

  /**
   * RFC 3261 §17.2.3: an ACK matching an INVITE server transaction is absorbed by it (non-2xx);
   * in RFC 6026 Accepted, or with no match (a 2xx ACK, §18.2.1), it goes to the TU.
   */
  #receiveAck(ack: SipRequest, inbound: InboundMessage): void {
    const key = serverKey(ack, "INVITE");
    let tx = key === undefined ? undefined : this.#servers.get(key);
    if (tx && isRfc2543(ack) && tx.lastResponse?.toTag !== ack.toTag) tx = undefined;
    if (tx instanceof InviteServerTransaction && tx.state !== "accepted") {
      tx.receive(ack);
      return;
    }
    const invite = tx instanceof InviteServerTransaction ? tx : undefined;
    this.#deliver({ request: ack, invite, source: inbound.source, connection: inbound.connection });
  }

  /** RFC 3261 §17.2.3: a retransmission goes to its transaction; a new request gets one. */
  #receiveRequest(request: SipRequest, inbound: InboundMessage): void {
    const key = serverKey(request);
    if (key === undefined) return;
    const existing = this.#servers.get(key);
    if (existing) {
      existing.receive(request);
      return;
    }
    const top = request.topVia!;
    const origin = {
      source: inbound.source,
      connection: inbound.connection,
      route: responseRoute(top, inbound.source, inbound.connection, {
        useSourceSocket: this.#useSourceSocket,
      }),
    };
    const tx = request.method === "INVITE"
      ? new InviteServerTransaction(this.#ctx, key, request, origin)
      : new NonInviteServerTransaction(this.#ctx, key, request, origin);
    this.#servers.set(key, tx);
    if (tx instanceof InviteServerTransaction) tx.start();
    if (request.method === "CANCEL") {
      this.#receiveCancel(request, tx as NonInviteServerTransaction, inbound);
      return;
    }
    this.#deliver({
      request,
      transaction: tx,
      source: inbound.source,
      connection: inbound.connection,
    });
  }

  /** RFC 3261 §9.2: match the INVITE transaction (same key, method INVITE) and answer. */
  #receiveCancel(
    cancel: SipRequest,
    tx: NonInviteServerTransaction,
    inbound: InboundMessage,
  ): void {
    const inviteKey = serverKey(cancel, "INVITE");
    const found = inviteKey === undefined ? undefined : this.#servers.get(inviteKey);
    const invite = found instanceof InviteServerTransaction ? found : undefined;
    if (!this.#handleCancel) {
      this.#deliver({
        request: cancel,
        transaction: tx,
        invite,
        source: inbound.source,
        connection: inbound.connection,
      });
      return;
    }
    if (!invite || invite.state === "terminated") {
      tx.respond(buildResponse(cancel, 481));
      return;
    }
    // The CANCEL gets its 200 first so its client stops retransmitting (§9.2).
    tx.respond(buildResponse(cancel, 200));
    invite.cancel(cancel);
    if (invite.state === "proceeding") {
      const toTag = invite.lastResponse?.toTag ?? generateTag();
      invite.respond(buildResponse(invite.request, 487, undefined, { toTag }));
    }
  }

  #deliver(incoming: IncomingRequest): void {
    const handler = this.onRequest;
    if (handler) {
      this.#callTu(() => handler(incoming));
      return;
    }
    // No TU: refuse rather than leave the client retransmitting (RFC 3261 §8.2.1 style).
    if (incoming.transaction) {
      const tag = generateTag();
      incoming.transaction.respond(buildResponse(incoming.request, 501, undefined, { toTag: tag }));
    }
  }

  #callTu(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log?.error("SIP transaction user threw", { error: err });
    }
  }
}
