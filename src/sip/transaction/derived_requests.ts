/**
 * Requests derived from an INVITE by rule: the ACK the INVITE client transaction sends for a
 * non-2xx final response (RFC 3261 §17.1.1.3) and the CANCEL a UAC sends to stop it (§9.1).
 * Header values are copied as received so they match byte for byte.
 */
import { SipHeaders, SipRequest, type SipResponse } from "../message/mod.ts";

/**
 * RFC 3261 §17.1.1.3: Request-URI, Call-ID, From and Route from the INVITE; To from the response
 * (with its tag); one Via equal to the INVITE's top Via; CSeq number of the INVITE with method
 * ACK; no body (NOT RECOMMENDED for non-2xx ACKs).
 */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const h = new SipHeaders();
  h.appendEntries(invite.headers.entriesOf("Via").slice(0, 1));
  h.appendEntries(invite.headers.entriesOf("Route"));
  h.appendEntries(response.headers.entriesOf("To").slice(0, 1));
  h.appendEntries(invite.headers.entriesOf("From").slice(0, 1));
  h.appendEntries(invite.headers.entriesOf("Call-ID").slice(0, 1));
  h.append("CSeq", { seq: invite.cseq.seq, method: "ACK" });
  h.append("Max-Forwards", String(invite.maxForwards ?? 70));
  return new SipRequest({ method: "ACK", uri: invite.uri, headers: h });
}

/**
 * RFC 3261 §9.1: a CANCEL for `request` — same Request-URI, Call-ID, To, From and CSeq number
 * (method CANCEL), one Via equal to the request's top Via (so it shares the branch and reaches
 * the same server transaction, §17.2.3), the same Route header fields, no body.
 */
export function buildCancel(request: SipRequest): SipRequest {
  const h = new SipHeaders();
  h.appendEntries(request.headers.entriesOf("Via").slice(0, 1));
  h.appendEntries(request.headers.entriesOf("Route"));
  h.appendEntries(request.headers.entriesOf("To").slice(0, 1));
  h.appendEntries(request.headers.entriesOf("From").slice(0, 1));
  h.appendEntries(request.headers.entriesOf("Call-ID").slice(0, 1));
  h.append("CSeq", { seq: request.cseq.seq, method: "CANCEL" });
  h.append("Max-Forwards", String(request.maxForwards ?? 70));
  return new SipRequest({ method: "CANCEL", uri: request.uri, headers: h });
}
