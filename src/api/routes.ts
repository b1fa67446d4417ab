/**
 * The REST route table: each route binds a method and OpenAPI path to one {@link Operation} and
 * declares its documented responses. The same table mounts handlers and builds the OpenAPI
 * document, so they cannot drift apart.
 */
import type { z } from "@hono/zod-openapi";
import type { Operation } from "../ops/operation.ts";
import { createRoom, deleteRoom, getRoom, listRooms } from "../ops/rooms.ts";
import { deleteLeg, getLeg, listLegs } from "../ops/legs.ts";
import { createWebhook, deleteWebhook, listWebhooks } from "../ops/webhooks.ts";
import {
  addLegToRoom,
  deafLeg,
  muteLeg,
  removeLegFromRoom,
  undeafLeg,
  unmuteLeg,
} from "../ops/membership.ts";
import { createLeg } from "../ops/ws_legs.ts";
import { answerLeg, earlyMediaLeg, ringLeg } from "../ops/sip_legs.ts";
import { acceptLegDtmf, holdLeg, rejectLegDtmf, sendLegDtmf, unholdLeg } from "../ops/sip_media.ts";
import { acceptLegRtt, rejectLegRtt, sendLegRtt } from "../ops/rtt.ts";
import { PLAYBACK_ROUTES } from "./routes_playback.ts";
import { RECORDING_ROUTES } from "./routes_recording.ts";
import { BRIDGE_ROUTES } from "./routes_bridge.ts";
import {
  LegSchema,
  MembershipSchema,
  RoomSchema,
  StatusSchema,
  WebhookSchema,
} from "../ops/schemas.ts";
import { z as zod } from "@hono/zod-openapi";

/** HTTP methods used by the API. */
export type Method = "get" | "post" | "put" | "patch" | "delete";

/** One documented success response. */
export interface SuccessResponse {
  readonly status: number;
  readonly description: string;
  readonly schema?: z.ZodType;
}

/** A REST route over an operation. */
export interface RouteDef {
  readonly method: Method;
  /** OpenAPI-style path, e.g. `/v1/rooms/{id}`. */
  readonly path: string;
  readonly tag: string;
  readonly op: Operation;
  readonly ok: SuccessResponse;
  /** Error statuses this route can produce besides the common ones. */
  readonly errors?: readonly number[];
  /**
   * Operation input key → path parameter name, where they differ (VSI payloads say `room_id`
   * and `leg_id` where REST paths say `{id}` and `{legID}`).
   */
  readonly pathNames?: Readonly<Record<string, string>>;
}

/** The operation's params schema keyed by the route's path parameter names. */
export function restParamsSchema(r: RouteDef): z.ZodObject | undefined {
  const params = r.op.params;
  if (!params || !r.pathNames) return params;
  const shape: Record<string, z.ZodType> = {};
  for (const [key, schema] of Object.entries(params.shape)) {
    shape[r.pathNames[key] ?? key] = schema as z.ZodType;
  }
  return zod.object(shape);
}

/** Maps path parameters (by path name) to operation input keys. */
export function paramsToInput(r: RouteDef, raw: Record<string, string>): Record<string, string> {
  if (!r.pathNames) return raw;
  const out: Record<string, string> = { ...raw };
  for (const [key, name] of Object.entries(r.pathNames)) {
    if (name in raw) {
      out[key] = raw[name];
      if (name !== key) delete out[name];
    }
  }
  return out;
}

const route = (r: RouteDef): RouteDef => r;

