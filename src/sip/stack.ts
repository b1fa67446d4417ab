/**
 * The SIP stack as the server runs it: the transport layer listening on `SIP_LISTEN_IP`:`SIP_PORT`
 * (UDP and TCP, TLS when configured), the transaction layer on it, and the user agent on that.
 * Owns all three and closes them top-down.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import { ConfigError } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import { type SipTimers, TransactionLayer } from "./transaction/mod.ts";
import { type HostPort, sipDebugHook, TransportLayer } from "./transport/mod.ts";
import { advertisedAddress, isWildcard } from "./advertised_address.ts";
import { UserAgent } from "./dialog/mod.ts";

/** Knobs for tests: shrunk RFC 3261 timers. */
export interface SipStackOptions {
  /** T1/T2/T4 (default RFC 3261's); every transaction timer derives from them. */
  readonly timers?: SipTimers;
  /** How long a SIP call may stay on hold (default 2 h; tests shrink it). */
  readonly heldLimitMs?: number;
}

/** Transport + transaction layer + user agent, started from the configuration. */
export class SipStack {
  /** The user agent: place calls with `invite`, receive them through `onInvite`. */
  readonly ua: UserAgent;
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  /** A shorter hold limit for SIP legs (tests); undefined: the 2 h default. */
  readonly heldLimitMs: number | undefined;
  /** Our IPv4 address for SDP/Contact/Via: `SIP_BIND_IP`, or the host's when that is 0.0.0.0. */
  readonly advertisedIp: string;
  /** The same for IPv6 (`SIP_BIND_IPV6`; "" when IPv6 is off). */
  readonly advertisedIpv6: string;
  #closing: Promise<void> | undefined;

  private constructor(parts: {
    transport: TransportLayer;
    transactions: TransactionLayer;
    ua: UserAgent;
    heldLimitMs: number | undefined;
    advertisedIp: string;
    advertisedIpv6: string;
  }) {
    this.heldLimitMs = parts.heldLimitMs;
    this.transport = parts.transport;
    this.transactions = parts.transactions;
    this.ua = parts.ua;
    this.advertisedIp = parts.advertisedIp;
    this.advertisedIpv6 = parts.advertisedIpv6;
  }

  /** Opens the sockets and builds the layers; throws when the address cannot be bound. */
  static async start(
    config: Config,
    logger: Logger,
    options: SipStackOptions = {},
  ): Promise<SipStack> {
    const log = logger.child({ component: "sip" });
    const tlsCaCerts = config.sipTlsCaFile ? [await readCa(config.sipTlsCaFile)] : undefined;
    const transport = await TransportLayer.listen({
      listenIp: config.sipListenIp,
      listenIpv6: config.sipListenIpv6,
      port: config.sipPort,
      tlsPort: config.sipTlsPort,
      tlsCertFile: config.sipTlsCert || undefined,
      tlsKeyFile: config.sipTlsKey || undefined,
      tlsCaCerts,
      wire: config.sipDebug ? sipDebugHook(log) : undefined,
      log,
    });
    const transactions = new TransactionLayer(transport, {
      timers: options.timers,
      useSourceSocket: config.sipUseSourceSocket,
      log,
    });
    const advertisedIp = advertisedAddress(config.sipBindIp, 4);
    const advertisedIpv6 = config.sipBindIpv6 ? advertisedAddress(config.sipBindIpv6, 6) : "";
    const ua = new UserAgent({
      transactions,
      localFor: (to) =>
        advertised(config, { v4: advertisedIp, v6: advertisedIpv6 }, transport.localFor(to)),
      // Contact of responses too (they use the receiving socket's address).
      externalHost: config.sipDomain || config.sipExternalIp ||
        (isWildcard(config.sipListenIp) ? advertisedIp : undefined),
      contactUser: config.sipHost || undefined,
      useSourceSocket: config.sipUseSourceSocket,
      // SIP_HOST names us in User-Agent (and Server) headers.
      product: config.sipHost || "voiceblender",
      log,
    });
    return new SipStack({
      transport,
      transactions,
      ua,
      heldLimitMs: options.heldLimitMs,
      advertisedIp,
      advertisedIpv6,
    });
  }

  /** The bound UDP port (the configured one, or the ephemeral one for `SIP_PORT=0`). */
  get port(): number {
    const udp = this.transport.transports.find((t) => t.protocol === "udp");
    return udp?.local.port ?? 0;
  }

  /** The bound TLS port (undefined without `SIP_TLS_PORT`). */
  get tlsPort(): number | undefined {
    const tls = this.transport.transports.find((t) => t.protocol === "tls" && t.listening);
    return tls?.local.port;
  }

  /** Stops the UA, the transaction layer and the sockets, in that order; idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.ua.close();
      this.transactions.close();
      await this.transport.close();
    })();
    return this.#closing;
  }
}

/** Reads `SIP_TLS_CA_FILE`; an unreadable file is a configuration error naming it. */
async function readCa(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`cannot read SIP_TLS_CA_FILE ${JSON.stringify(path)}: ${why}`);
  }
}

/**
 * The address we put in Via sent-by and Contact for a local socket address: `SIP_DOMAIN` when set
 * (it names us in From, Contact and Via), else `SIP_EXTERNAL_IP` for IPv4 sockets (NAT; there is
 * no IPv6 equivalent), else the socket's own address — or, for a wildcard listener (`0.0.0.0`,
 * `::`), our advertised address of that family. The port stays the socket's.
 */
function advertised(
  config: Config,
  ips: { v4: string; v6: string },
  local: HostPort | undefined,
): HostPort | undefined {
  if (!local) return undefined;
  const v6 = local.host.includes(":");
  if (config.sipDomain) return { host: config.sipDomain, port: local.port };
  if (config.sipExternalIp && !v6) return { host: config.sipExternalIp, port: local.port };
  if (isWildcard(local.host)) {
    const ip = v6 ? ips.v6 : ips.v4;
    if (ip && !isWildcard(ip)) return { host: ip, port: local.port };
  }
  return local;
}
