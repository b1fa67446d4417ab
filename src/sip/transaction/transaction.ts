/**
 * What every transaction shares (RFC 3261 §17): a key, the request that created it, a state, the
 * named timers, a `done` promise settled once on entering Terminated (when every timer is
 * cleared), and sending through the transport with failures turned into a transport-error event
 * (§17.1.4, §17.2.4).
 */
import type { Logger } from "../../log/logger.ts";
import type { SipRequest } from "../message/mod.ts";
import type { Connection, Destination, SipTransport } from "../transport/mod.ts";
import { type Clock, type SipTimers, TimerSet } from "./timers.ts";

/**
 * States of the RFC 3261 §17 machines, plus RFC 6026 §7's `accepted` (INVITE after a 2xx).
 */
export type TransactionState =
  | "calling"
  | "trying"
  | "proceeding"
  | "completed"
  | "accepted"
  | "confirmed"
  | "terminated";

/** Timers whose expiry ends a transaction with a failure the TU is told about. */
export type TimeoutTimer = "B" | "C" | "F" | "H" | "CancelGuard";

/** Why a transaction reached Terminated. */
export type TerminationReason =
  /** The state machine ran its course (final response handled, absorbing timer fired). */
  | { readonly type: "normal" }
  /** RFC 3261 §17.1.1.2 Timer B, §17.1.2.2 Timer F, §17.2.1 Timer H, §16.6 Timer C, §9.1. */
  | { readonly type: "timeout"; readonly timer: TimeoutTimer }
  /** RFC 3261 §17.1.4 / §17.2.4: the transport could not send. */
  | { readonly type: "transport-error"; readonly error: Error }
  /** `terminate()` or the transaction layer closing. */
  | { readonly type: "aborted" };

/** A transaction ended without the outcome asked for (timeout, transport error, abort). */
export class TransactionError extends Error {
  /** How the transaction ended. */
  readonly reason: Exclude<TerminationReason, { type: "normal" }>;
  constructor(reason: Exclude<TerminationReason, { type: "normal" }>) {
    const what = reason.type === "timeout"
      ? `timed out (Timer ${reason.timer})`
      : reason.type === "transport-error"
      ? `failed: ${reason.error.message}`
      : "was aborted";
    super(
      `SIP transaction ${what}`,
      reason.type === "transport-error" ? { cause: reason.error } : {},
    );
    this.name = "TransactionError";
    this.reason = reason;
  }
}

/** What a transaction needs from the layer that owns it. */
export interface TransactionContext {
  readonly transport: SipTransport;
  readonly timers: SipTimers;
  readonly clock: Clock;
  /** RFC 3261 §17.2.1: how long an INVITE server transaction waits before its own 100. */
  readonly tryingDelayMs: number;
  readonly log?: Logger;
  /** Called once when the transaction enters Terminated (the layer drops it from its table). */
  readonly onTerminated?: (tx: Transaction) => void;
}

/** Base of the four RFC 3261 §17 state machines. */
export abstract class Transaction {
  /** The matching key (RFC 3261 §17.1.3 for clients, §17.2.3 for servers). */
  readonly key: string;
  /** The request that created the transaction. */
  readonly request: SipRequest;
  /** Whether the transport is reliable: no retransmissions, zero absorbing timers. */
  readonly reliable: boolean;
  /** Settles once, on entering Terminated, with why. Never rejects. */
  readonly done: Promise<TerminationReason>;
  protected readonly ctx: TransactionContext;
  protected readonly timers: TimerSet;
  #state: TransactionState;
  #resolveDone: (reason: TerminationReason) => void;
  #reason: TerminationReason | undefined;

  constructor(
    ctx: TransactionContext,
    key: string,
    request: SipRequest,
    reliable: boolean,
    initial: TransactionState,
  ) {
    this.ctx = ctx;
    this.key = key;
    this.request = request;
    this.reliable = reliable;
    this.#state = initial;
    this.timers = new TimerSet(ctx.clock);
    const { promise, resolve } = Promise.withResolvers<TerminationReason>();
    this.done = promise;
    this.#resolveDone = resolve;
  }

  /** The current state. */
  get state(): TransactionState {
    return this.#state;
  }

  /** Why it terminated, once it has. */
  get terminationReason(): TerminationReason | undefined {
    return this.#reason;
  }

  /** Names of running timers (tests check none is left behind). */
  runningTimers(): string[] {
    return this.timers.running();
  }

  /** Ends the transaction now, without sending anything; idempotent. */
  terminate(): void {
    this.end({ type: "aborted" });
  }

  /** Moves to `state` (not Terminated: use `end`). */
  protected setState(state: Exclude<TransactionState, "terminated">): void {
    if (this.#state !== "terminated") this.#state = state;
  }

  /** Enters Terminated: clears every timer, settles `done`, tells the layer. Idempotent. */
  protected end(reason: TerminationReason): void {
    if (this.#state === "terminated") return;
    this.#state = "terminated";
    this.#reason = reason;
    this.timers.stopAll();
    this.onEnd(reason);
    this.#resolveDone(reason);
    try {
      this.ctx.onTerminated?.(this);
    } catch (err) {
      this.ctx.log?.error("SIP transaction termination hook threw", { error: err });
    }
  }

  /** Subclass hook run on entering Terminated, before `done` settles. */
  protected onEnd(_reason: TerminationReason): void {}

  /** Hands bytes to the transport; a failure arrives later as `onTransportError`. */
  protected transmit(bytes: Uint8Array, to: Destination, connection?: Connection): void {
    let sending: Promise<void>;
    try {
      sending = this.ctx.transport.send(bytes, to, connection ? { connection } : undefined);
    } catch (err) {
      sending = Promise.reject(err);
    }
    sending.catch((err: unknown) => {
      if (this.#state === "terminated") return;
      this.onTransportError(err instanceof Error ? err : new Error(String(err)));
    });
  }

  /** RFC 3261 §17.1.4 / §17.2.4: the transport reported a failure to send. */
  protected abstract onTransportError(error: Error): void;

  /** Runs a TU callback, logging (not propagating) what it throws. */
  protected callTu(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.ctx.log?.error(`SIP transaction user ${what} handler threw`, { error: err });
    }
  }
}
