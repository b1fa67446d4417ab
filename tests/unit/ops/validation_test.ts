import assert from "node:assert/strict";
import { z } from "@hono/zod-openapi";
import { describeIssues, parseOrThrow } from "../../../src/ops/validation.ts";
import { BadRequest } from "../../../src/errors.ts";
import { CreateRoomBody } from "../../../src/ops/rooms.ts";

Deno.test("describeIssues() names the field path", () => {
  const r = z.object({ a: z.object({ b: z.number() }) }).safeParse({ a: { b: "x" } });
  assert.ok(!r.success);
  assert.equal(
    describeIssues(r.error),
    "invalid a.b: Invalid input: expected number, received string",
  );
});

Deno.test("parseOrThrow() throws BadRequest with a prefix and returns parsed data", () => {
  assert.throws(
    () => parseOrThrow(CreateRoomBody, { sample_rate: 1 }, "invalid payload: "),
    (e) =>
      e instanceof BadRequest && e.status === 400 &&
      e.message === "invalid payload: invalid sample_rate: must be 8000, 16000 or 48000",
  );
  assert.deepEqual(parseOrThrow(CreateRoomBody, { id: "r", unknown: 1 }), { id: "r" });
});
