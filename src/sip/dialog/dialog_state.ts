/**
 * Dialog state (RFC 3261 §12): the identifiers, sequence numbers, route set, remote target and
 * secure flag two user agents share, how a dialog is created from an INVITE and its response
 * (§12.1.1 UAS, §12.1.2 UAC), how requests inside it are built (§12.2.1.1) and how received ones
 * are checked (§12.2.2).
 */
import type { Destination } from "../transport/mod.ts";
import {
  type Contact,
  MAX_CSEQ,
  type NameAddr,
  SipHeaders,
  type SipMessage,
  SipRequest,
  type SipResponse,
  type SipUri,
  type Uri,
  withTag,
} from "../message/mod.ts";
import { asRequestUri, isLooseRoute, sipOnly } from "./routing.ts";

/** Which side of the dialog-creating INVITE we were (RFC 3261 §12.1). */
export type DialogRole = "uac" | "uas";

/** The key a dialog is found by: Call-ID, local tag and remote tag (RFC 3261 §12). */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\n${localTag}\n${remoteTag}`;
}

/** Fields of a new `DialogState`. */
export interface DialogStateInit {
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Local URI: From of our INVITE, or To of the received one (without tag). */
  readonly localUri: NameAddr;
  /** Remote URI (without tag). */
  readonly remoteUri: NameAddr;
  /** Local sequence number; undefined while empty (a UAS that has sent nothing). */
  readonly localSeq: number | undefined;
  /** Remote sequence number; undefined while empty. */
  readonly remoteSeq: number | undefined;
  readonly remoteTarget: Uri;
  /** The route set in the order requests use it. */
  readonly routeSet: readonly NameAddr[];
  readonly secure: boolean;
  /** A loose route to use when the route set is empty (configured outbound proxy). */
  readonly outboundRoute?: NameAddr;
}

/** A request built inside the dialog, and where it goes first. */
export interface DialogRequest {
  /** The request without a Via (added once the destination is known). */
  readonly request: SipRequest;
  /** The next hop: first loose route, strict router, or the remote target. */
  readonly nextHop: SipUri;
}

/** Options for `DialogState.buildRequest`. */
export interface BuildRequestOptions {
  /** Use this CSeq number instead of the next one (ACK for a 2xx, §13.2.2.4). */
  readonly cseq?: number;
  readonly headers?: Iterable<readonly [string, string]>;
  readonly body?: string | Uint8Array;
}

function firstContactUri(msg: SipMessage): Uri | undefined {
  const c: Contact | undefined = msg.contacts[0];
  return c === undefined || c === "*" ? undefined : c.uri;
}

/** `na` with `tag`, or unchanged for an RFC 2543 peer that sent no tag. */
function tagged(na: NameAddr, tag: string): NameAddr {
  return tag === "" ? na : withTag(na, tag);
}

function withoutTag(na: NameAddr): NameAddr {
  return { ...na, params: na.params.filter((p) => p.name.toLowerCase() !== "tag") };
}

/** The mutable state of one dialog (RFC 3261 §12). */
export class DialogState {
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly localUri: NameAddr;
  readonly remoteUri: NameAddr;
  readonly secure: boolean;
  /** The route set; fixed once the dialog is established (§12.2). */
  readonly routeSet: readonly NameAddr[];
  readonly outboundRoute?: NameAddr;
  /**
   * The peer's socket as we met it (its INVITE's source, or where our INVITE went). With
   * `SIP_USE_SOURCE_SOCKET` in-dialog requests go there instead of to the Contact or route set:
   * peers behind NAT often advertise addresses nobody can reach.
   */
  peerSocket: Destination | undefined;
  #localSeq: number | undefined;
  #remoteSeq: number | undefined;
  #remoteTarget: Uri;

  constructor(init: DialogStateInit) {
    this.role = init.role;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localUri = withoutTag(init.localUri);
    this.remoteUri = withoutTag(init.remoteUri);
    this.#localSeq = init.localSeq;
    this.#remoteSeq = init.remoteSeq;
    this.#remoteTarget = init.remoteTarget;
    this.routeSet = init.routeSet;
    this.secure = init.secure;
    if (init.outboundRoute) this.outboundRoute = init.outboundRoute;
  }

  /**
   * RFC 3261 §12.1.2: the UAC's dialog from its INVITE and a response with a To tag — route set
   * from Record-Route reversed, remote target from Contact, local sequence number the INVITE's.
   */
  static fromUac(
    invite: SipRequest,
    response: SipResponse,
    options: { secure: boolean; outboundRoute?: NameAddr },
  ): DialogState {
    const remoteTag = response.toTag;
    if (remoteTag === undefined) {
      throw new TypeError("Cannot create dialog: response has no To tag");
    }
    return new DialogState({
      role: "uac",
      callId: invite.callId,
      localTag: invite.fromTag ?? "",
      remoteTag,
      localUri: invite.from,
      remoteUri: invite.to,
      localSeq: invite.cseq.seq,
      remoteSeq: undefined,
      remoteTarget: firstContactUri(response) ?? invite.uri,
      routeSet: [...response.recordRoutes].reverse(),
      secure: options.secure,
      outboundRoute: options.outboundRoute,
    });
  }

  /**
   * RFC 3261 §12.1.1: the UAS's dialog from a received INVITE and the To tag it chose — route set
   * from Record-Route in order, remote target from Contact, remote sequence number the INVITE's,
   * local sequence number empty.
   */
  static fromUas(invite: SipRequest, localTag: string, secure: boolean): DialogState {
    return new DialogState({
      role: "uas",
      callId: invite.callId,
      localTag,
      remoteTag: invite.fromTag ?? "",
      localUri: invite.to,
      remoteUri: invite.from,
      localSeq: undefined,
      remoteSeq: invite.cseq.seq,
      remoteTarget: firstContactUri(invite) ?? invite.uri,
      routeSet: invite.recordRoutes,
      secure,
    });
  }

  /** The table key (Call-ID, local tag, remote tag). */
  get key(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  /** Local CSeq number of the last request sent, if any. */
  get localSeq(): number | undefined {
    return this.#localSeq;
  }

  /** Remote CSeq number of the last request received, if any. */
  get remoteSeq(): number | undefined {
    return this.#remoteSeq;
  }

  /** Where requests are sent (Contact of the peer, updated by target refreshes). */
  get remoteTarget(): Uri {
    return this.#remoteTarget;
  }

  /**
   * RFC 3261 §12.2.2: accept a request's CSeq when the remote number is empty or not larger;
   * false means out of order (the caller answers 500). ACK and CANCEL are not checked.
   */
  acceptRemoteCSeq(request: SipRequest): boolean {
    if (request.method === "ACK" || request.method === "CANCEL") return true;
    const seq = request.cseq.seq;
    if (this.#remoteSeq !== undefined && seq < this.#remoteSeq) return false;
    this.#remoteSeq = seq;
    return true;
  }

  /**
   * RFC 3261 §12.2.1.2 and §12.2.2 (RFC 3311 §5.1 for UPDATE): a target-refresh request or its
   * 2xx replaces the remote target with its Contact.
   */
  refreshTarget(msg: SipMessage): void {
    const uri = firstContactUri(msg);
    if (uri !== undefined) this.#remoteTarget = uri;
  }

  /**
   * RFC 3261 §12.2.1.1: a request inside the dialog — To/From with the tags, Call-ID, the next
   * local CSeq (unless given), Max-Forwards, and the Request-URI and Route set by loose or strict
   * routing. Via, Contact and the rest are the caller's.
   */
  buildRequest(method: string, options: BuildRequestOptions = {}): DialogRequest {
    let seq = options.cseq;
    if (seq === undefined) {
      // §8.1.1.5: start anywhere below 2**31; we start at 1 when the local number is empty.
      seq = this.#localSeq === undefined ? 1 : this.#localSeq + 1;
      if (seq > MAX_CSEQ) throw new RangeError("Cannot build request: CSeq space exhausted");
      this.#localSeq = seq;
    }
    const routes = this.routeSet.length > 0
      ? this.routeSet
      : this.outboundRoute
      ? [this.outboundRoute]
      : [];
    let uri: Uri;
    let routeHeader: NameAddr[];
    let nextHop: SipUri;
    if (routes.length === 0) {
      uri = this.#remoteTarget;
      routeHeader = [];
      nextHop = sipOnly(uri, "remote target");
    } else if (isLooseRoute(routes[0])) {
      uri = this.#remoteTarget;
      routeHeader = [...routes];
      nextHop = sipOnly(routes[0].uri, "route");
    } else {
      // Strict router: it becomes the Request-URI, the remote target the last Route.
      uri = asRequestUri(routes[0].uri);
      routeHeader = [...routes.slice(1), { uri: this.#remoteTarget, params: [] }];
      nextHop = sipOnly(uri, "route");
    }
    const h = new SipHeaders();
    h.append("Max-Forwards", 70);
    for (const r of routeHeader) h.append("Route", r);
    h.append("From", tagged(this.localUri, this.localTag));
    h.append("To", tagged(this.remoteUri, this.remoteTag));
    h.append("Call-ID", this.callId);
    h.append("CSeq", { seq, method });
    for (const [name, value] of options.headers ?? []) h.append(name, value);
    const request = new SipRequest({ method, uri, headers: h, body: options.body });
    return { request, nextHop };
  }
}
