/**
 * IP address and CIDR parsing for the HTTP allowlist and the IP-valued configuration variables.
 * Addresses are kept as bytes (4 for IPv4, 16 for IPv6) so matching is a prefix comparison.
 */

/** A parsed IP address: 4 bytes for IPv4, 16 bytes for IPv6. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

/** A parsed network; `bytes` has the host bits cleared and `text` is the canonical `addr/prefix`. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
  readonly text: string;
}

const DECIMAL_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    // Leading zeros are refused: some stacks read them as octal, so "010" is ambiguous.
    if (!DECIMAL_OCTET.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** Parses colon-separated groups into 16-bit words; only the final group may be a dotted quad. */
function parseGroups(groups: readonly string[], allowV4Tail: boolean): number[] | null {
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (allowV4Tail && i === groups.length - 1 && g.includes(".")) {
      const v4 = parseIpv4(g);
      if (!v4) return null;
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else if (HEX_GROUP.test(g)) {
      words.push(parseInt(g, 16));
    } else {
      return null;
    }
  }
  return words;
}

// RFC 4291 §2.2: full form, "::" compression (once), and an embedded IPv4 tail.
function parseIpv6(s: string): Uint8Array | null {
  const gap = s.indexOf("::");
  let words: number[] | null;
  if (gap === -1) {
    words = parseGroups(s.split(":"), true);
    if (!words || words.length !== 8) return null;
  } else {
    if (s.indexOf("::", gap + 1) !== -1) return null;
    const headText = s.slice(0, gap);
    const tailText = s.slice(gap + 2);
    const head = headText === "" ? [] : parseGroups(headText.split(":"), false);
    const tail = tailText === "" ? [] : parseGroups(tailText.split(":"), true);
    if (!head || !tail || head.length + tail.length > 7) return null;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  return out;
}

/**
 * Parses an IPv4 dotted quad (strict: four decimal octets, no leading zeros) or an IPv6 address
 * (full, compressed, or with an IPv4 tail; `[…]` brackets and a `%zone` suffix are accepted and
 * dropped). Returns null when `s` is not an address.
 */
export function parseIp(s: string): IpAddress | null {
  let text = s;
  let bracketed = false;
  if (text.startsWith("[") && text.endsWith("]")) {
    text = text.slice(1, -1);
    bracketed = true;
  }
  const zone = text.indexOf("%");
  if (zone !== -1) {
    if (zone === text.length - 1) return null;
    text = text.slice(0, zone);
    if (!text.includes(":")) return null;
  }
  if (!text.includes(":")) {
    if (bracketed) return null;
    const v4 = parseIpv4(text);
    return v4 ? { family: 4, bytes: v4 } : null;
  }
  const v6 = parseIpv6(text);
  return v6 ? { family: 6, bytes: v6 } : null;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16 || bytes[10] !== 0xff || bytes[11] !== 0xff) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Turns an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) into its IPv4 form; others unchanged. */
export function unmapIp(ip: IpAddress): IpAddress {
  return ip.family === 6 && isV4Mapped(ip.bytes) ? { family: 4, bytes: ip.bytes.slice(12) } : ip;
}

/** Formats an address canonically: dotted quad, or RFC 5952 §4 lower-case compressed IPv6. */
export function formatIp(ip: IpAddress): string {
  const b = ip.bytes;
  if (ip.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  // RFC 5952 §5: a mapped address keeps its dotted-quad tail.
  if (isV4Mapped(b)) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i] << 8) | b[i + 1]);
  // RFC 5952 §4.2: compress the longest run of two or more zero words, the first on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart === -1) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLen).join(":");
  return `${head}::${tail}`;
}

/**
 * Parses `addr` or `addr/prefix` into a network. A bare address is a host route (/32 or /128),
 * host bits are cleared, and an IPv4-mapped IPv6 network of /96 or longer becomes IPv4.
 * Throws an Error naming the input when it is malformed.
 */
export function parseCidr(s: string): Cidr {
  const slash = s.indexOf("/");
  const addrText = slash === -1 ? s : s.slice(0, slash);
  if (addrText.includes("%")) {
    throw new Error(`Cannot parse CIDR ${JSON.stringify(s)}: a zone is not allowed in a network`);
  }
  const parsed = parseIp(addrText);
  if (!parsed) throw new Error(`Cannot parse CIDR ${JSON.stringify(s)}: invalid IP address`);
  const bits = parsed.family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash !== -1) {
    const prefixText = s.slice(slash + 1);
    if (!DECIMAL_OCTET.test(prefixText) || Number(prefixText) > bits) {
      throw new Error(
        `Cannot parse CIDR ${JSON.stringify(s)}: prefix length must be an integer 0-${bits}`,
      );
    }
    prefix = Number(prefixText);
  }
  let ip: IpAddress = parsed;
  if (ip.family === 6 && isV4Mapped(ip.bytes) && prefix >= 96) {
    ip = unmapIp(ip);
    prefix -= 96;
  }
  const bytes = ip.bytes.slice();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.min(8, Math.max(0, prefix - 8 * i));
    bytes[i] &= (0xff << (8 - keep)) & 0xff;
  }
  const network: IpAddress = { family: ip.family, bytes };
  return { family: ip.family, bytes, prefix, text: `${formatIp(network)}/${prefix}` };
}

/** True when `ip` lies inside `c`; an IPv4-mapped IPv6 address is compared as IPv4. */
export function cidrContains(c: Cidr, ip: IpAddress): boolean {
  const addr = unmapIp(ip);
  if (addr.family !== c.family) return false;
  const whole = c.prefix >> 3;
  for (let i = 0; i < whole; i++) if (addr.bytes[i] !== c.bytes[i]) return false;
  const rest = c.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr.bytes[whole] & mask) === c.bytes[whole];
}

/** True when the address text `ip` parses and lies inside at least one of `cidrs`. */
export function matchesAny(cidrs: readonly Cidr[], ip: string): boolean {
  const addr = parseIp(ip);
  if (!addr) return false;
  const unmapped = unmapIp(addr);
  return cidrs.some((c) => cidrContains(c, unmapped));
}
