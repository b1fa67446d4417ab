import assert from "node:assert/strict";
import {
  cidrContains,
  formatIp,
  matchesAny,
  parseCidr,
  parseIp,
  unmapIp,
} from "../../../src/config/ip_cidr.ts";

function bytesOf(s: string): number[] {
  const ip = parseIp(s);
  assert.ok(ip, `expected ${s} to parse`);
  return [...ip.bytes];
}

function ip(s: string) {
  const parsed = parseIp(s);
  assert.ok(parsed, `expected ${s} to parse`);
  return parsed;
}

Deno.test("parseIp() reads an IPv4 dotted quad into four bytes", () => {
  assert.deepEqual(parseIp("192.168.1.20"), {
    family: 4,
    bytes: new Uint8Array([192, 168, 1, 20]),
  });
  assert.deepEqual(bytesOf("0.0.0.0"), [0, 0, 0, 0]);
  assert.deepEqual(bytesOf("255.255.255.255"), [255, 255, 255, 255]);
});

Deno.test("parseIp() reads a full IPv6 address into sixteen bytes", () => {
  const parsed = ip("2001:0db8:0000:0000:0000:ff00:0042:8329");
  assert.equal(parsed.family, 6);
  assert.deepEqual(
    [...parsed.bytes],
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29],
  );
});

Deno.test("parseIp() expands compressed IPv6 forms", () => {
  assert.deepEqual(bytesOf("2001:db8::ff00:42:8329"), bytesOf("2001:db8:0:0:0:ff00:42:8329"));
  assert.deepEqual(bytesOf("::"), new Array(16).fill(0));
  assert.deepEqual(bytesOf("::1"), [...new Array(15).fill(0), 1]);
  assert.deepEqual(bytesOf("fe80::"), [0xfe, 0x80, ...new Array(14).fill(0)]);
  assert.deepEqual(bytesOf("1:2:3:4:5:6:7::"), bytesOf("1:2:3:4:5:6:7:0"));
  assert.deepEqual(bytesOf("1::3:4:5:6:7:8"), bytesOf("1:0:3:4:5:6:7:8"));
  assert.deepEqual(bytesOf("ABCD::EF"), bytesOf("abcd::ef"));
});

Deno.test("parseIp() accepts an embedded IPv4 tail in IPv6", () => {
  assert.deepEqual(bytesOf("64:ff9b::192.0.2.33"), bytesOf("64:ff9b::c000:221"));
  assert.deepEqual(bytesOf("0:0:0:0:0:ffff:10.1.2.3"), bytesOf("::ffff:a01:203"));
});

Deno.test("parseIp() keeps an IPv4-mapped address as IPv6 and unmapIp() turns it into IPv4", () => {
  const mapped = ip("::ffff:127.0.0.1");
  assert.equal(mapped.family, 6);
  assert.deepEqual(unmapIp(mapped), { family: 4, bytes: new Uint8Array([127, 0, 0, 1]) });
  const plain = ip("::1");
  assert.equal(unmapIp(plain), plain);
});

Deno.test("parseIp() strips an IPv6 zone and surrounding brackets", () => {
  assert.deepEqual(bytesOf("fe80::1%eth0"), bytesOf("fe80::1"));
  assert.deepEqual(bytesOf("[::1]"), bytesOf("::1"));
  assert.deepEqual(bytesOf("[fe80::1%eth0]"), bytesOf("fe80::1"));
});

Deno.test("parseIp() rejects malformed addresses", () => {
  for (
    const bad of [
      "",
      " ",
      "1.2.3",
      "1.2.3.4.5",
      "1.2.3.256",
      "01.2.3.4",
      "1.2.3.04",
      "1.2.3.-1",
      "1.2.3.4 ",
      "0x1.2.3.4",
      "gggg::",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "1::2::3",
      ":::",
      ":1::",
      "1::2:",
      "12345::",
      "1.2.3.4::",
      "::1.2.3",
      "::1.2.3.4:5",
      "1:2:3:4:5:6:7:1.2.3.4",
      "fe80::1%",
      "1.2.3.4%eth0",
      "[1.2.3.4]",
      "[::1",
      "localhost",
    ]
  ) {
    assert.equal(parseIp(bad), null, `expected ${JSON.stringify(bad)} to be rejected`);
  }
});

