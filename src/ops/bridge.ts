/**
 * Room bridge operations (compat §1 "Room bridging") and the feature's start-up wiring. Also
 * exports the routing-matrix and leg-role operations, which live in `routing.ts`.
 *
 * The REST body of create names the other room `room_id` and the bridge `id`, while the VSI
 * payload (`bridge_create`) carries the path room as `room_id` and the others as `peer_room_id` /
 * `bridge_id` (compat §2.4). The two shapes cannot share one input object, so create has two thin
 * adapters over {@link BridgeRegistry.create}; every other operation serves both.
 */
import { z } from "@hono/zod-openapi";
import { BridgeRegistry, bridgeView, RELATIVE_DIRECTIONS } from "../rooms/bridges.ts";
import type { BridgeEvent } from "../media/bridge_protocol.ts";
import { defineOperation, type OpContext, type Operation } from "./operation.ts";
import { ResourceId } from "./schemas.ts";
import { onLegJoined, ROUTING_OPS } from "./routing.ts";

const registries = new WeakMap<object, BridgeRegistry>();

/** The bridge registry of the server `ctx` belongs to (one per room manager). */
export function bridgesOf(ctx: OpContext): BridgeRegistry {
  let reg = registries.get(ctx.rooms);
  if (!reg) {
    reg = new BridgeRegistry({
      rooms: ctx.rooms,
      media: ctx.media,
      bus: ctx.bus,
      logger: ctx.logger.child({ component: "bridges" }),
    });
    registries.set(ctx.rooms, reg);
  }
  return reg;
}

/** A bridge direction relative to the room that names it. */
export const Direction = z.enum(RELATIVE_DIRECTIONS, {
  error: "must be bidirectional, send, receive or none",
}).openapi({
  description: "Relative to the room in the path: send = its audio goes to the other room",
});

/** The contract's Bridge object (compat §2.5). */
export const BridgeViewSchema = z.object({
  instance_id: z.string().optional(),
  id: z.string(),
  room_id: z.string().openapi({ description: "The other room of the bridge" }),
  direction: z.enum(RELATIVE_DIRECTIONS),
  sample_rate: z.number().int(),
}).openapi("BridgeView");

/** Body of `POST /v1/rooms/{id}/bridges`. */
export const CreateRoomBridgeRequest = z.object({
  room_id: z.string().min(1).max(128).openapi({ description: "The other room" }),
  direction: Direction.optional(),
  id: ResourceId.optional().openapi({ description: "Bridge id; a UUID is generated when absent" }),
}).openapi("CreateRoomBridgeRequest");

/** Body of `PATCH /v1/rooms/{id}/bridges/{bridgeID}`. */
export const UpdateRoomBridgeRequest = z.object({ direction: Direction })
  .openapi("UpdateRoomBridgeRequest");

const roomIdParam = z.string().min(1).openapi({
  param: { name: "id", in: "path" },
  description: "Room id",
});
const bridgeIdParam = z.string().min(1).openapi({
  param: { name: "bridgeID", in: "path" },
  description: "Bridge id",
});
const BridgeRef = z.object({ room_id: roomIdParam, bridge_id: bridgeIdParam });

/** VSI `bridge_create {room_id, peer_room_id, bridge_id?, direction?}`. */
export const bridgeCreate = defineOperation({
  name: "bridge_create",
  summary: "Bridge a room's mixer to another room's mixer",
  params: z.object({ room_id: roomIdParam }),
  body: z.object({
    peer_room_id: z.string().min(1).max(128),
    bridge_id: ResourceId.optional(),
    direction: Direction.optional(),
  }),
  bodyRequired: true,
  run(ctx, input) {
    const br = bridgesOf(ctx).create({
      roomId: input.room_id,
      peerRoomId: input.peer_room_id,
      direction: input.direction,
      id: input.bridge_id,
    });
    return { status: 201, body: bridgeView(br, input.room_id) };
  },
});

/**
 * POST /v1/rooms/{id}/bridges · create_room_bridge — the REST spelling of `bridge_create`. Over
 * VSI it takes the REST body with the path room as `path_room_id`.
 */
export const createRoomBridge = defineOperation({
  name: "create_room_bridge",
  summary: "Bridge this room's mixer to another room's mixer",
  params: z.object({ path_room_id: roomIdParam }),
  body: CreateRoomBridgeRequest,
  bodyRequired: true,
  run(ctx, input) {
    const br = bridgesOf(ctx).create({
      roomId: input.path_room_id,
      peerRoomId: input.room_id,
      direction: input.direction,
      id: input.id,
    });
    return { status: 201, body: bridgeView(br, input.path_room_id) };
  },
});

/** GET /v1/rooms/{id}/bridges · bridge_list — a bare array, each relative to the room. */
export const bridgeList = defineOperation({
  name: "bridge_list",
  summary: "List bridges involving this room",
  params: z.object({ room_id: roomIdParam }),
  run(ctx, input) {
    const list = bridgesOf(ctx).list(input.room_id).map((b) => bridgeView(b, input.room_id));
    return { status: 200, body: list };
  },
});

/** GET /v1/rooms/{id}/bridges/{bridgeID} · bridge_get */
export const bridgeGet = defineOperation({
  name: "bridge_get",
  summary: "Get a bridge involving this room",
  params: BridgeRef,
  run(ctx, input) {
    const br = bridgesOf(ctx).get(input.room_id, input.bridge_id);
    return { status: 200, body: bridgeView(br, input.room_id) };
  },
});

/** PATCH /v1/rooms/{id}/bridges/{bridgeID} · bridge_update — live, without interrupting audio. */
export const bridgeUpdate = defineOperation({
  name: "bridge_update",
  summary: "Change a bridge's audio flow direction",
  params: BridgeRef,
  body: UpdateRoomBridgeRequest,
  bodyRequired: true,
  run(ctx, input) {
    const br = bridgesOf(ctx).update(input.room_id, input.bridge_id, input.direction);
    return { status: 200, body: bridgeView(br, input.room_id) };
  },
});

/** DELETE /v1/rooms/{id}/bridges/{bridgeID} · bridge_delete */
export const bridgeDelete = defineOperation({
  name: "bridge_delete",
  summary: "Tear down a bridge",
  params: BridgeRef,
  run(ctx, input) {
    bridgesOf(ctx).delete(input.room_id, input.bridge_id);
    return { status: 200, body: { status: "deleted" } };
  },
});

/** Operations of this feature (bridges, routing matrix, leg roles), reachable over VSI. */
export const BRIDGE_OPS: readonly Operation[] = [
  bridgeCreate,
  createRoomBridge,
  bridgeList,
  bridgeGet,
  bridgeUpdate,
  bridgeDelete,
  ...ROUTING_OPS,
] as Operation[];

/**
 * Start-up wiring: room deletion tears its bridges down (`room.unbridged` reason
 * `room_deleted`), joins hand a pending routing matrix to a new mixer, and worker-side bridge
 * errors are logged.
 */
export function attachBridge(ctx: OpContext): void {
  const bridges = bridgesOf(ctx);
  ctx.rooms.addDeleteHook((room) => bridges.roomDeleted(room));
  ctx.bus.subscribe((ev) => {
    if (ev.type === "leg.joined_room") onLegJoined(ctx, ev);
  });
  const log = ctx.logger.child({ component: "bridges" });
  ctx.media.onFeatureEvent("bridge.", (ev) => {
    const e = ev as BridgeEvent;
    log.error("bridge media error", { bridge_id: e.bridgeId, room_id: e.roomId, error: e.message });
  });
}
