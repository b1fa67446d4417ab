/**
 * The transport layer as one `SipTransport` over several sockets (RFC 3261 §18): UDP and TCP on
 * the same address and port (§18.2.1: a UDP listener needs its TCP twin), optionally TLS, for
 * IPv4 and IPv6 (`SIP_LISTEN_IP`, `SIP_LISTEN_IPV6`). Sends go to the socket of the right
 * protocol and address family; replies to a request leave from the socket it reached.
 */
import type { Logger } from "../../log/logger.ts";
import { bareHost } from "../message/mod.ts";
import { ipFamily } from "./address.ts";
import type { StreamTransport, StreamTransportOptions } from "./stream_transport.ts";
import { TcpTransport } from "./tcp_transport.ts";
import { TlsTransport } from "./tls_transport.ts";
import {
  type Destination,
  type HostPort,
  type MessageHandler,
  type SendOptions,
  type SipTransport,
  TransportError,
  type TransportProto,
  type WireHook,
} from "./types.ts";
import { UdpTransport } from "./udp_transport.ts";

/** A socket transport the layer can hold. */
export type SocketTransport = UdpTransport | StreamTransport;

/** Options for `TransportLayer.listen`, mirroring the `SIP_*` configuration. */
export interface ListenOptions {
  /** IPv4 (or dual-stack `::`) listen address, `SIP_LISTEN_IP`; empty skips it. */
  readonly listenIp: string;
  /** IPv6 listen address, `SIP_LISTEN_IPV6`; empty skips it. */
  readonly listenIpv6?: string;
  /** UDP and TCP port, `SIP_PORT` (0: ephemeral; the IPv6 sockets then get their own). */
  readonly port: number;
  /** TLS port, `SIP_TLS_PORT`; undefined: TLS for outbound connections only. */
  readonly tlsPort?: number;
  /** `SIP_TLS_CERT` path. */
  readonly tlsCertFile?: string;
  /** `SIP_TLS_KEY` path. */
  readonly tlsKeyFile?: string;
  /** Extra CAs for outbound TLS. */
  readonly tlsCaCerts?: readonly string[];
  /** `SIP_DEBUG` hook. */
  readonly wire?: WireHook;
  readonly log?: Logger;
  readonly idleTimeoutMs?: number;
  readonly framer?: StreamTransportOptions["framer"];
}

/** Several socket transports behind one `SipTransport`. */
export class TransportLayer implements SipTransport {
  readonly #transports: readonly SocketTransport[];
  readonly #handlers = new Set<MessageHandler>();
  readonly #unsubscribe: (() => void)[];
  readonly #log: Logger | undefined;
  #closing: Promise<void> | undefined;

  /** Takes ownership of `transports` (closed by `close()`). */
  constructor(transports: readonly SocketTransport[], options: { log?: Logger } = {}) {
    this.#transports = transports;
    this.#log = options.log;
    const relay: MessageHandler = (inbound) => {
      for (const h of this.#handlers) {
        try {
          h(inbound);
        } catch (err) {
          this.#log?.error("SIP message handler threw", { error: err });
        }
      }
    };
    this.#unsubscribe = transports.map((t) => t.onMessage(relay));
  }

