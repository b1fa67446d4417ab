/**
 * The transport layer's vocabulary (RFC 3261 §18): where a message goes, where it came from, the
 * connection it travelled on, and the small `SipTransport` interface the transaction layer is
 * written against — so transaction tests run on the in-memory fake.
 */
import type { SipMessage } from "../message/mod.ts";

/** Transport protocols we speak, lower-case as in our config; Via writes them upper-case. */
export type TransportProto = "udp" | "tcp" | "tls";

/** An IP address and port; `host` is a bare address (`::1`, never `[::1]`). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Where a message is sent to or came from: address, port and transport (RFC 3261 §18.1.1). */
export interface Destination extends HostPort {
  readonly transport: TransportProto;
}

/**
 * One path to a peer. For TCP/TLS a real connection; for UDP the pair (our socket, the peer's
 * address), so that replying "on the connection" leaves from the socket the request reached.
 */
export interface Connection {
  /** Unique per process, for logs and tests. */
  readonly id: number;
  readonly transport: TransportProto;
  /** True for TCP/TLS (RFC 3261 §17: no retransmissions over reliable transports). */
  readonly reliable: boolean;
  readonly local: HostPort;
  readonly remote: HostPort;
  /** True once the connection can no longer carry bytes (always false for UDP). */
  readonly closed: boolean;
  /** Writes one whole message; rejects with `TransportError` when the path is gone. */
  send(bytes: Uint8Array): Promise<void>;
}

/** A parsed message handed up by a transport, with the bytes and where they came from. */
export interface InboundMessage {
  /** The message; for requests, the top Via already carries `received`/`rport` (§18.2.1). */
  readonly message: SipMessage;
  /**
   * The datagram as received (before the Via fill-in); for TCP/TLS, where the framer hands up
   * parsed messages, the message serialized again on first access.
   */
  readonly bytes: Uint8Array;
  /** The packet's source address and port (the peer end of `connection`). */
  readonly source: Destination;
  /** The path the message arrived on; responses to a request go back on it (§18.2.2). */
  readonly connection: Connection;
}

/** Receives inbound messages; must not throw (a throw is caught and logged by the transport). */
export type MessageHandler = (inbound: InboundMessage) => void;

/** Options for one `send`. */
export interface SendOptions {
  /**
   * Send on this connection when it is still open (responses, RFC 3261 §18.2.2; requests reusing
   * an inbound connection, §18.1.1). Falls back to `to` when it has closed.
   */
  readonly connection?: Connection;
}

/**
 * The transport as the transaction layer sees it: bytes out to a destination, parsed messages in.
 * Implemented by each socket transport, by `TransportLayer` (which picks among them) and by the
 * in-memory fake.
 */
export interface SipTransport {
  /**
   * Sends one whole message. Rejects with `TransportError` when it cannot (RFC 3261 §18.4:
   * connection failure, ICMP-style errors) so that transactions can inform their TU (§17.1.4).
   */
  send(bytes: Uint8Array, to: Destination, options?: SendOptions): Promise<void>;
  /** Registers a handler for inbound messages; returns a function that removes it. */
  onMessage(handler: MessageHandler): () => void;
  /** Closes every socket and connection and clears every timer; idempotent. */
  close(): Promise<void>;
}

/** One message on the wire, as the `SIP_DEBUG` hook sees it. */
export interface WireEvent {
  readonly direction: "in" | "out";
  readonly transport: TransportProto;
  readonly bytes: Uint8Array;
  /** The far end: destination of an outbound message, source of an inbound one. */
  readonly peer: HostPort;
  readonly local: HostPort;
}

/** The `SIP_DEBUG` logging hook: called for every message sent or received. Must not throw. */
export type WireHook = (event: WireEvent) => void;

/** A message could not be sent (RFC 3261 §18.4); carries the destination. */
export class TransportError extends Error {
  /** Where the message was going. */
  readonly destination: Destination;
  constructor(message: string, destination: Destination, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TransportError";
    this.destination = destination;
  }
}

/** Whether a transport protocol is reliable (RFC 3261 §17.1.1.2 "reliable transport"). */
export function isReliable(transport: TransportProto): boolean {
  return transport !== "udp";
}

/** Default port for a transport when sent-by or a URI omits it (RFC 3261 §18.1.1, §19.1.2). */
export function defaultPort(transport: TransportProto): number {
  return transport === "tls" ? 5061 : 5060;
}

/** Via's sent-protocol transport token for a protocol (RFC 3261 §20.42: `UDP`, `TCP`, `TLS`). */
export function viaTransportToken(transport: TransportProto): string {
  return transport.toUpperCase();
}

/** The protocol named by a Via transport token, or `undefined` for one we do not speak. */
export function transportFromToken(token: string): TransportProto | undefined {
  const t = token.toLowerCase();
  return t === "udp" || t === "tcp" || t === "tls" ? t : undefined;
}
