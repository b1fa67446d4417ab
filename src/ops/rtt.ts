/**
 * Real-time text operations (`/v1/legs/{id}/rtt`, compat §1 "RTT (T.140)"). WebSocket legs carry
 * text as `{"type":"text"}` frames; SIP legs will add RFC 4103 through the same capability.
 * Received text becomes `rtt.received` and is delivered to the other text-capable legs of the
 * room; it never crosses bridges.
 */
import { z } from "@hono/zod-openapi";
import { BadRequest, Conflict } from "../errors.ts";
import { BaseLeg } from "../legs/base_leg.ts";
import type { Leg } from "../legs/leg.ts";
import { defineOperation, type OpContext } from "./operation.ts";
import { LegIdParam } from "./schemas.ts";
import { legSettingOp, requireLeg } from "./leg_lookup.ts";

/** A leg that can send real-time text. */
export interface TextCapable {
  readonly rttEnabled: boolean;
  sendText(text: string): void;
}

function isTextCapable(leg: Leg): leg is Leg & TextCapable {
  return "rttEnabled" in leg && "sendText" in leg;
}

const seqs = new WeakMap<BaseLeg, number>();

/**
 * Handles text received from `from`: publishes `rtt.received` (unless it rejects RTT) and
 * forwards it to every other text-capable leg in its room that accepts RTT.
 */
export function receiveText(ctx: OpContext, from: BaseLeg, text: string): void {
  if (text === "") return;
  const seq = (seqs.get(from) ?? 0) + 1;
  seqs.set(from, seq);
  if (from.acceptRtt) {
    from.publish("rtt.received", {
      text,
      seq,
      loss_marker: false,
      ...(from.roomId ? { room_id: from.roomId } : {}),
    });
  }
  const room = from.roomId ? ctx.rooms.get(from.roomId) : undefined;
  if (!room) return;
  for (const id of room.legIds) {
    if (id === from.id) continue;
    const other = ctx.legs.get(id);
    if (other instanceof BaseLeg && other.acceptRtt && isTextCapable(other) && other.rttEnabled) {
      other.sendText(text);
    }
  }
}

/** Body of `POST /v1/legs/{id}/rtt`. */
export const RttBody = z.object({
  text: z.string().max(4096),
}).openapi("RTTRequest");

/** POST /v1/legs/{id}/rtt · send_leg_rtt */
export const sendLegRtt = defineOperation({
  name: "send_leg_rtt",
  summary: "Send real-time text to a leg",
  params: LegIdParam,
  body: RttBody,
  bodyRequired: true,
  run(ctx, input) {
    const leg = requireLeg(ctx, input.id);
    if (input.text === "") throw new BadRequest("invalid text: must not be empty");
    if (!isTextCapable(leg) || !leg.rttEnabled) {
      throw new Conflict("RTT is not enabled on this leg");
    }
    leg.sendText(input.text);
    return { status: 200, body: { status: "sent" } };
  },
});

/** POST /v1/legs/{id}/rtt/accept · accept_leg_rtt */
export const acceptLegRtt = legSettingOp(
  "accept_leg_rtt",
  "Report incoming real-time text and deliver room text to this leg (default)",
  (leg) => {
    leg.acceptRtt = true;
  },
  "rtt_accepting",
);

/** POST /v1/legs/{id}/rtt/reject · reject_leg_rtt */
export const rejectLegRtt = legSettingOp(
  "reject_leg_rtt",
  "Stop reporting incoming real-time text and delivering room text to this leg",
  (leg) => {
    leg.acceptRtt = false;
  },
  "rtt_rejecting",
);

/** The RTT operations, for the VSI command table. */
export const RTT_OPS = [sendLegRtt, acceptLegRtt, rejectLegRtt] as const;