  /**
   * Opens UDP and TCP on each configured address (plus TLS when `tlsPort` is set). On failure,
   * whatever was opened is closed again and the error is thrown.
   */
  static async listen(options: ListenOptions): Promise<TransportLayer> {
    const opened: SocketTransport[] = [];
    const common = {
      wire: options.wire,
      log: options.log,
      idleTimeoutMs: options.idleTimeoutMs,
      framer: options.framer,
    };
    try {
      const ips = [options.listenIp, options.listenIpv6 ?? ""].filter((ip, i, all) =>
        ip !== "" && all.indexOf(ip) === i
      );
      // With port 0 the first address's pick is reused for the others, so `SIP_PORT=0` still
      // means one port number for IPv4 and IPv6 (the port a test reads is valid for both).
      let port = options.port;
      for (const ip of ips) {
        const hostname = bareHost(ip);
        // RFC 3261 §18.2.1: listen for TCP on the same address and port as UDP. With port 0 the
        // kernel picks the UDP port, and that number may already be taken for TCP (an ephemeral
        // client connection): then try another pick.
        for (let attempt = 1;; attempt++) {
          const udp = UdpTransport.listen({ hostname, port, ...common });
          try {
            const tcp = TcpTransport.listen({ hostname, port: udp.local.port, ...common });
            opened.push(udp, tcp);
            port = udp.local.port;
            break;
          } catch (err) {
            await udp.close();
            if (port !== 0 || !(err instanceof Deno.errors.AddrInUse) || attempt >= 20) {
              throw err;
            }
          }
        }
        if (options.tlsPort !== undefined) {
          opened.push(TlsTransport.listen({
            hostname,
            port: options.tlsPort,
            certFile: options.tlsCertFile,
            keyFile: options.tlsKeyFile,
            caCerts: options.tlsCaCerts,
            ...common,
          }));
        }
      }
      if (options.tlsPort === undefined) {
        // Outbound TLS (e.g. to a trunk) works without a TLS listener. Its Via sent-by names our
        // first address and SIP port (RFC 3261 §18.1.1: responses come back on the connection).
        opened.push(TlsTransport.listen({
          caCerts: options.tlsCaCerts,
          ...common,
          hostname: ips[0] ? bareHost(ips[0]) : undefined,
          advertisedPort: port,
        }));
      }
    } catch (err) {
      await Promise.all(opened.map((t) => t.close()));
      throw err;
    }
    return new TransportLayer(opened, { log: options.log });
  }

  /** The socket transports, in the order given. */
  get transports(): readonly SocketTransport[] {
    return this.#transports;
  }

  /**
   * The transport that would carry a message to `to`: same protocol, preferring the address
   * family of `to` (names prefer IPv4).
   */
  pick(to: Destination): SocketTransport | undefined {
    const family = /^[0-9.]+$/.test(to.host) || to.host.includes(":") ? ipFamily(to.host) : 4;
    let fallback: SocketTransport | undefined;
    for (const t of this.#transports) {
      if (t.protocol !== to.transport) continue;
      if (ipFamily(t.local.host) === family) return t;
      fallback ??= t;
    }
    return fallback;
  }

  /** Local address of the transport that would carry a message to `to` (for Via sent-by). */
  localFor(to: Destination): HostPort | undefined {
    return this.pick(to)?.local;
  }

  /**
   * Sends `bytes` to `to`. With `options.connection`: a stream connection is reused while open;
   * for UDP the datagram leaves from the socket that connection belongs to (§18.2.2).
   */
  send(bytes: Uint8Array, to: Destination, options?: SendOptions): Promise<void> {
    const conn = options?.connection;
    let transport: SocketTransport | undefined;
    if (conn?.transport === "udp" && to.transport === "udp") {
      transport = this.#transports.find((t) =>
        t.protocol === "udp" && t.local.port === conn.local.port &&
        bareHost(t.local.host) === bareHost(conn.local.host)
      );
    }
    transport ??= this.pick(to);
    if (!transport) {
      return Promise.reject(
        new TransportError(`Cannot send: no ${to.transport} transport for ${to.host}`, to),
      );
    }
    return transport.send(bytes, to, options);
  }

  /** Registers an inbound message handler (messages from every socket); returns its remover. */
  onMessage(handler: MessageHandler): () => void {
    this.#handlers.add(handler);
    return () => void this.#handlers.delete(handler);
  }

  /** Whether a transport for `protocol` is open. */
  supports(protocol: TransportProto): boolean {
    return this.#transports.some((t) => t.protocol === protocol);
  }

  /** Closes every socket transport; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const off of this.#unsubscribe) off();
      this.#handlers.clear();
      await Promise.all(this.#transports.map((t) => t.close()));
    })();
    return this.#closing;
  }

  /** `await using` support. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
