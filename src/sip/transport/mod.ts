/**
 * The SIP transport layer (RFC 3261 §18): UDP, TCP and TLS sockets behind the small
 * `SipTransport` interface, response routing (§18.2.2, RFC 3581), connection reuse, and an
 * in-memory fake for the layers above.
 *
 * @module
 */
export { canonicalHost, connectionKey, ipFamily, sipHost, unmapHost } from "./address.ts";
export { ConnectionPool, type PooledConnection } from "./connection_pool.ts";
export {
  FakeTransport,
  type FakeTransportOptions,
  fakeTransportPair,
  type SentRecord,
} from "./fake_transport.ts";
export {
  callWire,
  InboundPipeline,
  type InboundPipelineOptions,
  type InboundStats,
} from "./inbound.ts";
export {
  type ResponseRoute,
  responseRoute,
  type ResponseRouteOptions,
  stampVia,
} from "./response_route.ts";
export { StreamConnection, type StreamConnectionOptions } from "./stream_connection.ts";
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  type StreamDialer,
  StreamTransport,
  type StreamTransportOptions,
} from "./stream_transport.ts";
export { TcpTransport } from "./tcp_transport.ts";
export { TlsTransport, type TlsTransportOptions } from "./tls_transport.ts";
export { type ListenOptions, type SocketTransport, TransportLayer } from "./transport_layer.ts";
export {
  type Connection,
  defaultPort,
  type Destination,
  type HostPort,
  type InboundMessage,
  isReliable,
  type MessageHandler,
  type SendOptions,
  type SipTransport,
  TransportError,
  transportFromToken,
  type TransportProto,
  viaTransportToken,
  type WireEvent,
  type WireHook,
} from "./types.ts";
export { MAX_UDP_PAYLOAD, UdpTransport, type UdpTransportOptions } from "./udp_transport.ts";
export { sipDebugHook } from "./wire_log.ts";
