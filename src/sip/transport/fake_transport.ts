/**
 * In-memory transports for tests of the layers above (the sipgo model: the transport is a small
 * interface, so transactions are tested without sockets). A `FakeTransport` records what is sent
 * and lets a test inject what is received; `fakeTransportPair()` links two so that one's sends
 * arrive at the other. Inbound bytes go through the same pipeline as real sockets (parse, 400 for
 * junk, Via `received`/`rport`), so behaviour matches.
 */
import { parseMessage, type SipMessage } from "../message/mod.ts";
import { nextConnectionId } from "./address.ts";
import { InboundPipeline } from "./inbound.ts";
import {
  type Connection,
  type Destination,
  type HostPort,
  isReliable,
  type MessageHandler,
  type SendOptions,
  type SipTransport,
  TransportError,
  type TransportProto,
} from "./types.ts";

const encoder = new TextEncoder();

/** One message a `FakeTransport` was asked to send. */
export interface SentRecord {
  readonly bytes: Uint8Array;
  readonly to: Destination;
  readonly connection?: Connection;
  /** The bytes parsed back (undefined if they do not parse). */
  readonly message: SipMessage | undefined;
}

/** Options for a `FakeTransport`. */
export interface FakeTransportOptions {
  /** Our address (default `192.0.2.1:5060`). */
  readonly local?: HostPort;
  /** Protocol reported on inbound messages and connections (default `udp`). */
  readonly transport?: TransportProto;
}

class FakePath implements Connection {
  readonly id = nextConnectionId();
  readonly reliable: boolean;
  closed = false;
  constructor(
    readonly owner: FakeTransport,
    readonly transport: TransportProto,
    readonly local: HostPort,
    readonly remote: HostPort,
  ) {
    this.reliable = isReliable(transport);
  }
  send(bytes: Uint8Array): Promise<void> {
    return this.owner.send(bytes, { ...this.remote, transport: this.transport });
  }
}

/** A `SipTransport` that records sends and delivers injected messages. */
export class FakeTransport implements SipTransport {
  readonly local: HostPort;
  readonly protocol: TransportProto;
  /** Every send, in order. */
  readonly sent: SentRecord[] = [];
  /** Linked peer (see `fakeTransportPair`): our sends are delivered to it. */
  peer: FakeTransport | undefined;
  /** When true, every send rejects with `TransportError` (RFC 3261 §17.1.4 tests). */
  failSends = false;
  /** Returns true to lose a message on the way to the peer (it is still recorded in `sent`). */
  drop: ((record: SentRecord) => boolean) | undefined;
  readonly #pipeline: InboundPipeline;
  #closed = false;

  constructor(options: FakeTransportOptions = {}) {
    this.local = options.local ?? { host: "192.0.2.1", port: 5060 };
    this.protocol = options.transport ?? "udp";
    this.#pipeline = new InboundPipeline({ transport: this.protocol, local: this.local });
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Records the message and, when linked, delivers it to the peer on a microtask. */
  send(bytes: Uint8Array, to: Destination, options?: SendOptions): Promise<void> {
    if (this.#closed || this.failSends) {
      return Promise.reject(new TransportError("Cannot send: fake transport failure", to));
    }
    const parsed = parseMessage(bytes);
    const record: SentRecord = {
      bytes,
      to,
      connection: options?.connection,
      message: parsed.ok ? parsed.message : undefined,
    };
    this.sent.push(record);
    const peer = this.peer;
    if (peer && !this.drop?.(record)) {
      queueMicrotask(() => peer.inject(bytes, this.local));
    }
    return Promise.resolve();
  }

  /** Receives `data` as if it came from `from` (default `198.51.100.1:5060`); synchronous. */
  inject(data: string | Uint8Array, from: HostPort = { host: "198.51.100.1", port: 5060 }): void {
    if (this.#closed) return;
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const path = new FakePath(this, this.protocol, this.local, from);
    this.#pipeline.receiveDatagram(bytes, path);
  }

  /** Messages sent so far, parsed. */
  messages(): SipMessage[] {
    return this.sent.flatMap((r) => (r.message ? [r.message] : []));
  }

  /** Removes and returns the records sent so far. */
  take(): SentRecord[] {
    return this.sent.splice(0, this.sent.length);
  }

  /** Registers an inbound message handler; returns its remover. */
  onMessage(handler: MessageHandler): () => void {
    return this.#pipeline.onMessage(handler);
  }

  /** Stops sending and receiving; idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    return Promise.resolve();
  }
}

/** Two linked fake transports (default `192.0.2.1:5060` and `192.0.2.2:5060`). */
export function fakeTransportPair(
  transport: TransportProto = "udp",
): [FakeTransport, FakeTransport] {
  const a = new FakeTransport({ local: { host: "192.0.2.1", port: 5060 }, transport });
  const b = new FakeTransport({ local: { host: "192.0.2.2", port: 5060 }, transport });
  a.peer = b;
  b.peer = a;
  return [a, b];
}
