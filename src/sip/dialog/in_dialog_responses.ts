/**
 * Responses the UA core sends inside a dialog: plain ones (with Allow/Accept/Supported for
 * OPTIONS, RFC 3261 §11.2; Retry-After for a second INVITE, §14.2) and the 2xx to a target
 * refresh — re-INVITE or UPDATE — with Contact (§12.2.2), capabilities, the session timer
 * (RFC 4028 §9) and the SDP answer.
 */
import { buildResponse, type SipRequest, type SipResponse } from "../message/mod.ts";
import type { AnyServerTransaction } from "../transaction/mod.ts";
import type { UaContext } from "./_context.ts";
import { ALLOW, SDP_TYPE, setSdp } from "./requests.ts";
import { responseTimerHeaders, type SessionTimerPlan } from "./session_timer.ts";

/** Options for `respondInDialog`. */
export interface InDialogResponseOptions {
  readonly reason?: string;
  readonly headers?: Iterable<readonly [string, string]>;
  /** RFC 3261 §14.2: add Retry-After 0–10 s (a second INVITE while one is open). */
  readonly retryAfter?: boolean;
  /** RFC 3261 §11.2: add Allow, Accept and Supported (an OPTIONS answer). */
  readonly capabilities?: boolean;
}

/** Sends `status` for `request` on `tx`; false when the transaction refused it. */
export function respondInDialog(
  ctx: UaContext,
  tx: AnyServerTransaction,
  request: SipRequest,
  status: number,
  options: InDialogResponseOptions = {},
): boolean {
  const headers: (readonly [string, string])[] = [
    ...ctx.commonHeaders,
    ...(options.headers ?? []),
  ];
  if (options.retryAfter) headers.push(["Retry-After", String(Math.floor(ctx.random() * 11))]);
  if (options.capabilities) {
    headers.push(["Allow", ALLOW], ["Accept", SDP_TYPE]);
    if (ctx.sessionTimer.enabled) headers.push(["Supported", "timer"]);
  }
  return tx.respond(buildResponse(request, status, options.reason, { headers }));
}

/** The 2xx to a re-INVITE or UPDATE. */
export function targetRefreshOk(
  ctx: UaContext,
  request: SipRequest,
  tx: AnyServerTransaction,
  answer: {
    readonly secure: boolean;
    readonly sdp?: string;
    readonly plan?: SessionTimerPlan;
    readonly headers?: Iterable<readonly [string, string]>;
  },
): SipResponse {
  const headers: (readonly [string, string])[] = [["Allow", ALLOW]];
  if (ctx.sessionTimer.enabled) headers.push(["Supported", "timer"]);
  if (answer.plan) headers.push(...responseTimerHeaders(answer.plan));
  const response = buildResponse(request, 200, undefined, {
    headers: [...headers, ...ctx.commonHeaders, ...(answer.headers ?? [])],
  });
  const conn = tx.connection;
  response.headers.append("Contact", ctx.contact(conn.local, conn.transport, answer.secure));
  setSdp(response, answer.sdp);
  return response;
}