Deno.test("formatIp() writes RFC 5952 canonical text", () => {
  assert.equal(formatIp(ip("2001:0DB8:0:0:0:0:0:1")), "2001:db8::1");
  assert.equal(formatIp(ip("2001:db8:0:1:0:0:0:1")), "2001:db8:0:1::1");
  assert.equal(formatIp(ip("2001:0:0:1:0:0:0:1")), "2001:0:0:1::1");
  assert.equal(formatIp(ip("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
  assert.equal(formatIp(ip("2001:db8:0:1:1:1:1:1")), "2001:db8:0:1:1:1:1:1");
  assert.equal(formatIp(ip("::")), "::");
  assert.equal(formatIp(ip("::ffff:10.0.0.1")), "::ffff:10.0.0.1");
  assert.equal(formatIp(ip("10.0.0.1")), "10.0.0.1");
});

Deno.test("parseCidr() treats a bare address as a host route", () => {
  const v4 = parseCidr("127.0.0.1");
  assert.equal(v4.family, 4);
  assert.equal(v4.prefix, 32);
  assert.equal(v4.text, "127.0.0.1/32");
  const v6 = parseCidr("::1");
  assert.equal(v6.family, 6);
  assert.equal(v6.prefix, 128);
  assert.equal(v6.text, "::1/128");
  assert.equal(parseCidr("[2001:db8::5]").text, "2001:db8::5/128");
});

Deno.test("parseCidr() clears host bits and reports the network", () => {
  assert.equal(parseCidr("10.1.2.3/8").text, "10.0.0.0/8");
  assert.deepEqual([...parseCidr("192.168.77.1/20").bytes], [192, 168, 64, 0]);
  assert.equal(parseCidr("2001:db8:abcd::1/32").text, "2001:db8::/32");
  assert.equal(parseCidr("0.0.0.0/0").text, "0.0.0.0/0");
  assert.equal(parseCidr("::/0").text, "::/0");
});

Deno.test("parseCidr() normalizes an IPv4-mapped network to IPv4", () => {
  const host = parseCidr("::ffff:192.0.2.7");
  assert.equal(host.family, 4);
  assert.equal(host.prefix, 32);
  assert.equal(host.text, "192.0.2.7/32");
  const net = parseCidr("::ffff:10.0.0.0/104");
  assert.equal(net.family, 4);
  assert.equal(net.text, "10.0.0.0/8");
  // Shorter than /96 reaches outside the mapped space, so it stays an IPv6 network.
  assert.equal(parseCidr("::ffff:0.0.0.0/80").family, 6);
});

Deno.test("parseCidr() rejects malformed networks with a message naming the input", () => {
  const cases: [string, string][] = [
    ["", 'Cannot parse CIDR "": invalid IP address'],
    ["1.2.3", 'Cannot parse CIDR "1.2.3": invalid IP address'],
    ["01.2.3.4", 'Cannot parse CIDR "01.2.3.4": invalid IP address'],
    ["gggg::", 'Cannot parse CIDR "gggg::": invalid IP address'],
    ["1:2:3:4:5:6:7:8:9", 'Cannot parse CIDR "1:2:3:4:5:6:7:8:9": invalid IP address'],
    ["10.0.0.0/", 'Cannot parse CIDR "10.0.0.0/": prefix length must be an integer 0-32'],
    ["1.2.3.4/33", 'Cannot parse CIDR "1.2.3.4/33": prefix length must be an integer 0-32'],
    ["1.2.3.4/-1", 'Cannot parse CIDR "1.2.3.4/-1": prefix length must be an integer 0-32'],
    ["1.2.3.4/08", 'Cannot parse CIDR "1.2.3.4/08": prefix length must be an integer 0-32'],
    ["1.2.3.4/8/8", 'Cannot parse CIDR "1.2.3.4/8/8": prefix length must be an integer 0-32'],
    ["::1/129", 'Cannot parse CIDR "::1/129": prefix length must be an integer 0-128'],
    ["fe80::%eth0/64", 'Cannot parse CIDR "fe80::%eth0/64": a zone is not allowed in a network'],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseCidr(input), { message });
  }
});

Deno.test("cidrContains() honours the prefix boundary on IPv4", () => {
  const net = parseCidr("192.168.0.0/16");
  assert.ok(cidrContains(net, ip("192.168.0.0")));
  assert.ok(cidrContains(net, ip("192.168.255.255")));
  assert.ok(!cidrContains(net, ip("192.167.255.255")));
  assert.ok(!cidrContains(net, ip("192.169.0.0")));
  const odd = parseCidr("10.0.0.128/25");
  assert.ok(cidrContains(odd, ip("10.0.0.128")));
  assert.ok(cidrContains(odd, ip("10.0.0.255")));
  assert.ok(!cidrContains(odd, ip("10.0.0.127")));
  const host = parseCidr("10.0.0.1");
  assert.ok(cidrContains(host, ip("10.0.0.1")));
  assert.ok(!cidrContains(host, ip("10.0.0.2")));
  assert.ok(cidrContains(parseCidr("0.0.0.0/0"), ip("203.0.113.9")));
});

Deno.test("cidrContains() honours the prefix boundary on IPv6", () => {
  const net = parseCidr("2001:db8::/33");
  assert.ok(cidrContains(net, ip("2001:db8::1")));
  assert.ok(cidrContains(net, ip("2001:db8:7fff:ffff:ffff:ffff:ffff:ffff")));
  assert.ok(!cidrContains(net, ip("2001:db8:8000::")));
  assert.ok(!cidrContains(net, ip("2001:db9::")));
  assert.ok(cidrContains(parseCidr("::1"), ip("::1")));
  assert.ok(!cidrContains(parseCidr("::1"), ip("::2")));
});

Deno.test("cidrContains() never matches across address families", () => {
  assert.ok(!cidrContains(parseCidr("::/0"), ip("10.0.0.1")));
  assert.ok(!cidrContains(parseCidr("0.0.0.0/0"), ip("::1")));
  assert.ok(cidrContains(parseCidr("127.0.0.0/8"), ip("::ffff:127.0.0.1")));
});

Deno.test("matchesAny() unmaps IPv4-mapped addresses and rejects unparseable input", () => {
  const cidrs = [parseCidr("127.0.0.1"), parseCidr("2001:db8::/32")];
  assert.ok(matchesAny(cidrs, "127.0.0.1"));
  assert.ok(matchesAny(cidrs, "::ffff:127.0.0.1"));
  assert.ok(matchesAny(cidrs, "2001:db8::42"));
  assert.ok(!matchesAny(cidrs, "127.0.0.2"));
  assert.ok(!matchesAny(cidrs, "not-an-ip"));
  assert.ok(!matchesAny(cidrs, ""));
  assert.ok(!matchesAny([], "127.0.0.1"));
});
