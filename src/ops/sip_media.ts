/**
 * SIP media operations (compat-notes §1 "DTMF", "Hold/unhold", "Early media"): RFC 4733 digits
 * sent and received on a leg's RTP session, hold/unhold by re-INVITE, and inbound early media.
 */
import { z } from "@hono/zod-openapi";
import { ApiError, BadRequest, Conflict } from "../errors.ts";
import type { BaseLeg } from "../legs/base_leg.ts";
import { SipLeg } from "../legs/sip_leg.ts";
import { defineOperation, type OpContext } from "./operation.ts";
import { LegIdParam } from "./schemas.ts";
import { legSettingOp, requireLeg } from "./leg_lookup.ts";

// ---- DTMF ----

const seqs = new WeakMap<BaseLeg, number>();

/**
 * A digit received on `from`'s RTP session: `dtmf.received{digit, seq}` on that leg, and the
 * digit re-sent to the other SIP legs of its room that accept DTMF (other leg kinds are skipped).
 */
export function receiveDtmf(ctx: OpContext, from: SipLeg, digit: string): void {
  const seq = (seqs.get(from) ?? 0) + 1;
  seqs.set(from, seq);
  from.publish("dtmf.received", {
    digit,
    seq,
    ...(from.roomId ? { room_id: from.roomId } : {}),
  });
  const room = from.roomId ? ctx.rooms.get(from.roomId) : undefined;
  if (!room) return;
  for (const id of room.legIds) {
    if (id === from.id) continue;
    const other = ctx.legs.get(id);
    if (other instanceof SipLeg && other.acceptDtmf && other.canSendDtmf) {
      try {
        other.sendDtmf(digit);
      } catch (err) {
        ctx.logger.debug("DTMF relay failed", { leg_id: id, error: err });
      }
    }
  }
}

/** Body of `POST /v1/legs/{id}/dtmf`. */
export const DtmfBody = z.object({
  digits: z.string().max(256),
}).openapi("DTMFRequest");

/** POST /v1/legs/{id}/dtmf · send_leg_dtmf */
export const sendLegDtmf = defineOperation({
  name: "send_leg_dtmf",
  summary: "Send RFC 4733 DTMF digits on a leg",
  params: LegIdParam,
  body: DtmfBody,
  bodyRequired: true,
  run(ctx, input) {
    const leg = requireLeg(ctx, input.id);
    if (input.digits === "") throw new BadRequest("invalid digits: must not be empty");
    if (!/^[0-9*#]+$/.test(input.digits)) {
      throw new BadRequest("invalid digits: only 0-9, * and # are allowed");
    }
    if (!(leg instanceof SipLeg)) {
      throw new ApiError(500, `DTMF is not supported on ${leg.type} legs`);
    }
    try {
      leg.sendDtmf(input.digits);
    } catch (err) {
      throw new ApiError(500, err instanceof Error ? err.message : String(err));
    }
    return { status: 200, body: { status: "sent" } };
  },
});

/** POST /v1/legs/{id}/dtmf/accept · accept_leg_dtmf */
export const acceptLegDtmf = legSettingOp(
  "accept_leg_dtmf",
  "Deliver room DTMF to this leg (default)",
  (leg) => {
    leg.acceptDtmf = true;
  },
  "dtmf_accepting",
);

/** POST /v1/legs/{id}/dtmf/reject · reject_leg_dtmf */
export const rejectLegDtmf = legSettingOp(
  "reject_leg_dtmf",
  "Stop delivering room DTMF to this leg",
  (leg) => {
    leg.acceptDtmf = false;
  },
  "dtmf_rejecting",
);

// ---- hold ----

/** The SIP leg `id` for hold/unhold: 404 unknown, 400 not SIP, 409 unless connected/held. */
function holdableLeg(ctx: OpContext, id: string): SipLeg {
  const leg = requireLeg(ctx, id);
  if (!(leg instanceof SipLeg)) throw new BadRequest("leg is not a SIP leg");
  if ((leg.state !== "connected" && leg.state !== "held") || leg.holdBusy) {
    throw new Conflict(`leg is not connected (state ${leg.holdBusy ? "re-inviting" : leg.state})`);
  }
  return leg;
}

/** POST /v1/legs/{id}/hold · hold_leg — 202 at once; `leg.hold` follows the re-INVITE. */
export const holdLeg = defineOperation({
  name: "hold_leg",
  summary: "Put a SIP leg on hold (re-INVITE sendonly)",
  params: LegIdParam,
  run(ctx, input) {
    const leg = holdableLeg(ctx, input.id);
    ctx.background(leg.setHold(true));
    return { status: 202, body: { status: "holding" } };
  },
});

/** DELETE /v1/legs/{id}/hold · unhold_leg — 202 at once; `leg.unhold` follows the re-INVITE. */
export const unholdLeg = defineOperation({
  name: "unhold_leg",
  summary: "Resume a held SIP leg (re-INVITE sendrecv)",
  params: LegIdParam,
  run(ctx, input) {
    const leg = holdableLeg(ctx, input.id);
    ctx.background(leg.setHold(false));
    return { status: 202, body: { status: "unholding" } };
  },
});

/** The SIP media operations, for the VSI command table. */
export const SIP_MEDIA_OPS = [
  sendLegDtmf,
  acceptLegDtmf,
  rejectLegDtmf,
  holdLeg,
  unholdLeg,
] as const;
