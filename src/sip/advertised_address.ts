/**
 * The address we advertise (SDP `c=`, Contact, Via) when `SIP_BIND_IP` / `SIP_BIND_IPV6` is a
 * wildcard and neither `SIP_EXTERNAL_IP` nor `SIP_DOMAIN` names us: the host's first non-loopback
 * address of that family, so a container started with `SIP_BIND_IP=0.0.0.0` does not tell peers to
 * send RTP to 0.0.0.0 (which old SDP even reads as hold).
 */

/** One network interface address, as `Deno.networkInterfaces()` lists it. */
export interface InterfaceAddress {
  readonly family: "IPv4" | "IPv6";
  readonly address: string;
  readonly scopeid?: number | null;
}

/** Whether `ip` is the unspecified address of its family. */
export function isWildcard(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, "");
  return bare === "0.0.0.0" || bare === "::" || bare === "";
}

/**
 * The first usable address of `family` in `interfaces`: not loopback, not IPv6 link-local (it
 * needs a zone a peer cannot use); undefined when there is none.
 */
export function pickAdvertisedAddress(
  interfaces: readonly InterfaceAddress[],
  family: 4 | 6,
): string | undefined {
  for (const i of interfaces) {
    if (i.family !== (family === 4 ? "IPv4" : "IPv6")) continue;
    const a = i.address.toLowerCase();
    if (family === 4 && a.startsWith("127.")) continue;
    if (family === 6 && (a === "::1" || a.startsWith("fe80:"))) continue;
    return i.address;
  }
  return undefined;
}

/**
 * `bind` unless it is a wildcard; then the host's address of that family (needs
 * `--allow-sys=networkInterfaces`), or `bind` itself when none can be found.
 */
export function advertisedAddress(bind: string, family: 4 | 6): string {
  if (!isWildcard(bind)) return bind;
  try {
    return pickAdvertisedAddress(Deno.networkInterfaces(), family) ?? bind;
  } catch {
    // Not permitted or not available: keep what was configured.
    return bind;
  }
}
