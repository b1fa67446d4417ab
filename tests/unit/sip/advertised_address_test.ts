import assert from "node:assert/strict";
import {
  advertisedAddress,
  isWildcard,
  pickAdvertisedAddress,
} from "../../../src/sip/advertised_address.ts";

const IFACES = [
  { family: "IPv4" as const, address: "127.0.0.1" },
  { family: "IPv6" as const, address: "::1" },
  { family: "IPv6" as const, address: "fe80::1", scopeid: 2 },
  { family: "IPv4" as const, address: "10.1.2.3" },
  { family: "IPv6" as const, address: "2001:db8::7" },
  { family: "IPv4" as const, address: "192.0.2.9" },
];

Deno.test("pickAdvertisedAddress() skips loopback and link-local and takes the first of the family", () => {
  assert.equal(pickAdvertisedAddress(IFACES, 4), "10.1.2.3");
  assert.equal(pickAdvertisedAddress(IFACES, 6), "2001:db8::7");
  assert.equal(pickAdvertisedAddress(IFACES.slice(0, 3), 4), undefined);
  assert.equal(pickAdvertisedAddress(IFACES.slice(0, 3), 6), undefined);
});

Deno.test("isWildcard() recognises the unspecified addresses only", () => {
  for (const ip of ["0.0.0.0", "::", "[::]", ""]) assert.equal(isWildcard(ip), true, ip);
  for (const ip of ["127.0.0.1", "::1", "10.0.0.1"]) assert.equal(isWildcard(ip), false, ip);
});

Deno.test("advertisedAddress() keeps a concrete address and replaces a wildcard", () => {
  assert.equal(advertisedAddress("203.0.113.5", 4), "203.0.113.5");
  const v4 = advertisedAddress("0.0.0.0", 4);
  const expected = pickAdvertisedAddress(Deno.networkInterfaces(), 4) ?? "0.0.0.0";
  assert.equal(v4, expected);
});
