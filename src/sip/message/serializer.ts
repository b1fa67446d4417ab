/**
 * Write a SIP message (RFC 3261 §7): start line, header fields in stored order, a Content-Length
 * equal to the body length (RFC 3261 §18.3, §20.14), an empty line and the body.
 */
import type { SipMessage } from "./message.ts";
import { formatUri } from "./uri.ts";

const encoder = new TextEncoder();

/** The start line without its CRLF: `INVITE sip:bob@example.com SIP/2.0`. */
export function formatStartLine(msg: SipMessage): string {
  return msg.kind === "request"
    ? `${msg.method} ${formatUri(msg.uri)} SIP/2.0`
    : `SIP/2.0 ${msg.status} ${msg.reason}`;
}

/**
 * Encode `msg` for the wire. Header order is kept; the first Content-Length is rewritten in place
 * (others dropped) or one is appended, always matching the body. Byte-exact for messages built
 * here: `serialize(parse(serialize(m)))` equals `serialize(m)`.
 */
export function serialize(msg: SipMessage): Uint8Array {
  let head = formatStartLine(msg) + "\r\n";
  let wroteLength = false;
  for (const e of msg.headers) {
    if (e.key === "content-length") {
      if (!wroteLength) head += `Content-Length: ${msg.body.length}\r\n`;
      wroteLength = true;
    } else {
      head += `${e.name}: ${e.value}\r\n`;
    }
  }
  if (!wroteLength) head += `Content-Length: ${msg.body.length}\r\n`;
  head += "\r\n";
  const h = encoder.encode(head);
  const out = new Uint8Array(h.length + msg.body.length);
  out.set(h);
  out.set(msg.body, h.length);
  return out;
}
