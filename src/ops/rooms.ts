/** Room operations: create, list, get, delete. */
import { z } from "@hono/zod-openapi";
import { BadRequest } from "../errors.ts";
import { defineOperation, type OpContext } from "./operation.ts";
import { HttpUrl, ResourceId, RoomIdParam, SampleRate } from "./schemas.ts";
import type { RoomView } from "../rooms/room.ts";
import type { Room } from "../rooms/room.ts";

/** The contract view of a room with its participants. */
export function roomView(ctx: OpContext, room: Room): RoomView {
  return room.view((id) => ctx.legs.get(id)?.view());
}

/** Body of `POST /v1/rooms`. */
export const CreateRoomBody = z.object({
  id: ResourceId.optional().openapi({ description: "Room id; a UUID is generated when absent" }),
  sample_rate: SampleRate.optional().openapi({
    description: "Mixer rate in Hz; DEFAULT_SAMPLE_RATE when absent",
  }),
  app_id: z.string().max(256).optional(),
  webhook_url: HttpUrl.optional(),
  webhook_secret: z.string().max(1024).optional(),
}).openapi("RoomCreateRequest");

/** POST /v1/rooms · create_room */
export const createRoom = defineOperation({
  name: "create_room",
  summary: "Create a room",
  body: CreateRoomBody,
  run(ctx, input) {
    if (input.webhook_secret && !input.webhook_url) {
      throw new BadRequest("invalid webhook_secret: requires webhook_url");
    }
    const room = ctx.rooms.create({
      id: input.id,
      sampleRate: input.sample_rate ?? ctx.config.defaultSampleRate,
      appId: input.app_id,
      webhook: input.webhook_url
        ? { url: input.webhook_url, secret: input.webhook_secret || undefined }
        : undefined,
    });
    return { status: 201, body: roomView(ctx, room) };
  },
});

/** GET /v1/rooms · list_rooms */
export const listRooms = defineOperation({
  name: "list_rooms",
  summary: "List rooms with their participants",
  run(ctx) {
    return { status: 200, body: ctx.rooms.list().map((r) => roomView(ctx, r)) };
  },
});

/** GET /v1/rooms/{id} · get_room */
export const getRoom = defineOperation({
  name: "get_room",
  summary: "Get a room with its participants",
  params: RoomIdParam,
  run(ctx, input) {
    return { status: 200, body: roomView(ctx, ctx.rooms.require(input.id)) };
  },
});

/** DELETE /v1/rooms/{id} · delete_room — hangs up every leg in the room. */
export const deleteRoom = defineOperation({
  name: "delete_room",
  summary: "Delete a room, hanging up its legs",
  params: RoomIdParam,
  async run(ctx, input) {
    await ctx.rooms.delete(input.id);
    return { status: 200, body: { status: "deleted" } };
  },
});
