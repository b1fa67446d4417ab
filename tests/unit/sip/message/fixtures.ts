/**
 * Golden SIP messages written the way our serializer writes them (canonical header forms,
 * CRLF line ends, Content-Length matching the body), so that parse → serialize is byte-exact.
 * One call flow: INVITE with SDP, 180, 200 with Record-Route, ACK, UPDATE, BYE; plus CANCEL,
 * OPTIONS, REGISTER and its 401 challenge.
 */

const CRLF = "\r\n";

/** Join header lines, the empty line and the body into one message. */
export function sip(lines: readonly string[], body = ""): string {
  return lines.join(CRLF) + CRLF + CRLF + body;
}

/** The SDP offer of the INVITE. */
export const SDP_OFFER = [
  "v=0",
  "o=alice 2890844526 2890844526 IN IP4 192.0.2.10",
  "s=-",
  "c=IN IP4 192.0.2.10",
  "t=0 0",
  "m=audio 49170 RTP/AVP 0 8 101",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:8 PCMA/8000",
  "a=rtpmap:101 telephone-event/8000",
  "a=fmtp:101 0-16",
  "a=sendrecv",
  "",
].join(CRLF);

/** The SDP answer of the 200 OK. */
export const SDP_ANSWER = [
  "v=0",
  "o=vb 1 1 IN IP4 198.51.100.7",
  "s=-",
  "c=IN IP4 198.51.100.7",
  "t=0 0",
  "m=audio 30000 RTP/AVP 0 101",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:101 telephone-event/8000",
  "a=sendrecv",
  "",
].join(CRLF);

const byteLength = (s: string) => new TextEncoder().encode(s).length;

/** INVITE with an SDP offer, a display name with an escaped quote and a Route set. */
export const INVITE = sip([
  "INVITE sip:bob@198.51.100.7:5060;transport=udp SIP/2.0",
  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport",
  "Max-Forwards: 70",
  'From: "Alice \\"Al\\" Liddell" <sip:alice@example.com>;tag=1928301774',
  "To: <sip:bob@example.net>",
  "Call-ID: a84b4c76e66710@pc33.example.com",
  "CSeq: 314159 INVITE",
  "Contact: <sip:alice@192.0.2.10:5060;transport=udp>",
  "Route: <sip:p1.example.net;lr>",
  "Supported: timer, 100rel, replaces",
  "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY",
  "Session-Expires: 1800",
  "Min-SE: 90",
  "User-Agent: golden-ua/1.0",
  "Content-Type: application/sdp",
  `Content-Length: ${byteLength(SDP_OFFER)}`,
], SDP_OFFER);

/** 180 Ringing with the callee's tag. */
export const RINGING = sip([
  "SIP/2.0 180 Ringing",
  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.10",
  'From: "Alice \\"Al\\" Liddell" <sip:alice@example.com>;tag=1928301774',
  "To: <sip:bob@example.net>;tag=a6c85cf",
  "Call-ID: a84b4c76e66710@pc33.example.com",
  "CSeq: 314159 INVITE",
  "Contact: <sip:bob@198.51.100.7:5060>",
  "Content-Length: 0",
]);

/** 200 OK with a Record-Route set (one of them an IPv6 reference) and an SDP answer. */
export const OK_INVITE = sip([
  "SIP/2.0 200 OK",
  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.10",
  "Record-Route: <sip:p2.example.net;lr>",
  "Record-Route: <sip:p1.example.net;lr>",
  "Record-Route: <sip:[2001:db8::5]:5070;lr;transport=tcp>",
  'From: "Alice \\"Al\\" Liddell" <sip:alice@example.com>;tag=1928301774',
  "To: <sip:bob@example.net>;tag=a6c85cf",
  "Call-ID: a84b4c76e66710@pc33.example.com",
  "CSeq: 314159 INVITE",
  "Contact: <sip:bob@198.51.100.7:5060>",
  "Require: timer",
  "Session-Expires: 1800;refresher=uac",
  "Content-Type: application/sdp",
  `Content-Length: ${byteLength(SDP_ANSWER)}`,
], SDP_ANSWER);

/** ACK for the 2xx, routed by the Record-Route set (RFC 3261 §13.2.2.4). */
export const ACK = sip([
  "ACK sip:bob@198.51.100.7:5060 SIP/2.0",
  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds9;rport",
  "Max-Forwards: 70",
  "Route: <sip:p1.example.net;lr>",
  "Route: <sip:p2.example.net;lr>",
  'From: "Alice \\"Al\\" Liddell" <sip:alice@example.com>;tag=1928301774',
  "To: <sip:bob@example.net>;tag=a6c85cf",
  "Call-ID: a84b4c76e66710@pc33.example.com",
  "CSeq: 314159 ACK",
  "Content-Length: 0",
]);

