import assert from "node:assert/strict";
import { isToken } from "../../../../src/sip/message/_chars.ts";
import { generateBranch, generateCallId, generateTag } from "../../../../src/sip/message/ids.ts";
import { isKnownMethod, SipMethod } from "../../../../src/sip/message/method.ts";
import { isRfc3261Branch } from "../../../../src/sip/message/via.ts";

Deno.test("generateBranch() starts with the magic cookie and never repeats", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const b = generateBranch();
    assert.ok(isRfc3261Branch(b));
    assert.ok(isToken(b));
    assert.equal(b.length, 29);
    seen.add(b);
  }
  assert.equal(seen.size, 1000);
});

Deno.test("generateTag() and generateCallId() are random tokens", () => {
  const tags = new Set(Array.from({ length: 1000 }, generateTag));
  assert.equal(tags.size, 1000);
  for (const t of tags) assert.match(t, /^[0-9a-z]{16}$/);
  assert.match(generateCallId(), /^[0-9a-z]{24}$/);
  assert.match(generateCallId("vb.example"), /^[0-9a-z]{24}@vb\.example$/);
  assert.notEqual(generateCallId(), generateCallId());
});

Deno.test("SipMethod lists the methods the upper layers use", () => {
  for (
    const m of [
      "INVITE",
      "ACK",
      "BYE",
      "CANCEL",
      "OPTIONS",
      "REGISTER",
      "INFO",
      "UPDATE",
      "PRACK",
      "REFER",
      "NOTIFY",
      "SUBSCRIBE",
      "MESSAGE",
      "PUBLISH",
    ]
  ) {
    assert.equal(SipMethod[m as keyof typeof SipMethod], m);
    assert.ok(isKnownMethod(m));
  }
  assert.equal(isKnownMethod("invite"), false, "methods are case-sensitive");
  assert.equal(isKnownMethod("NEWMETHOD"), false);
});
