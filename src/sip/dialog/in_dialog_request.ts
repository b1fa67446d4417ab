/**
 * Sending one request inside a dialog (RFC 3261 §12.2.1): built from the dialog state, given a
 * Via for its next hop, run as a client transaction, retried once with credentials after a
 * 401/407 (§22.2), and the ACK for a 2xx to an INVITE (§13.2.2.4).
 */
import type { DigestCredentials } from "../auth/digest.ts";
import { formatAuthValue, type SipRequest, type SipResponse } from "../message/mod.ts";
import type { Destination } from "../transport/mod.ts";
import type { AnyClientTransaction } from "../transaction/mod.ts";
import type { UaContext } from "./_context.ts";
import { answerChallenge, type Authorization, isChallenge } from "./auth_retry.ts";
import type { DialogState } from "./dialog_state.ts";
import { CallFailedError } from "./reasons.ts";
import { addVia, ALLOW, setSdp } from "./requests.ts";

/** Options for `sendInDialog`. */
export interface InDialogOptions {
  /** SDP offer or answer to carry (Content-Type application/sdp). */
  readonly sdp?: string;
  /** Any other body, with its Content-Type. */
  readonly body?: { readonly contentType: string; readonly content: string | Uint8Array };
  /** Extra header fields (X-…, Session-Expires, …). */
  readonly headers?: Iterable<readonly [string, string]>;
  /** Add Contact, Allow and Supported: the request is a target refresh (RFC 3261 §12.2.1.2). */
  readonly targetRefresh?: boolean;
  /** Answer one 401/407 with these. */
  readonly credentials?: DigestCredentials;
  /** Every response the transaction passes up (2xx retransmissions included, for re-INVITE). */
  readonly onResponse?: (response: SipResponse, sent: SentRequest) => void;
  /** Each client transaction started (so the owner can terminate it on close). */
  readonly onTransaction?: (tx: AnyClientTransaction) => void;
}

/** A request as sent: the message, where it went and the credentials it carried. */
export interface SentRequest {
  readonly request: SipRequest;
  readonly destination: Destination;
  readonly authorization?: Authorization;
}

/** The final response to an in-dialog request and the request that got it. */
export interface InDialogOutcome {
  readonly response: SipResponse;
  readonly sent: SentRequest;
}

/**
 * Sends `method` inside `dialog` and resolves with its final response (any status). Rejects with
 * `CallFailedError` (`invite_failed`, no status) when the transaction times out or the transport
 * fails (RFC 3261 §12.2.1.2 then asks the caller to end the dialog).
 */
export async function sendInDialog(
  ctx: UaContext,
  dialog: DialogState,
  method: string,
  options: InDialogOptions = {},
): Promise<InDialogOutcome> {
  let authorization: Authorization | undefined;
  for (let attempt = 0;; attempt++) {
    const { request, nextHop } = dialog.buildRequest(method, { headers: ctx.commonHeaders });
    const destination = await nextHopOf(ctx, dialog, nextHop);
    const local = ctx.localFor(destination);
    addVia(request, destination, local);
    if (options.targetRefresh) {
      request.headers.append("Contact", ctx.contact(local, destination.transport, dialog.secure));
      request.headers.append("Allow", ALLOW);
      if (ctx.sessionTimer.enabled) request.headers.append("Supported", "timer");
    }
    for (const [name, value] of options.headers ?? []) request.headers.append(name, value);
    if (authorization) {
      request.headers.append(authorization.name, formatAuthValue(authorization.value));
    }
    if (options.sdp !== undefined) setSdp(request, options.sdp);
    else if (options.body) {
      request.headers.set("Content-Type", options.body.contentType);
      const c = options.body.content;
      request.body = typeof c === "string" ? new TextEncoder().encode(c) : c;
    }
    const sent: SentRequest = { request, destination, authorization };
    const onResponse = options.onResponse;
    const tx = ctx.transactions.sendRequest(request, destination, {
      onResponse: onResponse ? (r) => onResponse(r, sent) : undefined,
    });
    options.onTransaction?.(tx);
    let response: SipResponse;
    try {
      response = await tx.response();
    } catch (err) {
      // Timer F/B expiry or a transport failure: not a SIP answer (RFC 3261 §8.1.3.1).
      throw new CallFailedError("invite_failed", {
        cause: err,
        message: `SIP ${method} failed: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
    if (isChallenge(response.status) && options.credentials && attempt === 0) {
      authorization = answerChallenge(request, response, options.credentials);
      if (authorization) continue;
    }
    return { response, sent };
  }
}

/** An ACK ready to (re-)send. */
export interface PreparedAck {
  readonly ack: SipRequest;
  readonly destination: Destination;
}

/**
 * RFC 3261 §13.2.2.4: the ACK for a 2xx to `invite` — built like any in-dialog request (so it
 * follows the dialog's route set) but with the INVITE's CSeq number and credentials, and no body
 * (we never hold an offer back for the ACK).
 */
export async function prepareAck(
  ctx: UaContext,
  dialog: DialogState,
  invite: SipRequest,
): Promise<PreparedAck> {
  const { request, nextHop } = dialog.buildRequest("ACK", {
    cseq: invite.cseq.seq,
    headers: ctx.commonHeaders,
  });
  const destination = await nextHopOf(ctx, dialog, nextHop);
  addVia(request, destination, ctx.localFor(destination));
  for (const name of ["Authorization", "Proxy-Authorization"]) {
    for (const v of invite.headers.getAll(name)) request.headers.append(name, v);
  }
  return { ack: request, destination };
}

/** Where an in-dialog request goes: the peer's socket with SIP_USE_SOURCE_SOCKET, else `nextHop`. */
function nextHopOf(
  ctx: UaContext,
  dialog: DialogState,
  nextHop: Parameters<UaContext["resolve"]>[0],
): Promise<Destination> | Destination {
  return ctx.useSourceSocket && dialog.peerSocket ? dialog.peerSocket : ctx.resolve(nextHop);
}
