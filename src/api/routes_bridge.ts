/** REST routes of room bridges, the routing matrix and leg roles (compat §1). */
import { z } from "@hono/zod-openapi";
import type { RouteDef } from "./routes.ts";
import {
  bridgeDelete,
  bridgeGet,
  bridgeList,
  bridgeUpdate,
  BridgeViewSchema,
  createRoomBridge,
} from "../ops/bridge.ts";
import {
  roomRoutingGet,
  roomRoutingSet,
  roomRoutingUpdate,
  RoomRoutingViewSchema,
  setLegRole,
} from "../ops/routing.ts";
import { LegSchema, StatusSchema } from "../ops/schemas.ts";

const ROOM = { room_id: "id" } as const;
const BRIDGE = { room_id: "id", bridge_id: "bridgeID" } as const;

/** Routes of this feature. */
export const BRIDGE_ROUTES: readonly RouteDef[] = [
  {
    method: "post",
    path: "/v1/rooms/{id}/bridges",
    tag: "Rooms",
    op: createRoomBridge,
    ok: { status: 201, description: "Bridge created", schema: BridgeViewSchema },
    errors: [409],
    pathNames: { path_room_id: "id" },
  },
  {
    method: "get",
    path: "/v1/rooms/{id}/bridges",
    tag: "Rooms",
    op: bridgeList,
    ok: {
      status: 200,
      description: "Bridges involving the room, each relative to it",
      schema: z.array(BridgeViewSchema),
    },
    pathNames: ROOM,
  },
  {
    method: "get",
    path: "/v1/rooms/{id}/bridges/{bridgeID}",
    tag: "Rooms",
    op: bridgeGet,
    ok: { status: 200, description: "The bridge, relative to the room", schema: BridgeViewSchema },
    pathNames: BRIDGE,
  },
  {
    method: "patch",
    path: "/v1/rooms/{id}/bridges/{bridgeID}",
    tag: "Rooms",
    op: bridgeUpdate,
    ok: { status: 200, description: "Bridge updated", schema: BridgeViewSchema },
    pathNames: BRIDGE,
  },
  {
    method: "delete",
    path: "/v1/rooms/{id}/bridges/{bridgeID}",
    tag: "Rooms",
    op: bridgeDelete,
    ok: { status: 200, description: "Bridge deleted", schema: StatusSchema },
    pathNames: BRIDGE,
  },
  {
    method: "get",
    path: "/v1/rooms/{id}/routing",
    tag: "Rooms",
    op: roomRoutingGet,
    ok: { status: 200, description: "Current matrix", schema: RoomRoutingViewSchema },
    pathNames: ROOM,
  },
  {
    method: "put",
    path: "/v1/rooms/{id}/routing",
    tag: "Rooms",
    op: roomRoutingSet,
    ok: { status: 200, description: "Updated matrix", schema: RoomRoutingViewSchema },
    pathNames: ROOM,
  },
  {
    method: "patch",
    path: "/v1/rooms/{id}/routing",
    tag: "Rooms",
    op: roomRoutingUpdate,
    ok: { status: 200, description: "Updated matrix", schema: RoomRoutingViewSchema },
    pathNames: ROOM,
  },
  {
    method: "patch",
    path: "/v1/legs/{id}/role",
    tag: "Legs",
    op: setLegRole,
    ok: { status: 200, description: "The leg with its new role", schema: LegSchema },
    pathNames: { leg_id: "id" },
  },
];
