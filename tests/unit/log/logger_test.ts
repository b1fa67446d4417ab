import assert from "node:assert/strict";
import { Logger, redact } from "../../../src/log/logger.ts";

Deno.test("Logger writes one JSON line with bound fields and honours the level", () => {
  const lines: string[] = [];
  const log = new Logger("info", { component: "x" }, (l) => lines.push(l)).child({ leg_id: "L" });
  log.debug("hidden");
  log.info("shown", { n: 1 });
  assert.equal(lines.length, 1);
  const obj = JSON.parse(lines[0]);
  assert.equal(obj.level, "info");
  assert.equal(obj.msg, "shown");
  assert.equal(obj.component, "x");
  assert.equal(obj.leg_id, "L");
  assert.equal(obj.n, 1);
  assert.equal(log.enabled("debug"), false);
});

Deno.test("redact() hides secrets at any depth and renders errors as messages", () => {
  const out = redact({
    webhook_secret: "s",
    nested: { api_key: "k", Authorization: "Bearer x", ok: 1 },
    password: "",
    error: new Error("bad"),
  });
  assert.equal(out.webhook_secret, "[redacted]");
  assert.deepEqual(out.nested, { api_key: "[redacted]", Authorization: "[redacted]", ok: 1 });
  assert.equal(out.password, "");
  assert.equal(out.error, "bad");
});
