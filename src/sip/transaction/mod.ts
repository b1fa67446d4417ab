/**
 * The SIP transaction layer (RFC 3261 §17, with RFC 6026's Accepted state): client and server
 * transactions for INVITE and non-INVITE requests, their timers, matching, and the
 * `TransactionLayer` that routes between the transport and the TU.
 *
 * @module
 */
export {
  type ClientEvent,
  ClientTransaction,
  type ClientTransactionOptions,
} from "./client_transaction.ts";
export { buildCancel, buildNon2xxAck } from "./derived_requests.ts";
export { InviteClientTransaction } from "./invite_client.ts";
export { InviteServerTransaction } from "./invite_server.ts";
export { clientKey, clientKeyOf, isRfc2543, serverKey } from "./keys.ts";
export { NonInviteClientTransaction } from "./non_invite_client.ts";
export { NonInviteServerTransaction } from "./non_invite_server.ts";
export { type ServerEvent, type ServerOrigin, ServerTransaction } from "./server_transaction.ts";
export {
  cappedDouble,
  checkTimers,
  type Clock,
  DEFAULT_SIP_TIMERS,
  DEFAULT_TRYING_DELAY_MS,
  type SipTimers,
  systemClock,
  timerB,
  timerD,
  timerF,
  timerH,
  type TimerHandle,
  timerI,
  timerJ,
  timerK,
  timerL,
  timerM,
  type TimerName,
  TimerSet,
} from "./timers.ts";
export {
  type TerminationReason,
  type TimeoutTimer,
  Transaction,
  type TransactionContext,
  TransactionError,
  type TransactionState,
} from "./transaction.ts";
export {
  type AnyClientTransaction,
  type AnyServerTransaction,
  type IncomingRequest,
  type RequestHandler,
  type StrayResponseHandler,
  type TransactionCounts,
  TransactionLayer,
  type TransactionLayerOptions,
} from "./transaction_layer.ts";
