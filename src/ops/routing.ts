/**
 * Routing-matrix and leg-role operations (compat §1 "Routing matrix"): get/replace/patch a room's
 * matrix and change a leg's role live. VSI payloads use `room_id` / `leg_id` (compat §2.4), the
 * REST paths `{id}`.
 */
import { z } from "@hono/zod-openapi";
import { NotFound } from "../errors.ts";
import { BaseLeg } from "../legs/base_leg.ts";
import type { PublishedEvent } from "../events/event.ts";
import { syncFlags } from "../rooms/membership.ts";
import {
  publishRoutingChanged,
  pushIfPending,
  routingView,
  setRouting,
  updateRouting,
} from "../rooms/routing.ts";
import { defineOperation, type OpContext } from "./operation.ts";

/** A routing role name ("" = unroled); same bound as `role` on add-to-room. */
const Role = z.string().max(64);

const Matrix = z.record(Role, z.array(Role).max(256)).openapi({
  description: "Listener role → source roles it hears. A role absent here hears everyone; [] " +
    "hears nothing",
});

/** `{room_id}` (VSI) ↔ `{id}` (REST path). */
const RoomParam = z.object({
  room_id: z.string().min(1).openapi({ param: { name: "id", in: "path" }, description: "Room id" }),
});

/** Body of `PUT /v1/rooms/{id}/routing`. */
export const RoomRoutingRequest = z.object({ matrix: Matrix }).openapi("RoomRoutingRequest");

/** One row edit of `PATCH /v1/rooms/{id}/routing`. */
export const RoutingRowUpdate = z.object({
  listener_role: Role,
  sources: z.array(Role).max(256).nullable().openapi({
    description: "New source roles of the row; null removes the row (full mesh)",
  }),
}).openapi("RoutingRowUpdate");

/** Body of `PATCH /v1/rooms/{id}/routing`. */
export const RoomRoutingUpdateRequest = z.object({
  updates: z.array(RoutingRowUpdate).max(256),
}).openapi("RoomRoutingUpdateRequest");

/** Reply of the routing operations. */
export const RoomRoutingViewSchema = z.object({
  instance_id: z.string().optional(),
  matrix: z.record(z.string(), z.array(z.string())),
}).openapi("RoomRoutingView");

/** Body of `PATCH /v1/legs/{id}/role`. */
export const SetLegRoleRequest = z.object({
  role: Role.openapi({ description: 'New routing role; "" clears it (full mesh)' }),
}).openapi("SetLegRoleRequest");

/** GET /v1/rooms/{id}/routing · room_routing_get */
export const roomRoutingGet = defineOperation({
  name: "room_routing_get",
  summary: "Get the room's audio routing matrix",
  params: RoomParam,
  run(ctx, input) {
    return { status: 200, body: { matrix: routingView(ctx.rooms.require(input.room_id)) } };
  },
});

/** PUT /v1/rooms/{id}/routing · room_routing_set — replaces the matrix atomically. */
export const roomRoutingSet = defineOperation({
  name: "room_routing_set",
  summary: "Replace the room's audio routing matrix",
  params: RoomParam,
  body: RoomRoutingRequest,
  bodyRequired: true,
  run(ctx, input) {
    const room = ctx.rooms.require(input.room_id);
    return { status: 200, body: { matrix: setRouting(ctx, room, input.matrix) } };
  },
});

/** PATCH /v1/rooms/{id}/routing · room_routing_update — edits rows in one atomic change. */
export const roomRoutingUpdate = defineOperation({
  name: "room_routing_update",
  summary: "Replace selected rows of the room's audio routing matrix",
  params: RoomParam,
  body: RoomRoutingUpdateRequest,
  bodyRequired: true,
  run(ctx, input) {
    const room = ctx.rooms.require(input.room_id);
    return { status: 200, body: { matrix: updateRouting(ctx, room, input.updates) } };
  },
});

/** PATCH /v1/legs/{id}/role · set_leg_role — applied from the room's next tick. */
export const setLegRole = defineOperation({
  name: "set_leg_role",
  summary: "Change a leg's routing role",
  params: z.object({
    leg_id: z.string().min(1).openapi({ param: { name: "id", in: "path" }, description: "Leg id" }),
  }),
  body: SetLegRoleRequest,
  bodyRequired: true,
  run(ctx, input) {
    const leg = ctx.legs.get(input.leg_id);
    if (!(leg instanceof BaseLeg)) throw new NotFound("leg not found");
    const oldRole = leg.role;
    if (oldRole === input.role) return { status: 200, body: leg.view() };
    leg.role = input.role;
    // The worker re-derives the listener/source tables at its next mix boundary.
    syncFlags(ctx, leg);
    const room = leg.roomId !== undefined ? ctx.rooms.peek(leg.roomId) : undefined;
    leg.publish("leg.role_changed", {
      old_role: oldRole,
      new_role: input.role,
      room_id: room?.id,
    });
    if (room) publishRoutingChanged(ctx, room, "leg_role_changed");
    return { status: 200, body: leg.view() };
  },
});

/** The routing operations, for the VSI table and the REST routes. */
export const ROUTING_OPS = [roomRoutingGet, roomRoutingSet, roomRoutingUpdate, setLegRole] as const;

/**
 * Bus hook for joins: pushes a stored matrix to a room whose mixer was created by this join, and
 * publishes `room.routing_changed` (reason `leg_joined`) when a leg with a role joins a room.
 */
export function onLegJoined(ctx: OpContext, ev: PublishedEvent): void {
  const roomId = ev.envelope.room_id;
  const legId = ev.envelope.leg_id;
  if (typeof roomId !== "string" || typeof legId !== "string") return;
  const room = ctx.rooms.peek(roomId);
  if (!room) return;
  pushIfPending(ctx, room);
  const leg = ctx.legs.get(legId);
  if (!(leg instanceof BaseLeg) || leg.role === "") return;
  // After the join has reached every subscriber: nested publishing would let later subscribers
  // see the routing change before the join that caused it.
  queueMicrotask(() => {
    if (ctx.rooms.get(roomId) === room) publishRoutingChanged(ctx, room, "leg_joined");
  });
}
