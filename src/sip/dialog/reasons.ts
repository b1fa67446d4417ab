/**
 * Why an outgoing call failed, in the contract's CDR vocabulary (`leg.disconnected` `cdr.reason`):
 * a final SIP status maps to a fixed name, anything else becomes `invite_failed`.
 */
import type { SipResponse } from "../message/mod.ts";

/** The CDR reason of a failed INVITE. */
export type CallFailureReason =
  | "busy"
  | "unavailable"
  | "not_found"
  | "forbidden"
  | "unauthorized"
  | "timeout"
  | "cancelled"
  | "not_acceptable"
  | "service_unavailable"
  | "declined"
  | "invite_failed"
  | `sip_${number}`;

const BY_STATUS: ReadonlyMap<number, CallFailureReason> = new Map([
  [486, "busy"],
  [480, "unavailable"],
  [404, "not_found"],
  [403, "forbidden"],
  [401, "unauthorized"],
  [407, "unauthorized"],
  [408, "timeout"],
  [487, "cancelled"],
  [488, "not_acceptable"],
  [503, "service_unavailable"],
  [603, "declined"],
]);

/**
 * The CDR reason for a final non-2xx status: the contract's fixed names, else `sip_<code>` (also
 * for an unfollowed 3xx redirect, which ends the call just the same).
 */
export function failureReason(status: number): CallFailureReason {
  return BY_STATUS.get(status) ?? `sip_${status}`;
}

/** An outgoing call (or in-dialog request) ended without a 2xx. */
export class CallFailedError extends Error {
  /** The CDR reason (`busy`, `sip_499`, `invite_failed`, …). */
  readonly reason: CallFailureReason;
  /** The final status when a response caused the failure. */
  readonly status?: number;
  /** The final response, when there was one. */
  readonly response?: SipResponse;

  constructor(
    reason: CallFailureReason,
    options: { status?: number; response?: SipResponse; cause?: unknown; message?: string } = {},
  ) {
    const what = options.status === undefined ? reason : `${options.status} (${reason})`;
    super(options.message ?? `SIP call failed: ${what}`, { cause: options.cause });
    this.name = "CallFailedError";
    this.reason = reason;
    if (options.status !== undefined) this.status = options.status;
    if (options.response !== undefined) this.response = options.response;
  }

  /** The failure a final non-2xx response means. */
  static fromResponse(response: SipResponse): CallFailedError {
    return new CallFailedError(failureReason(response.status), {
      status: response.status,
      response,
    });
  }
}
