import assert from "node:assert/strict";
import { Hono } from "hono";
import { allowlist, type AppEnv, clientAddress } from "../../../src/api/allowlist.ts";
import { parseCidr } from "../../../src/config/ip_cidr.ts";

const FORBIDDEN_BODY = '{"instance_id":"vb-test","error":"forbidden"}';

function app(allowed: string[], trustProxyHeaders = false): Hono<AppEnv> {
  const hono = new Hono<AppEnv>();
  hono.use(
    "*",
    allowlist({ allowed: allowed.map(parseCidr), trustProxyHeaders, instanceId: "vb-test" }),
  );
  hono.get("/x", (c) => c.text("ok"));
  return hono;
}

async function status(
  hono: Hono<AppEnv>,
  peer: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const res = await hono.request("/x", { headers }, {
    remoteAddr: { hostname: peer, port: 40000 },
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test("allowlist() lets everyone through when the list is empty", async () => {
  const open = app([]);
  assert.equal(await status(open, "203.0.113.9"), 200);
  const res = await open.request("/x");
  assert.equal(await res.text(), "ok");
});

Deno.test("allowlist() admits an IPv4 peer inside a network and refuses one outside", async () => {
  const hono = app(["10.0.0.0/8", "192.168.1.5"]);
  assert.equal(await status(hono, "10.200.3.4"), 200);
  assert.equal(await status(hono, "192.168.1.5"), 200);
  assert.equal(await status(hono, "11.0.0.1"), 403);
  assert.equal(await status(hono, "192.168.1.6"), 403);
});

Deno.test("allowlist() matches a bare IPv6 entry and an IPv6 network", async () => {
  const hono = app(["::1", "2001:db8::/32"]);
  assert.equal(await status(hono, "::1"), 200);
  assert.equal(await status(hono, "2001:db8:ffff::7"), 200);
  assert.equal(await status(hono, "2001:db9::7"), 403);
  assert.equal(await status(hono, "::2"), 403);
});

Deno.test("allowlist() unmaps an IPv4-mapped peer before matching", async () => {
  const hono = app(["127.0.0.1"]);
  assert.equal(await status(hono, "::ffff:127.0.0.1"), 200);
  assert.equal(await status(hono, "::ffff:127.0.0.2"), 403);
});

Deno.test("allowlist() refuses with the exact JSON envelope", async () => {
  const res = await app(["10.0.0.0/8"]).request("/x", {}, {
    remoteAddr: { hostname: "8.8.8.8", port: 1234 },
  });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(await res.text(), FORBIDDEN_BODY);
});

Deno.test("allowlist() refuses when the socket peer is unknown", async () => {
  const res = await app(["0.0.0.0/0"]).request("/x");
  assert.equal(res.status, 403);
  assert.equal(await res.text(), FORBIDDEN_BODY);
});

Deno.test("allowlist() uses the leftmost X-Forwarded-For entry when proxy headers are trusted", async () => {
  const hono = app(["203.0.113.0/24"], true);
  const proxy = "10.0.0.1";
  assert.equal(await status(hono, proxy, { "x-forwarded-for": "203.0.113.9" }), 200);
  assert.equal(
    await status(hono, proxy, { "x-forwarded-for": " 203.0.113.9 , 10.9.9.9, 10.0.0.1" }),
    200,
  );
  assert.equal(await status(hono, proxy, { "x-forwarded-for": "10.9.9.9, 203.0.113.9" }), 403);
  assert.equal(await status(hono, proxy, { "x-forwarded-for": "203.0.113.9:5555" }), 200);
});

Deno.test("allowlist() reads bracketed IPv6 X-Forwarded-For entries", async () => {
  const hono = app(["2001:db8::/32"], true);
  assert.equal(await status(hono, "10.0.0.1", { "x-forwarded-for": "[2001:db8::1]:443" }), 200);
  assert.equal(await status(hono, "10.0.0.1", { "x-forwarded-for": "[2001:db8::1]" }), 200);
  assert.equal(await status(hono, "10.0.0.1", { "x-forwarded-for": "2001:db8::1" }), 200);
});

Deno.test("allowlist() falls back to the socket peer when a trusted request has no X-Forwarded-For", async () => {
  const hono = app(["10.0.0.0/8"], true);
  assert.equal(await status(hono, "10.0.0.1"), 200);
  assert.equal(await status(hono, "8.8.8.8"), 403);
});

Deno.test("allowlist() refuses an unparseable X-Forwarded-For when trusted", async () => {
  const hono = app(["10.0.0.0/8"], true);
  assert.equal(await status(hono, "10.0.0.1", { "x-forwarded-for": "unknown" }), 403);
  assert.equal(await status(hono, "10.0.0.1", { "x-forwarded-for": ", 10.0.0.2" }), 403);
  const res = await hono.request("/x", { headers: { "x-forwarded-for": "10.0.0.300" } }, {
    remoteAddr: { hostname: "10.0.0.1", port: 1 },
  });
  assert.equal(res.status, 403);
  assert.equal(await res.text(), FORBIDDEN_BODY);
});

Deno.test("allowlist() ignores X-Forwarded-For when proxy headers are not trusted", async () => {
  const hono = app(["10.0.0.0/8"]);
  assert.equal(await status(hono, "8.8.8.8", { "x-forwarded-for": "10.0.0.1" }), 403);
  assert.equal(await status(hono, "10.0.0.1", { "x-forwarded-for": "8.8.8.8" }), 200);
  assert.equal(await status(hono, "10.0.0.1", { "x-forwarded-for": "garbage" }), 200);
});

Deno.test("allowlist() ignores X-Real-IP and Forwarded even when trusted", async () => {
  const hono = app(["10.0.0.0/8"], true);
  const spoof = { "x-real-ip": "10.0.0.1", "forwarded": "for=10.0.0.1" };
  assert.equal(await status(hono, "8.8.8.8", spoof), 403);
});

Deno.test("clientAddress() picks the peer or the leftmost forwarded entry in canonical form", () => {
  assert.equal(clientAddress("10.0.0.1", "1.2.3.4", false), "10.0.0.1");
  assert.equal(clientAddress("10.0.0.1", "1.2.3.4, 5.6.7.8", true), "1.2.3.4");
  assert.equal(clientAddress("10.0.0.1", null, true), "10.0.0.1");
  assert.equal(clientAddress("10.0.0.1", "   ", true), "10.0.0.1");
  assert.equal(clientAddress("::ffff:10.0.0.1", null, false), "10.0.0.1");
  assert.equal(clientAddress("10.0.0.1", "[2001:DB8:0::1]:80", true), "2001:db8::1");
  assert.equal(clientAddress("10.0.0.1", "1.2.3.4:99999", true), null);
  assert.equal(clientAddress("10.0.0.1", "[::1]:70000", true), null);
  assert.equal(clientAddress("10.0.0.1", "[::1", true), null);
  assert.equal(clientAddress("", null, false), null);
  assert.equal(clientAddress("not-an-ip", null, false), null);
});
