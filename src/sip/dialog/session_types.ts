/**
 * The vocabulary of an established dialog's session: why it ended, what the peer offered, how
 * the application answers, and what an in-dialog request returned.
 */
import type { SipRequest, SipResponse } from "../message/mod.ts";

/** Why a session ended. */
export type DialogEndReason =
  /** The peer sent BYE (RFC 3261 §15.1.2). */
  | "remote_bye"
  /** We sent BYE (`bye()`). */
  | "local_bye"
  /** RFC 4028 §10: no refresh arrived in time, or ours kept failing; we sent BYE. */
  | "session_expired"
  /** RFC 3261 §13.3.1.4: our 2xx got no ACK within 64·T1; we sent BYE. */
  | "ack_timeout"
  /** RFC 3261 §12.2.1.2: an in-dialog request got 481/408 or timed out; no BYE is sent. */
  | "request_failed"
  /** `close()`: ended locally without signalling. */
  | "closed";

/** How and why a session ended. */
export interface DialogEnd {
  readonly reason: DialogEndReason;
  /** The status behind `request_failed`, when a response caused it. */
  readonly status?: number;
  /** The BYE, for `remote_bye`. */
  readonly request?: SipRequest;
}

/** An SDP offer from the peer inside the dialog (RFC 3264 §8). */
export interface RemoteOffer {
  /** Carried by a re-INVITE (RFC 3261 §14.2) or an UPDATE (RFC 3311 §5.2). */
  readonly kind: "reinvite" | "update";
  readonly sdp: string;
  readonly request: SipRequest;
}

/** The application's reply to a `RemoteOffer`: an SDP answer, or a status to refuse it. */
export type OfferReply =
  | { readonly sdp: string; readonly headers?: Iterable<readonly [string, string]> }
  | { readonly status: number; readonly reason?: string };

/** The outcome of an in-dialog request that got a 2xx. */
export interface InDialogResult {
  readonly response: SipResponse;
  /** The SDP in the response (the answer to our offer), if any. */
  readonly sdp?: string;
}

/** Options for requests sent inside a dialog. */
export interface InDialogRequestOptions {
  /** Extra header fields (X-…, Reason, …). */
  readonly headers?: Iterable<readonly [string, string]>;
}
