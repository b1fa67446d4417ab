import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { signBody, signingKeyCacheSize } from "../../../src/events/webhook_signing.ts";

Deno.test("signBody() is sha256= plus the lowercase hex HMAC-SHA256 of the UTF-8 body", async () => {
  const cases: [string, string][] = [
    ["secret", '{"type":"leg.connected"}'],
    ["clé-ünïcødé 🔑", '{"from":"Zoë","note":"日本語 ✓"}'],
    ["k", ""],
  ];
  for (const [secret, body] of cases) {
    const expected = createHmac("sha256", Buffer.from(secret, "utf8"))
      .update(Buffer.from(body, "utf8"))
      .digest("hex");
    assert.equal(await signBody(secret, body), `sha256=${expected}`);
  }
});

Deno.test("signBody() matches a published HMAC-SHA256 test vector (RFC 4231 case 2)", async () => {
  assert.equal(
    await signBody("Jefe", "what do ya want for nothing?"),
    "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
});

Deno.test("signBody() rejects an empty secret", async () => {
  await assert.rejects(() => signBody("", "{}"));
});

Deno.test("signBody() keeps at most 256 imported keys and still signs evicted secrets", async () => {
  for (let i = 0; i < 300; i++) await signBody(`secret-${i}`, "{}");
  assert.ok(signingKeyCacheSize() <= 256, `cache holds ${signingKeyCacheSize()} keys`);
  const expected = createHmac("sha256", "secret-0").update("{}").digest("hex");
  assert.equal(await signBody("secret-0", "{}"), `sha256=${expected}`);
});
