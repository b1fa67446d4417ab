/**
 * The operation table and the VSI command adapter. A VSI command's payload carries the path
 * parameters and body fields of its REST twin in one object.
 */
import { z } from "@hono/zod-openapi";
import { BadRequest } from "../errors.ts";
import type { OpCallOptions, OpContext, Operation, OpResult } from "./operation.ts";
import { createRoom, deleteRoom, getRoom, listRooms } from "./rooms.ts";
import { deleteLeg, getLeg, listLegs } from "./legs.ts";
import { createWebhook, deleteWebhook, listWebhooks } from "./webhooks.ts";
import { describeIssues } from "./validation.ts";
import {
  addLegToRoom,
  deafLeg,
  muteLeg,
  removeLegFromRoom,
  undeafLeg,
  unmuteLeg,
} from "./membership.ts";
import { createLeg } from "./ws_legs.ts";
import { PLAYBACK_OPS } from "./playback.ts";
import { RTT_OPS } from "./rtt.ts";
import { RECORDING_OPS } from "./recording.ts";
import { BRIDGE_OPS } from "./bridge.ts";
import { SIP_LEG_OPS } from "./sip_legs.ts";
import { SIP_MEDIA_OPS } from "./sip_media.ts";

/** Every operation reachable over VSI, by command name. */
export const OPERATIONS: ReadonlyMap<string, Operation> = new Map<string, Operation>(
  ([
    createLeg,
    addLegToRoom,
    removeLegFromRoom,
    muteLeg,
    unmuteLeg,
    deafLeg,
    undeafLeg,
    listLegs,
    getLeg,
    deleteLeg,
    listRooms,
    getRoom,
    createRoom,
    deleteRoom,
    createWebhook,
    listWebhooks,
    deleteWebhook,
    ...RTT_OPS,
    ...PLAYBACK_OPS,
    ...RECORDING_OPS,
    ...BRIDGE_OPS,
    ...SIP_LEG_OPS,
    ...SIP_MEDIA_OPS,
  ] as Operation[]).map((op) => [op.name, op]),
);

const payloadSchemas = new WeakMap<Operation, z.ZodType>();

/** The combined params+body schema of an operation, for VSI payloads. */
function payloadSchema(op: Operation): z.ZodType {
  let schema = payloadSchemas.get(op);
  if (!schema) {
    const shape: z.ZodRawShape = { ...(op.params?.shape ?? {}) };
    if (op.body instanceof z.ZodObject) Object.assign(shape, op.body.shape);
    schema = z.object(shape);
    payloadSchemas.set(op, schema);
  }
  return schema;
}

/**
 * Runs VSI command `name` with `payload`. Throws ApiError: 400 `unknown command: x`,
 * 400 `invalid payload: …`, or whatever the operation throws.
 */
export async function runCommand(
  ctx: OpContext,
  name: string,
  payload: unknown,
  options: OpCallOptions = {},
): Promise<OpResult> {
  const op = OPERATIONS.get(name);
  if (!op) throw new BadRequest(`unknown command: ${name}`);
  const raw = payload === undefined || payload === null ? {} : payload;
  const parsed = payloadSchema(op).safeParse(raw);
  if (!parsed.success) throw new BadRequest(`invalid payload: ${describeIssues(parsed.error)}`);
  // deno-lint-ignore no-explicit-any
  return await op.run(ctx, parsed.data as any, options);
}