/** Core operation-backed routes (feature routes are appended in ROUTES). */
const CORE_ROUTES: readonly RouteDef[] = [
  route({
    method: "post",
    path: "/v1/legs",
    tag: "Legs",
    op: createLeg,
    ok: { status: 201, description: "Leg created (ringing)", schema: LegSchema },
    errors: [501, 503],
  }),
  route({
    method: "get",
    path: "/v1/legs",
    tag: "Legs",
    op: listLegs,
    ok: { status: 200, description: "Live legs", schema: zod.array(LegSchema) },
  }),
  route({
    method: "get",
    path: "/v1/legs/{id}",
    tag: "Legs",
    op: getLeg,
    ok: { status: 200, description: "The leg", schema: LegSchema },
  }),
  route({
    method: "delete",
    path: "/v1/legs/{id}",
    tag: "Legs",
    op: deleteLeg,
    ok: { status: 202, description: "Hangup queued", schema: StatusSchema },
  }),
  route({
    method: "post",
    path: "/v1/rooms",
    tag: "Rooms",
    op: createRoom,
    ok: { status: 201, description: "Room created", schema: RoomSchema },
    errors: [409],
  }),
  route({
    method: "get",
    path: "/v1/rooms",
    tag: "Rooms",
    op: listRooms,
    ok: { status: 200, description: "Rooms", schema: zod.array(RoomSchema) },
  }),
  route({
    method: "get",
    path: "/v1/rooms/{id}",
    tag: "Rooms",
    op: getRoom,
    ok: { status: 200, description: "The room", schema: RoomSchema },
  }),
  route({
    method: "delete",
    path: "/v1/rooms/{id}",
    tag: "Rooms",
    op: deleteRoom,
    ok: { status: 200, description: "Room deleted", schema: StatusSchema },
  }),
  route({
    method: "post",
    path: "/v1/rooms/{id}/legs",
    tag: "Rooms",
    op: addLegToRoom,
    ok: { status: 200, description: "Leg added or moved", schema: MembershipSchema },
    pathNames: { room_id: "id" },
  }),
  route({
    method: "delete",
    path: "/v1/rooms/{id}/legs/{legID}",
    tag: "Rooms",
    op: removeLegFromRoom,
    ok: { status: 200, description: "Leg removed", schema: StatusSchema },
    pathNames: { room_id: "id", leg_id: "legID" },
  }),
  ...([
    ["post", "/v1/legs/{id}/mute", muteLeg, "Leg muted"],
    ["delete", "/v1/legs/{id}/mute", unmuteLeg, "Leg unmuted"],
    ["post", "/v1/legs/{id}/deaf", deafLeg, "Leg deafened"],
    ["delete", "/v1/legs/{id}/deaf", undeafLeg, "Leg undeafened"],
  ] as const).map(([method, path, op, description]) =>
    route({ method, path, tag: "Legs", op, ok: { status: 200, description, schema: StatusSchema } })
  ),
  route({
    method: "post",
    path: "/v1/legs/{id}/answer",
    tag: "Legs",
    op: answerLeg,
    ok: { status: 202, description: "Answering", schema: StatusSchema },
    errors: [409],
  }),
  route({
    method: "post",
    path: "/v1/legs/{id}/early-media",
    tag: "Legs",
    op: earlyMediaLeg,
    ok: { status: 202, description: "Early media starting", schema: StatusSchema },
    errors: [409],
  }),
  route({
    method: "post",
    path: "/v1/legs/{id}/ring",
    tag: "Legs",
    op: ringLeg,
    ok: { status: 202, description: "Ringing sent", schema: StatusSchema },
    errors: [409],
  }),
  route({
    method: "post",
    path: "/v1/legs/{id}/hold",
    tag: "Legs",
    op: holdLeg,
    ok: { status: 202, description: "Holding", schema: StatusSchema },
    errors: [409],
  }),
  route({
    method: "delete",
    path: "/v1/legs/{id}/hold",
    tag: "Legs",
    op: unholdLeg,
    ok: { status: 202, description: "Unholding", schema: StatusSchema },
    errors: [409],
  }),
  route({
    method: "post",
    path: "/v1/legs/{id}/dtmf",
    tag: "Legs",
    op: sendLegDtmf,
    ok: { status: 200, description: "Digits queued", schema: StatusSchema },
    errors: [500],
  }),
  route({
    method: "post",
    path: "/v1/legs/{id}/dtmf/accept",
    tag: "Legs",
    op: acceptLegDtmf,
    ok: { status: 200, description: "DTMF delivery enabled", schema: StatusSchema },
  }),
  route({
    method: "post",
    path: "/v1/legs/{id}/dtmf/reject",
    tag: "Legs",
    op: rejectLegDtmf,
    ok: { status: 200, description: "DTMF delivery disabled", schema: StatusSchema },
  }),
  route({
    method: "post",
    path: "/v1/legs/{id}/rtt",
    tag: "Legs",
    op: sendLegRtt,
    ok: { status: 200, description: "Text sent", schema: StatusSchema },
    errors: [409],
  }),
  route({
    method: "post",
    path: "/v1/legs/{id}/rtt/accept",
    tag: "Legs",
    op: acceptLegRtt,
    ok: { status: 200, description: "RTT reception enabled", schema: StatusSchema },
  }),
  route({
    method: "post",
    path: "/v1/legs/{id}/rtt/reject",
    tag: "Legs",
    op: rejectLegRtt,
    ok: { status: 200, description: "RTT reception disabled", schema: StatusSchema },
  }),
  route({
    method: "post",
    path: "/v1/webhooks",
    tag: "Webhooks",
    op: createWebhook,
    ok: { status: 201, description: "Webhook registered", schema: WebhookSchema },
  }),
  route({
    method: "get",
    path: "/v1/webhooks",
    tag: "Webhooks",
    op: listWebhooks,
    ok: { status: 200, description: "Registered webhooks", schema: zod.array(WebhookSchema) },
  }),
  route({
    method: "delete",
    path: "/v1/webhooks/{id}",
    tag: "Webhooks",
    op: deleteWebhook,
    ok: { status: 200, description: "Webhook removed", schema: StatusSchema },
  }),
];

/** Every operation-backed route. */
export const ROUTES: readonly RouteDef[] = [
  ...CORE_ROUTES,
  ...PLAYBACK_ROUTES,
  ...RECORDING_ROUTES,
  ...BRIDGE_ROUTES,
];

/** `/v1/rooms/{id}` → `/v1/rooms/:id` (Hono's syntax). */
export function honoPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ":$1");
}

/** A regex matching concrete request paths for an OpenAPI path (for 405 detection). */
export function pathPattern(path: string): RegExp {
  const parts = path.split("/").map((seg) =>
    /^\{[^}]+\}$/.test(seg) ? "[^/]+" : seg.replace(/[.+*?^$()[\]{}|\\]/g, "\\$&")
  );
  return new RegExp(`^${parts.join("/")}/?$`);
}
