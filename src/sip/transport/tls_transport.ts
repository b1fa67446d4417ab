/**
 * SIP over TLS (RFC 3261 §18, §26.2; `SIP_TLS_PORT`, `SIP_TLS_CERT`, `SIP_TLS_KEY`): a
 * `Deno.listenTls` listener with a PEM certificate and key read from files, and outbound
 * connections that verify the peer against the system roots plus any CA given (tests trust their
 * own self-signed certificate this way).
 */
import { bareHost } from "../message/mod.ts";
import { StreamTransport, type StreamTransportOptions } from "./stream_transport.ts";

/** Options for `TlsTransport.listen`. */
export interface TlsTransportOptions extends StreamTransportOptions {
  /** Path to the PEM certificate chain (`SIP_TLS_CERT`); needed to listen. */
  readonly certFile?: string;
  /** Path to the PEM private key (`SIP_TLS_KEY`); needed to listen. */
  readonly keyFile?: string;
  /** PEM certificate chain, instead of `certFile`. */
  readonly cert?: string;
  /** PEM private key, instead of `keyFile`. */
  readonly key?: string;
  /** Extra trusted roots (PEM) for outbound connections. */
  readonly caCerts?: readonly string[];
  /** Name to verify outbound peers' certificates against, instead of the dialled host. */
  readonly serverName?: string;
}

/** Creates TLS SIP transports. */
export const TlsTransport = {
  /**
   * Listens on `hostname:port` with the given certificate (omit `port` for a client-only
   * transport). Throws when the files cannot be read or the address cannot be bound.
   */
  listen(options: TlsTransportOptions = {}): StreamTransport {
    let listener: Deno.TlsListener | undefined;
    if (options.port !== undefined) {
      const cert = options.cert ?? readPem(options.certFile, "certificate");
      const key = options.key ?? readPem(options.keyFile, "private key");
      listener = Deno.listenTls({
        transport: "tcp",
        hostname: bareHost(options.hostname ?? "0.0.0.0"),
        port: options.port,
        cert,
        key,
      });
    }
    const caCerts = options.caCerts ? [...options.caCerts] : undefined;
    return new StreamTransport("tls", listener, async (to, signal) => {
      const tcp = await Deno.connect({ hostname: to.host, port: to.port, signal });
      const tls = await Deno.startTls(tcp, { hostname: options.serverName ?? to.host, caCerts });
      const abort = () => tls.close();
      signal.addEventListener("abort", abort);
      try {
        if (signal.aborted) throw signal.reason;
        await tls.handshake();
      } catch (err) {
        try {
          tls.close();
        } catch {
          // closed by the abort
        }
        throw err;
      } finally {
        signal.removeEventListener("abort", abort);
      }
      return tls;
    }, options);
  },
};

function readPem(path: string | undefined, what: string): string {
  if (!path) throw new TypeError(`Cannot listen for TLS: no ${what} file given`);
  return Deno.readTextFileSync(path);
}
