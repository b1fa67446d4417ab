/** Leg registry operations: list, get, hang up. */
import { z } from "@hono/zod-openapi";
import { BadRequest } from "../errors.ts";
import { defineOperation } from "./operation.ts";
import { LegIdParam } from "./schemas.ts";
import { requireLeg } from "./leg_lookup.ts";

/** Reasons a caller may give when rejecting an unanswered inbound call (SIP final response). */
export const REJECT_REASONS = [
  "busy",
  "declined",
  "rejected",
  "unavailable",
  "not_found",
  "forbidden",
  "server_error",
] as const;

/** GET /v1/legs · list_legs */
export const listLegs = defineOperation({
  name: "list_legs",
  summary: "List live legs",
  run(ctx) {
    return { status: 200, body: ctx.legs.list().map((l) => l.view()) };
  },
});

/** GET /v1/legs/{id} · get_leg */
export const getLeg = defineOperation({
  name: "get_leg",
  summary: "Get one leg",
  params: LegIdParam,
  run(ctx, input) {
    return { status: 200, body: requireLeg(ctx, input.id).view() };
  },
});

/** Body of `DELETE /v1/legs/{id}`. */
export const DeleteLegBody = z.object({
  reason: z.string().max(64).optional().openapi({
    description: "For an unanswered inbound call: " + REJECT_REASONS.join(", "),
  }),
}).openapi("DeleteLegRequest");

/** DELETE /v1/legs/{id} · delete_leg — queues the hangup and answers 202 at once. */
export const deleteLeg = defineOperation({
  name: "delete_leg",
  summary: "Hang up a leg (asynchronous)",
  params: LegIdParam,
  body: DeleteLegBody,
  run(ctx, input) {
    const leg = requireLeg(ctx, input.id);
    const rejectable = (leg.type === "sip_inbound" || leg.type === "whatsapp_in") &&
      (leg.state === "ringing" || leg.state === "early_media");
    let reason = "api_hangup";
    if (rejectable && input.reason !== undefined) {
      if (!(REJECT_REASONS as readonly string[]).includes(input.reason)) {
        throw new BadRequest(
          `invalid reason: "${input.reason}" (allowed: ${REJECT_REASONS.join(", ")})`,
        );
      }
      reason = input.reason;
    }
    ctx.background(leg.hangup(reason));
    return { status: 202, body: { status: "hanging_up" } };
  },
});
