/**
 * Header field names: case-insensitive (RFC 3261 §7.3.1), compact forms (RFC 3261 §7.3.3,
 * §20; RFC 3515, 3841, 3892, 4028, 6665, 8224) and the canonical spelling we write.
 */

/** Compact form → lower-case long name. */
const COMPACT: Readonly<Record<string, string>> = {
  a: "accept-contact", // RFC 3841
  b: "referred-by", // RFC 3892
  c: "content-type",
  d: "request-disposition", // RFC 3841
  e: "content-encoding",
  f: "from",
  i: "call-id",
  j: "reject-contact", // RFC 3841
  k: "supported",
  l: "content-length",
  m: "contact",
  o: "event", // RFC 6665
  r: "refer-to", // RFC 3515
  s: "subject",
  t: "to",
  u: "allow-events", // RFC 6665
  v: "via",
  x: "session-expires", // RFC 4028
  y: "identity", // RFC 8224
};

const CANONICAL_LIST = [
  "Accept",
  "Accept-Contact",
  "Accept-Encoding",
  "Accept-Language",
  "Alert-Info",
  "Allow",
  "Allow-Events",
  "Authentication-Info",
  "Authorization",
  "Call-ID",
  "Call-Info",
  "Contact",
  "Content-Disposition",
  "Content-Encoding",
  "Content-Language",
  "Content-Length",
  "Content-Type",
  "CSeq",
  "Date",
  "Error-Info",
  "Event",
  "Expires",
  "From",
  "Identity",
  "In-Reply-To",
  "Max-Forwards",
  "MIME-Version",
  "Min-Expires",
  "Min-SE",
  "Organization",
  "P-Asserted-Identity",
  "P-Preferred-Identity",
  "Path",
  "Priority",
  "Privacy",
  "Proxy-Authenticate",
  "Proxy-Authorization",
  "Proxy-Require",
  "RAck",
  "Reason",
  "Record-Route",
  "Refer-To",
  "Referred-By",
  "Reject-Contact",
  "Replaces",
  "Reply-To",
  "Request-Disposition",
  "Require",
  "Retry-After",
  "Route",
  "RSeq",
  "Server",
  "Service-Route",
  "Session-Expires",
  "SIP-ETag",
  "SIP-If-Match",
  "Subject",
  "Subscription-State",
  "Supported",
  "Timestamp",
  "To",
  "Unsupported",
  "User-Agent",
  "Via",
  "Warning",
  "WWW-Authenticate",
];

const CANONICAL: ReadonlyMap<string, string> = new Map(
  CANONICAL_LIST.map((n) => [n.toLowerCase(), n]),
);

const SHORT: ReadonlyMap<string, string> = new Map(
  Object.entries(COMPACT).map(([short, long]) => [long, short]),
);

/** Lower-case long name used for lookups: `I` → `call-id`, `VIA` → `via`. */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT[lower] ?? lower;
}

/** The spelling we write: `i` → `Call-ID`, `cseq` → `CSeq`; unknown names stay as given. */
export function canonicalHeaderName(name: string): string {
  return CANONICAL.get(headerKey(name)) ?? name;
}

/** The compact form of a header name (RFC 3261 §7.3.3), if it has one. */
export function compactHeaderName(name: string): string | undefined {
  return SHORT.get(headerKey(name));
}
