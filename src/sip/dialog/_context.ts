/**
 * What the dialog layer's pieces (outgoing and incoming calls, sessions) need from the
 * `UserAgent` that owns them. Internal.
 */
import type { Logger } from "../../log/logger.ts";
import type { NameAddr, SipRequest, SipResponse } from "../message/mod.ts";
import type { Destination, HostPort, TransportProto } from "../transport/mod.ts";
import type {
  AnyServerTransaction,
  Clock,
  SipTimers,
  TransactionLayer,
} from "../transaction/mod.ts";
import type { Resolver } from "./routing.ts";
import type { SessionTimerSettings } from "./session_timer.ts";

/** Something that owns a dialog-table entry: an unanswered incoming call or a session. */
export interface DialogUsage {
  /** A request whose Call-ID and tags match, with its server transaction. */
  receiveRequest(request: SipRequest, tx: AnyServerTransaction): void;
  /** An ACK whose Call-ID and tags match (RFC 3261 §13.3.1.4 for 2xx). */
  receiveAck(ack: SipRequest): void;
  /** A 2xx to an INVITE arriving after its client transaction ended (§13.2.2.4: ACK again). */
  receiveStray2xx(response: SipResponse): void;
  /** Ends without signalling (the UA is closing). */
  close(): void;
}

/** The UA's services, as its calls and sessions see them. */
export interface UaContext {
  readonly transactions: TransactionLayer;
  readonly clock: Clock;
  readonly timers: SipTimers;
  readonly resolve: Resolver;
  readonly sessionTimer: SessionTimerSettings;
  /** Uniform in [0, 1): glare back-off (RFC 3261 §14.1); tests fix it. */
  readonly random: () => number;
  /** In-dialog requests go to `DialogState.peerSocket` (SIP_USE_SOURCE_SOCKET). */
  readonly useSourceSocket: boolean;
  readonly log?: Logger;
  /** Extra header fields on every request and response we originate (User-Agent, …). */
  readonly commonHeaders: readonly (readonly [string, string])[];
  /** Our address toward `to`, for Via sent-by and Contact. */
  localFor(to: Destination): HostPort;
  /** Our Contact when reachable at `local` over `transport` (RFC 3261 §8.1.1.8, §12.1.1). */
  contact(local: HostPort, transport: TransportProto, secure: boolean): NameAddr;
  /** Adds a dialog-table entry. */
  register(key: string, usage: DialogUsage): void;
  /** Removes a dialog-table entry if it is still `usage`'s. */
  unregister(key: string, usage: DialogUsage): void;
}
