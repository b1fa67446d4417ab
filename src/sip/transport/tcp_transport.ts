/**
 * SIP over TCP (RFC 3261 §18; every element MUST implement it): `Deno.listen` and
 * `Deno.connect` behind the shared stream transport.
 */
import { bareHost } from "../message/mod.ts";
import { StreamTransport, type StreamTransportOptions } from "./stream_transport.ts";

/** Creates TCP SIP transports. */
export const TcpTransport = {
  /**
   * Listens on `hostname:port` (omit `port` for a client-only transport) and dials peers on
   * demand. Throws when the address cannot be bound.
   */
  listen(options: StreamTransportOptions = {}): StreamTransport {
    const listener = options.port === undefined ? undefined : Deno.listen({
      transport: "tcp",
      hostname: bareHost(options.hostname ?? "0.0.0.0"),
      port: options.port,
    });
    return new StreamTransport(
      "tcp",
      listener,
      (to, signal) => Deno.connect({ hostname: to.host, port: to.port, signal }),
      options,
    );
  },
};
