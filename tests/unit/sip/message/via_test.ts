import assert from "node:assert/strict";
import {
  formatVia,
  isRfc3261Branch,
  parseVia,
  salvageVia,
  type Via,
  via,
  withViaParam,
} from "../../../../src/sip/message/via.ts";

function v(text: string): Via {
  const r = parseVia(text);
  assert.ok(r.ok, r.ok ? "" : `${text}: ${r.error}`);
  return r.value;
}

Deno.test("parseVia() reads sent-protocol, sent-by and lifts branch, received and rport", () => {
  assert.deepEqual(
    v("SIP/2.0/UDP pc33.atlanta.com:5066;branch=z9hG4bK776;received=192.0.2.1;rport=5066"),
    {
      protocol: "SIP",
      version: "2.0",
      transport: "UDP",
      host: "pc33.atlanta.com",
      port: 5066,
      params: [
        { name: "branch", value: "z9hG4bK776" },
        { name: "received", value: "192.0.2.1" },
        { name: "rport", value: "5066" },
      ],
      branch: "z9hG4bK776",
      received: "192.0.2.1",
      rport: 5066,
    },
  );
});

Deno.test("parseVia() reads rport without a value as a request for one (RFC 3581 §3)", () => {
  assert.equal(v("SIP/2.0/UDP 192.0.2.1;rport;branch=z9hG4bKx").rport, true);
  assert.equal(v("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx").rport, undefined);
});

Deno.test("parseVia() reads IPv6 sent-by and received with or without brackets", () => {
  const a = v("SIP/2.0/TCP [2001:db8::9:1]:5070;received=[2001:db8::1];branch=z9hG4bKa");
  assert.equal(a.host, "[2001:db8::9:1]");
  assert.equal(a.port, 5070);
  assert.equal(a.received, "2001:db8::1");
  assert.equal(v("SIP/2.0/TCP [::1];received=::1").received, "::1");
});

Deno.test("parseVia() allows SWS around / : ; and = (RFC 3261 §25.1)", () => {
  const a = v("SIP / 2.0 / TLS  host.example.com : 5061 ; branch = z9hG4bKq ; maddr = 10.0.0.1");
  assert.equal(a.transport, "TLS");
  assert.equal(a.port, 5061);
  assert.equal(a.branch, "z9hG4bKq");
});

Deno.test("parseVia() rejects malformed values", () => {
  for (
    const text of [
      "SIP/2.0/UDP",
      "SIP/2.0 host",
      "SIP/2.0/UDP host;;branch=z9hG4bKx",
      "SIP/2.0/UDP host;branch",
      "SIP/2.0/UDP host;received=not-an-ip",
      "SIP/2.0/UDP host;rport=70000",
      "SIP/2.0/UDP host;ttl=300",
      "SIP/2.0/UDP host:port",
      "SIP/2.0/UDP 2001:db8::1",
      "SIP/2.0/UDP host extra",
      "SIP/2.0/UDP [::1",
    ]
  ) assert.equal(parseVia(text).ok, false, text);
});

Deno.test("salvageVia() keeps transport and sent-by of a Via whose parameters are broken", () => {
  const s = salvageVia("SIP/2.0/UDP 192.0.2.15:5062;;,;,,");
  assert.equal(s?.transport, "UDP");
  assert.equal(s?.host, "192.0.2.15");
  assert.equal(s?.port, 5062);
  assert.equal(salvageVia("garbage"), undefined);
});

Deno.test("via() builds a Via that formats and parses back equal", () => {
  const built = via({
    transport: "WSS",
    host: "edge.example.com",
    port: 443,
    params: [{ name: "branch", value: "z9hG4bKabc" }, { name: "rport", value: null }],
  });
  assert.equal(formatVia(built), "SIP/2.0/WSS edge.example.com:443;branch=z9hG4bKabc;rport");
  assert.deepEqual(v(formatVia(built)), built);
  assert.throws(() => via({ transport: "UDP", host: "bad host", params: [] }), TypeError);
});

Deno.test("withViaParam() fills in received and rport as a server does (RFC 3581 §4)", () => {
  const top = v("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKx;rport");
  const stamped = withViaParam(withViaParam(top, "received", "203.0.113.9"), "rport", "40000");
  assert.equal(stamped.received, "203.0.113.9");
  assert.equal(stamped.rport, 40000);
  assert.equal(
    formatVia(stamped),
    "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKx;rport=40000;received=203.0.113.9",
  );
});

Deno.test("isRfc3261Branch() needs the magic cookie and something after it", () => {
  assert.equal(isRfc3261Branch("z9hG4bK776asdhds"), true);
  assert.equal(isRfc3261Branch("z9hG4bK"), false);
  assert.equal(isRfc3261Branch("390skdjuw"), false);
  assert.equal(isRfc3261Branch(undefined), false);
});
