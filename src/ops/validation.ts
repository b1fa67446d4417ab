/** Turns zod validation failures into the contract's 400 messages. */
import type { z } from "@hono/zod-openapi";
import { BadRequest } from "../errors.ts";

/** `invalid sample_rate: must be 8000, 16000 or 48000` style text for the first issue. */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid request";
  const path = issue.path.map(String).join(".");
  if (path === "") {
    return issue.message.startsWith("invalid") ? issue.message : `invalid body: ${issue.message}`;
  }
  return `invalid ${path}: ${issue.message}`;
}

/** Parses `value` with `schema` or throws a {@link BadRequest} with a readable message. */
export function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, prefix = ""): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new BadRequest(prefix + describeIssues(result.error));
  return result.data;
}
