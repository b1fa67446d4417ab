/**
 * Transaction matching keys. Clients (RFC 3261 §17.1.3): top-Via branch and CSeq method — the
 * method tells a CANCEL from the INVITE that shares its branch. Servers (§17.2.3): branch, sent-by
 * and method, with ACK matching INVITE; for RFC 2543 peers (no magic cookie) the Request-URI,
 * From tag, Call-ID, CSeq and top Via stand in for the branch.
 */
import {
  formatUri,
  formatVia,
  isRfc3261Branch,
  type SipMessage,
  type SipRequest,
  type Via,
  withoutParam,
} from "../message/mod.ts";
import { canonicalHost, defaultPort, transportFromToken } from "../transport/mod.ts";

/** RFC 3261 §17.1.3: the key of the client transaction a message belongs to. */
export function clientKey(branch: string, method: string): string {
  return `c|${branch}|${method}`;
}

/** The client key of a request we send or a response we receive; `undefined` without a branch. */
export function clientKeyOf(msg: SipMessage): string | undefined {
  const branch = msg.topVia?.branch;
  if (branch === undefined) return undefined;
  let method: string;
  try {
    method = msg.kind === "request" ? msg.method : msg.cseq.method;
  } catch {
    return undefined;
  }
  return clientKey(branch, method);
}

/** sent-by as compared in RFC 3261 §17.2.3: canonical host and explicit-or-default port. */
function sentBy(via: Via): string {
  const transport = transportFromToken(via.transport) ?? "udp";
  return `${canonicalHost(via.host)}:${via.port ?? defaultPort(transport)}`;
}

/**
 * RFC 3261 §17.2.3: the key of the server transaction `req` belongs to, as if its method were
 * `method` (ACK → INVITE for ACK matching; INVITE for the transaction a CANCEL targets).
 * `undefined` when the request has no top Via.
 */
export function serverKey(req: SipRequest, method: string = req.method): string | undefined {
  const via = req.topVia;
  if (!via) return undefined;
  const m = method === "ACK" ? "INVITE" : method;
  if (isRfc3261Branch(via.branch)) return `s|${via.branch}|${sentBy(via)}|${m}`;
  // RFC 2543 fallback. The To tag is left out: an INVITE has none, its ACK carries the one of our
  // response (checked separately); `received`/`rport` are ours, not the client's.
  let seq: number;
  let callId: string;
  try {
    seq = req.cseq.seq;
    callId = req.callId;
  } catch {
    return undefined;
  }
  const bareVia = formatVia({
    ...via,
    params: withoutParam(withoutParam(via.params, "received"), "rport"),
  });
  return `s2543|${formatUri(req.uri)}|${req.fromTag ?? ""}|${callId}|${seq}|${m}|${bareVia}`;
}

/** Whether `req` uses RFC 2543 matching (no RFC 3261 branch). */
export function isRfc2543(req: SipRequest): boolean {
  return !isRfc3261Branch(req.topVia?.branch);
}
