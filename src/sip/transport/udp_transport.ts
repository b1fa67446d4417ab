/**
 * SIP over UDP (RFC 3261 §18) on `Deno.listenDatagram` (needs `--unstable-net`). One socket both
 * receives and sends, so responses and requests leave from the address peers reach us on. Each
 * datagram is one message (§18.3); it is received into one reused buffer and copied out.
 */
import type { Logger } from "../../log/logger.ts";
import { callWire, InboundPipeline, type InboundStats } from "./inbound.ts";
import {
  type Connection,
  type Destination,
  type HostPort,
  type MessageHandler,
  type SendOptions,
  type SipTransport,
  TransportError,
  type WireHook,
} from "./types.ts";
import { bareHost } from "../message/mod.ts";
import { ipFamily, nextConnectionId, unmapHost } from "./address.ts";

/** Largest UDP payload (65,535 minus IP and UDP headers; RFC 3261 §18.1.1 "maximum datagram"). */
export const MAX_UDP_PAYLOAD = 65_507;

/** Options for `UdpTransport.listen`. */
export interface UdpTransportOptions {
  /** Local address to bind (`SIP_LISTEN_IP` / `SIP_LISTEN_IPV6`); `0.0.0.0` or `::` for all. */
  readonly hostname: string;
  /** Local port; 0 picks an ephemeral one (read it back from `local`). */
  readonly port: number;
  /** `SIP_DEBUG` hook. */
  readonly wire?: WireHook;
  readonly log?: Logger;
  /** Messages longer than this are dropped unread (default `MAX_UDP_PAYLOAD`). */
  readonly maxMessageSize?: number;
}

/** A UDP "connection": our socket plus one peer address (RFC 3261 §18.2.2 reply path). */
class UdpPath implements Connection {
  readonly id = nextConnectionId();
  readonly transport = "udp" as const;
  readonly reliable = false;
  readonly closed = false;
  readonly #owner: UdpTransport;
  readonly local: HostPort;
  readonly remote: HostPort;

  constructor(owner: UdpTransport, remote: HostPort) {
    this.#owner = owner;
    this.local = owner.local;
    this.remote = remote;
  }

  send(bytes: Uint8Array): Promise<void> {
    return this.#owner.send(bytes, { ...this.remote, transport: "udp" });
  }
}

/** A UDP SIP socket; implements `SipTransport`. */
export class UdpTransport implements SipTransport {
  /** The bound address (with the real port when 0 was asked for). */
  readonly local: HostPort;
  /** A UDP socket always receives. */
  readonly listening = true;
  readonly #socket: Deno.DatagramConn;
  readonly #pipeline: InboundPipeline;
  readonly #wire?: WireHook;
  readonly #log?: Logger;
  readonly #maxSize: number;
  readonly #loop: Promise<void>;
  readonly #ipv6: boolean;
  #closed = false;

  private constructor(socket: Deno.DatagramConn, options: UdpTransportOptions) {
    this.#socket = socket;
    const addr = socket.addr as Deno.NetAddr;
    this.local = { host: addr.hostname, port: addr.port };
    this.#ipv6 = ipFamily(addr.hostname) === 6;
    this.#wire = options.wire;
    this.#log = options.log;
    this.#maxSize = Math.min(options.maxMessageSize ?? MAX_UDP_PAYLOAD, MAX_UDP_PAYLOAD);
    this.#pipeline = new InboundPipeline({
      transport: "udp",
      local: this.local,
      wire: options.wire,
      log: options.log,
    });
    this.#loop = this.#receiveLoop();
  }

  /** Binds a UDP socket and starts receiving. Throws when the address cannot be bound. */
  static listen(options: UdpTransportOptions): UdpTransport {
    const socket = Deno.listenDatagram({
      transport: "udp",
      hostname: bareHost(options.hostname),
      port: options.port,
    });
    return new UdpTransport(socket, options);
  }

  /** Always "udp". */
  get protocol(): "udp" {
    return "udp";
  }

  /** Counters of the receive path (accepted, answered with an error, dropped). */
  get stats(): InboundStats {
    return this.#pipeline.stats;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one datagram to `to`; the connection option is irrelevant for UDP (one socket). */
  async send(bytes: Uint8Array, to: Destination, _options?: SendOptions): Promise<void> {
    if (this.#closed) throw new TransportError("Cannot send: UDP transport is closed", to);
    if (bytes.length > MAX_UDP_PAYLOAD) {
      throw new TransportError(`Cannot send ${bytes.length} bytes in one UDP datagram`, to);
    }
    const hostname = bareHost(to.host);
    // A dual-stack IPv6 socket reaches IPv4 peers through their mapped address.
    const target = this.#ipv6 && ipFamily(hostname) === 4 && /^[\d.]+$/.test(hostname)
      ? `::ffff:${hostname}`
      : hostname;
    try {
      await this.#socket.send(bytes, { transport: "udp", hostname: target, port: to.port });
    } catch (err) {
      throw new TransportError(`Cannot send to ${hostname}:${to.port} over UDP`, to, {
        cause: err,
      });
    }
    if (this.#wire) {
      callWire(this.#wire, {
        direction: "out",
        transport: "udp",
        bytes,
        peer: { host: hostname, port: to.port },
        local: this.local,
      });
    }
  }

  /** Registers an inbound message handler; returns its remover. */
  onMessage(handler: MessageHandler): () => void {
    return this.#pipeline.onMessage(handler);
  }

  /** Closes the socket and waits for the receive loop to end; idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#socket.close();
      } catch {
        // already closed by the runtime
      }
    }
    await this.#loop;
  }

  /** `await using` support. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #receiveLoop(): Promise<void> {
    // One buffer for the socket's lifetime: receive() returns a view into it, so each datagram
    // is copied out before the next receive overwrites it.
    const buf = new Uint8Array(MAX_UDP_PAYLOAD + 1);
    let consecutiveErrors = 0;
    while (!this.#closed) {
      let view: Uint8Array;
      let addr: Deno.Addr;
      try {
        [view, addr] = await this.#socket.receive(buf);
        consecutiveErrors = 0;
      } catch (err) {
        if (this.#closed) break;
        // Some kernels surface ICMP errors on the next receive; they concern an earlier send.
        if (++consecutiveErrors > 1000) {
          this.#log?.error("UDP receive keeps failing; stopping", { error: err });
          break;
        }
        this.#log?.debug("UDP receive error", { error: err });
        continue;
      }
      if (view.length === 0 || view.length > this.#maxSize) {
        this.#log?.debug("UDP datagram dropped: size", { bytes: view.length });
        continue;
      }
      const net = addr as Deno.NetAddr;
      const path = new UdpPath(this, { host: unmapHost(net.hostname), port: net.port });
      this.#pipeline.receiveDatagram(view.slice(), path);
    }
  }
}
