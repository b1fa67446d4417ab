/**
 * The SIP dialog layer (RFC 3261 §12–§15, RFC 3311, RFC 4028, RFC 6026): a `UserAgent` on the
 * transaction layer that places calls (`OutgoingCall`), receives them (`IncomingCall`), and runs
 * the established dialogs' sessions (`DialogSession`) — in-dialog requests, glare, session timers.
 *
 * @module
 */
export { dialogKey, type DialogRole, DialogState } from "./dialog_state.ts";
export {
  IncomingCall,
  type IncomingCallState,
  type IncomingResponseOptions,
} from "./incoming_call.ts";
export { glareDelayMs } from "./glare.ts";
export { type InviteOptions, OutgoingCall, type OutgoingCallState } from "./outgoing_call.ts";
export { CallFailedError, type CallFailureReason, failureReason } from "./reasons.ts";
export { ALLOW, ALLOWED_METHODS, SDP_TYPE, sdpOf } from "./requests.ts";
export { literalResolver, type Resolver } from "./routing.ts";
export { DialogSession } from "./session.ts";
export {
  DEFAULT_SESSION_TIMER,
  expiryDelayMs,
  negotiateAsUas,
  refreshDelayMs,
  type SessionExpiryRule,
  type SessionTimerPlan,
  type SessionTimerSettings,
} from "./session_timer.ts";
export type {
  DialogEnd,
  DialogEndReason,
  InDialogRequestOptions,
  InDialogResult,
  OfferReply,
  RemoteOffer,
} from "./session_types.ts";
export { UserAgent, type UserAgentOptions } from "./user_agent.ts";
