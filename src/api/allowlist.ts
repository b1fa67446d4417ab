/**
 * The `ALLOWED_IPS` gate: middleware that answers 403 unless the client address falls inside one
 * of the configured networks. Only `X-Forwarded-For` is ever consulted as a proxy header, and only
 * when `TRUST_PROXY_HEADERS` is on; `X-Real-IP` and RFC 7239 `Forwarded` are deliberately ignored.
 */
import type { MiddlewareHandler } from "hono";
import { type Cidr, formatIp, matchesAny, parseIp, unmapIp } from "../config/ip_cidr.ts";

/** Hono environment of the app: the server passes the socket peer as the `remoteAddr` binding. */
export type AppEnv = { Bindings: { remoteAddr?: { hostname: string; port: number } } };

/** Options for `allowlist()`. */
export interface AllowlistOptions {
  /** Networks allowed to call; empty lets everyone through. */
  readonly allowed: readonly Cidr[];
  /** Take the client from the leftmost `X-Forwarded-For` entry instead of the socket peer. */
  readonly trustProxyHeaders: boolean;
  /** Echoed in the 403 envelope. */
  readonly instanceId: string;
}

function isPort(s: string): boolean {
  return /^[0-9]{1,5}$/.test(s) && Number(s) <= 65535;
}

/** Strips an optional port (`1.2.3.4:80`, `[::1]:80`) and brackets from a forwarded host. */
function forwardedHost(entry: string): string | null {
  if (entry.startsWith("[")) {
    const end = entry.indexOf("]");
    if (end === -1) return null;
    const rest = entry.slice(end + 1);
    if (rest !== "" && !(rest.startsWith(":") && isPort(rest.slice(1)))) return null;
    return entry.slice(1, end);
  }
  const colon = entry.indexOf(":");
  // More than one colon is a bare IPv6 address, which cannot carry an unbracketed port.
  if (colon === -1 || entry.indexOf(":", colon + 1) !== -1) return entry;
  if (!isPort(entry.slice(colon + 1))) return null;
  return entry.slice(0, colon);
}

/**
 * The address the allowlist judges, in canonical form with IPv4-mapped IPv6 unmapped, or null
 * when it cannot be parsed. With `trust` and a non-blank `xff`, the leftmost X-Forwarded-For
 * entry wins; otherwise the socket peer `remote` does.
 */
export function clientAddress(remote: string, xff: string | null, trust: boolean): string | null {
  let candidate: string | null = remote;
  if (trust && xff !== null && xff.trim() !== "") {
    candidate = forwardedHost(xff.split(",")[0].trim());
  }
  const ip = candidate === null ? null : parseIp(candidate);
  return ip === null ? null : formatIp(unmapIp(ip));
}

/** Middleware rejecting callers outside `opts.allowed` with 403 `{"instance_id","error"}`. */
export function allowlist(opts: AllowlistOptions): MiddlewareHandler<AppEnv> {
  const { allowed, trustProxyHeaders } = opts;
  const body = JSON.stringify({ instance_id: opts.instanceId, error: "forbidden" });
  return async (c, next) => {
    if (allowed.length === 0) return await next();
    const remote = c.env?.remoteAddr?.hostname ?? "";
    const xff = c.req.header("x-forwarded-for") ?? null;
    const address = clientAddress(remote, xff, trustProxyHeaders);
    if (address !== null && matchesAny(allowed, address)) return await next();
    return c.body(body, 403, { "content-type": "application/json" });
  };
}
