/**
 * How SIP call outcomes map to the contract's CDR reasons and back (compat-notes §1 "SIP inbound",
 * "SIP outbound"; RFC 3261 §21 for the status codes).
 */
import type { DialogEnd } from "../sip/dialog/mod.ts";

/** CDR reason → final response for an unanswered inbound call (compat §1 "SIP inbound"). */
export const REJECT_STATUS: Readonly<Record<string, number>> = {
  busy: 486,
  declined: 603,
  rejected: 603,
  unavailable: 480,
  not_found: 404,
  forbidden: 403,
  server_error: 500,
};

/** Session end → CDR reason; undefined when we ended it ourselves. */
export function endReason(end: DialogEnd): string | undefined {
  switch (end.reason) {
    case "remote_bye":
    case "request_failed":
      return "remote_bye";
    case "session_expired":
      return "session_expired";
    case "ack_timeout":
      return "connect_failed";
    default:
      return undefined;
  }
}