/** UPDATE refreshing the session timer (RFC 4028 §7.4, RFC 3311). */
export const UPDATE = sip([
  "UPDATE sip:bob@198.51.100.7:5060 SIP/2.0",
  "Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK9f8a7e6d;alias",
  "Max-Forwards: 70",
  "From: <sip:alice@example.com>;tag=1928301774",
  "To: <sip:bob@example.net>;tag=a6c85cf",
  "Call-ID: a84b4c76e66710@pc33.example.com",
  "CSeq: 314161 UPDATE",
  "Contact: <sip:alice@192.0.2.10:5060;transport=tcp>",
  "Supported: timer",
  "Session-Expires: 1800;refresher=uac",
  "Min-SE: 90",
  "Content-Length: 0",
]);

/** BYE inside the dialog. */
export const BYE = sip([
  "BYE sip:bob@198.51.100.7:5060 SIP/2.0",
  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds10",
  "Max-Forwards: 70",
  "From: <sip:alice@example.com>;tag=1928301774",
  "To: <sip:bob@example.net>;tag=a6c85cf",
  "Call-ID: a84b4c76e66710@pc33.example.com",
  "CSeq: 314162 BYE",
  'Reason: SIP;cause=200;text="Call completed elsewhere"',
  "Content-Length: 0",
]);

/** CANCEL of the INVITE: same branch, CSeq number, no To tag (RFC 3261 §9.1). */
export const CANCEL = sip([
  "CANCEL sip:bob@198.51.100.7:5060;transport=udp SIP/2.0",
  "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport",
  "Max-Forwards: 70",
  'From: "Alice \\"Al\\" Liddell" <sip:alice@example.com>;tag=1928301774',
  "To: <sip:bob@example.net>",
  "Call-ID: a84b4c76e66710@pc33.example.com",
  "CSeq: 314159 CANCEL",
  "Content-Length: 0",
]);

/** OPTIONS probe with an IPv6 Via and a tel URI in To. */
export const OPTIONS = sip([
  "OPTIONS sip:[2001:db8::10]:5060 SIP/2.0",
  "Via: SIP/2.0/UDP [2001:db8::20]:5062;branch=z9hG4bKopt1",
  "Max-Forwards: 70",
  "From: <sip:monitor@example.com>;tag=opt-1",
  "To: <tel:+1-212-555-0100;phone-context=example.com>",
  "Call-ID: opt-1@[2001:db8::20]",
  "CSeq: 1 OPTIONS",
  "Accept: application/sdp",
  "Content-Length: 0",
]);

/** REGISTER with Contact expires and +sip.instance (RFC 5626), Expires and Authorization. */
export const REGISTER = sip([
  "REGISTER sip:registrar.example.com SIP/2.0",
  "Via: SIP/2.0/TLS 192.0.2.30:5061;branch=z9hG4bKreg2",
  "Max-Forwards: 70",
  "From: <sip:carol@example.com>;tag=reg-1",
  "To: <sip:carol@example.com>",
  "Call-ID: reg-1@192.0.2.30",
  "CSeq: 2 REGISTER",
  'Contact: <sip:carol@192.0.2.30:5061;transport=tls>;expires=3600;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1',
  "Expires: 3600",
  'Authorization: Digest username="carol", realm="example.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", uri="sip:registrar.example.com", response="dfe56131d1958046689d83306477ecc", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001',
  "Content-Length: 0",
]);

/** 401 challenging the first REGISTER. */
export const UNAUTHORIZED = sip([
  "SIP/2.0 401 Unauthorized",
  "Via: SIP/2.0/TLS 192.0.2.30:5061;branch=z9hG4bKreg1;received=192.0.2.30",
  "From: <sip:carol@example.com>;tag=reg-1",
  "To: <sip:carol@example.com>;tag=srv-9",
  "Call-ID: reg-1@192.0.2.30",
  "CSeq: 1 REGISTER",
  'WWW-Authenticate: Digest realm="example.com", qop="auth", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", algorithm=MD5, stale=FALSE',
  "Content-Length: 0",
]);

/** Every golden message by name. */
export const GOLDEN: Readonly<Record<string, string>> = {
  INVITE,
  RINGING,
  OK_INVITE,
  ACK,
  UPDATE,
  BYE,
  CANCEL,
  OPTIONS,
  REGISTER,
  UNAUTHORIZED,
};
