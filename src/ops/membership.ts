/** Room membership and leg flag operations (add/move/remove, mute, deaf). */
import { z } from "@hono/zod-openapi";
import { BadRequest } from "../errors.ts";
import { SipInboundLeg } from "../legs/sip_inbound_leg.ts";
import { BaseLeg } from "../legs/base_leg.ts";
import { joinRoom, leaveRoom, syncFlags } from "../rooms/membership.ts";
import { defineOperation } from "./operation.ts";
import { LegIdParam, ResourceId, RoomIdParam } from "./schemas.ts";
import { requireLeg } from "./leg_lookup.ts";

/** Body of `POST /v1/rooms/{id}/legs`. */
export const AddLegBody = z.object({
  leg_id: z.string().min(1).max(128),
  mute: z.boolean().optional(),
  deaf: z.boolean().optional(),
  role: z.string().max(64).optional(),
  accept_dtmf: z.boolean().optional(),
}).openapi("AddLegRequest");

/** POST /v1/rooms/{id}/legs · add_leg_to_room — auto-creates the room, moves between rooms. */
export const addLegToRoom = defineOperation({
  name: "add_leg_to_room",
  summary: "Add a leg to a room, or move it from its current room",
  params: z.object({
    room_id: ResourceId.openapi({ param: { name: "id", in: "path" }, description: "Room id" }),
  }),
  body: AddLegBody,
  bodyRequired: true,
  async run(ctx, input) {
    // compat §1: an unknown or unconnected leg is 400 here, not 404.
    const leg = ctx.legs.get(input.leg_id);
    if (!(leg instanceof BaseLeg)) throw new BadRequest("leg not found");
    // compat §1 "Rooms": adding a ringing SIP inbound leg answers it first (the reply waits for
    // the ACK; a failed answer leaves the leg unconnected, which is the 400 below).
    if (
      leg instanceof SipInboundLeg && leg.state === "ringing" &&
      !leg.answering
    ) {
      await leg.answer();
    }
    const room = ctx.rooms.get(input.room_id) ??
      ctx.rooms.create({
        id: input.room_id,
        sampleRate: ctx.config.defaultSampleRate,
        appId: leg.appId,
      });
    const result = joinRoom(ctx, leg, room, {
      mute: input.mute,
      deaf: input.deaf,
      role: input.role,
      acceptDtmf: input.accept_dtmf,
    });
    return { status: 200, body: result };
  },
});

/** DELETE /v1/rooms/{id}/legs/{legID} · remove_leg_from_room */
export const removeLegFromRoom = defineOperation({
  name: "remove_leg_from_room",
  summary: "Remove a leg from a room",
  params: z.object({
    room_id: z.string().min(1).openapi({
      param: { name: "id", in: "path" },
      description: "Room id",
    }),
    leg_id: z.string().min(1).openapi({
      param: { name: "legID", in: "path" },
      description: "Leg id",
    }),
  }),
  run(ctx, input) {
    if (!ctx.rooms.get(input.room_id)) throw new BadRequest("room not found");
    const leg = ctx.legs.get(input.leg_id);
    if (!(leg instanceof BaseLeg)) throw new BadRequest("leg not found");
    if (leg.roomId !== input.room_id) throw new BadRequest(`leg is not in room ${input.room_id}`);
    leaveRoom(ctx, leg);
    return { status: 200, body: { status: "removed" } };
  },
});

function flagOp(
  name: string,
  summary: string,
  apply: (leg: BaseLeg) => boolean,
  event: string,
  status: string,
) {
  return defineOperation({
    name,
    summary,
    params: LegIdParam,
    run(ctx, input) {
      const leg = requireLeg(ctx, input.id);
      if (apply(leg)) {
        syncFlags(ctx, leg);
        leg.publish(event, leg.roomId ? { room_id: leg.roomId } : {});
      }
      return { status: 200, body: { status } };
    },
  });
}

/** POST /v1/legs/{id}/mute · mute_leg — others stop hearing the leg. */
export const muteLeg = flagOp(
  "mute_leg",
  "Mute a leg",
  (l) => {
    const changed = !l.muted;
    l.muted = true;
    return changed;
  },
  "leg.muted",
  "muted",
);

/** DELETE /v1/legs/{id}/mute · unmute_leg */
export const unmuteLeg = flagOp(
  "unmute_leg",
  "Unmute a leg",
  (l) => {
    const changed = l.muted;
    l.muted = false;
    return changed;
  },
  "leg.unmuted",
  "unmuted",
);

/** POST /v1/legs/{id}/deaf · deaf_leg — the leg stops hearing the room. */
export const deafLeg = flagOp(
  "deaf_leg",
  "Deafen a leg",
  (l) => {
    const changed = !l.deaf;
    l.deaf = true;
    return changed;
  },
  "leg.deaf",
  "deaf",
);

/** DELETE /v1/legs/{id}/deaf · undeaf_leg */
export const undeafLeg = flagOp(
  "undeaf_leg",
  "Undeafen a leg",
  (l) => {
    const changed = l.deaf;
    l.deaf = false;
    return changed;
  },
  "leg.undeaf",
  "undeaf",
);

/** Re-exported for routes: the room-id path parameter of membership routes. */
export { RoomIdParam };
