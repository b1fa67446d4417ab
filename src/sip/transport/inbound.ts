/**
 * What every transport does with a received message (RFC 3261 §18.2.1, §18.3): log it for
 * `SIP_DEBUG`, parse it, answer an unparseable request with the 400 its parse result allows (or
 * drop it), stamp `received`/`rport` into the top Via of a request, and hand it up. Nothing
 * here throws past the transport.
 */
import type { Logger } from "../../log/logger.ts";
import {
  buildErrorResponse,
  generateTag,
  isKeepAlive,
  type ParseError,
  parseMessage,
  type ParseOptions,
  serialize,
  type SipMessage,
} from "../message/mod.ts";
import { stampVia } from "./response_route.ts";
import type {
  Connection,
  HostPort,
  InboundMessage,
  MessageHandler,
  TransportProto,
  WireEvent,
  WireHook,
} from "./types.ts";

/** Options for an `InboundPipeline`. */
export interface InboundPipelineOptions {
  readonly transport: TransportProto;
  readonly local: HostPort;
  readonly wire?: WireHook;
  readonly log?: Logger;
  readonly parse?: ParseOptions;
}

/** Counters of what the pipeline refused (for metrics and tests). */
export interface InboundStats {
  /** Messages handed up. */
  accepted: number;
  /** Unparseable requests answered with 4xx/5xx. */
  answered: number;
  /** Unparseable input dropped silently (responses, ACKs, junk). */
  dropped: number;
}

/** The shared receive path of the UDP, TCP and TLS transports. */
export class InboundPipeline {
  readonly #opts: InboundPipelineOptions;
  readonly #handlers = new Set<MessageHandler>();
  /** Running totals. */
  readonly stats: InboundStats = { accepted: 0, answered: 0, dropped: 0 };

  constructor(options: InboundPipelineOptions) {
    this.#opts = options;
  }

  /** Adds a handler; returns its remover. */
  onMessage(handler: MessageHandler): () => void {
    this.#handlers.add(handler);
    return () => void this.#handlers.delete(handler);
  }

  /** Logs raw inbound bytes (stream chunks, which carry no message boundary). */
  wireIn(bytes: Uint8Array, connection: Connection): void {
    this.#wire("in", bytes, connection.remote);
  }

  /**
   * One datagram (RFC 3261 §18.3: one message per packet). CRLF-only datagrams are keep-alives
   * and ignored (RFC 5626 §3.5.1).
   */
  receiveDatagram(bytes: Uint8Array, connection: Connection): void {
    this.#wire("in", bytes, connection.remote);
    if (isKeepAlive(bytes)) return;
    const r = parseMessage(bytes, this.#opts.parse);
    if (r.ok) this.deliver(r.message, bytes, connection);
    else this.reject(r.error, connection);
  }

  /**
   * Hands up a parsed message from `connection`: a request's top Via first gets `received` and
   * `rport` (RFC 3261 §18.2.1, RFC 3581 §4). `bytes` are the wire bytes when known.
   */
  deliver(message: SipMessage, bytes: Uint8Array | undefined, connection: Connection): void {
    const source = { ...connection.remote, transport: connection.transport };
    if (message.kind === "request") {
      const top = message.topVia;
      if (!top) {
        this.#drop("request without a readable Via", connection);
        return;
      }
      try {
        const stamped = stampVia(top, source);
        if (stamped !== top) {
          message.headers.removeFirst("Via");
          message.headers.prepend("Via", stamped);
        }
      } catch (err) {
        this.#drop(`cannot stamp Via: ${err instanceof Error ? err.message : err}`, connection);
        return;
      }
    }
    this.stats.accepted++;
    let raw = bytes;
    const inbound: InboundMessage = {
      message,
      // Stream messages come out of the framer parsed; their bytes are rebuilt only on demand.
      get bytes(): Uint8Array {
        return raw ??= serialize(message);
      },
      source,
      connection,
    };
    for (const handler of this.#handlers) {
      try {
        handler(inbound);
      } catch (err) {
        this.#opts.log?.error("SIP message handler threw", { error: err });
      }
    }
  }

  /**
   * A message that did not parse: answered when the parse result says a response can be formed
   * (RFC 3261 §8.2.6, §18.3; never for responses or ACK), dropped otherwise. The answer goes back
   * to the packet's source on the same connection — for a request this broken, the only address
   * known to be real. A readable To without a tag gets one (§8.2.6.2: every response but a 100).
   */
  reject(error: ParseError, connection: Connection): void {
    const response = buildErrorResponse(error, { toTag: generateTag() });
    if (!response) {
      this.#drop(error.message, connection);
      return;
    }
    this.stats.answered++;
    this.#opts.log?.debug("SIP message refused", {
      error: error.message,
      status: error.status,
      peer: connection.remote,
    });
    let bytes: Uint8Array;
    try {
      bytes = serialize(response);
    } catch (err) {
      this.#opts.log?.debug("Cannot serialize error response", { error: err });
      return;
    }
    connection.send(bytes).catch((err) => {
      this.#opts.log?.debug("Cannot send error response", { error: err });
    });
  }

  #drop(reason: string, connection: Connection): void {
    this.stats.dropped++;
    this.#opts.log?.debug("SIP message dropped", { reason, peer: connection.remote });
  }

  #wire(direction: "in" | "out", bytes: Uint8Array, peer: HostPort): void {
    const wire = this.#opts.wire;
    if (!wire) return;
    callWire(wire, {
      direction,
      transport: this.#opts.transport,
      bytes,
      peer,
      local: this.#opts.local,
    });
  }
}

/** Calls the `SIP_DEBUG` hook, swallowing its errors: debugging must never break signalling. */
export function callWire(wire: WireHook, event: WireEvent): void {
  try {
    wire(event);
  } catch {
    // ignored on purpose
  }
}
