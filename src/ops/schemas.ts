/**
 * zod schemas of the contract's objects and shared field rules. They validate requests and
 * generate the served OpenAPI document, so the document always matches the code.
 */
import { z } from "@hono/zod-openapi";

const instanceId = z.string().openapi({ description: "Identifier of the server instance" });

/** Room and other caller-chosen ids: printable, no path or query delimiters, ≤128 chars. */
export const ResourceId = z.string().regex(/^[^\s/?#%\\]{1,128}$/, {
  error: "must be 1-128 characters without whitespace, '/', '?', '#', '%' or '\\'",
});

/** Path parameter for a leg id. */
export const LegIdParam = z.object({
  id: z.string().min(1).openapi({ param: { name: "id", in: "path" }, description: "Leg id" }),
});

/** Path parameter for a room id. */
export const RoomIdParam = z.object({
  id: z.string().min(1).openapi({ param: { name: "id", in: "path" }, description: "Room id" }),
});

/** http(s) URL for webhook targets. */
export const HttpUrl = z.string().max(2048).refine((s) => {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}, { error: "must be an absolute http:// or https:// URL" }).openapi({ format: "uri" });

/** Mixer rates a room may use. */
export const SampleRate = z.union([z.literal(8000), z.literal(16000), z.literal(48000)], {
  error: "must be 8000, 16000 or 48000",
}).openapi({ type: "integer", enum: [8000, 16000, 48000] });

/** The contract's Leg object. */
export const LegSchema = z.object({
  instance_id: instanceId.optional(),
  id: z.string(),
  type: z.enum([
    "sip_inbound",
    "sip_outbound",
    "webrtc",
    "whatsapp_in",
    "whatsapp_out",
    "websocket_in",
    "websocket_out",
    "moq_in",
    "livekit_publish",
    "livekit_participant",
  ]),
  state: z.enum(["ringing", "early_media", "connected", "held", "hung_up"]),
  room_id: z.string().optional(),
  muted: z.boolean(),
  deaf: z.boolean(),
  accept_dtmf: z.boolean(),
  held: z.boolean(),
  role: z.string().optional(),
  app_id: z.string().optional(),
  sip_headers: z.record(z.string(), z.string()).optional(),
  headers: z.record(z.string(), z.string()).optional(),
}).openapi("Leg");

/** The contract's Room object. */
export const RoomSchema = z.object({
  instance_id: instanceId.optional(),
  id: z.string(),
  app_id: z.string().optional(),
  sample_rate: z.number().int().openapi({ enum: [8000, 16000, 48000] }),
  participants: z.array(LegSchema),
}).openapi("Room");

/** The error envelope. */
export const ErrorSchema = z.object({
  instance_id: instanceId.optional(),
  error: z.string(),
}).openapi("Error");

/** `{status}` replies. */
export const StatusSchema = z.object({
  instance_id: instanceId.optional(),
  status: z.string(),
}).openapi("StatusResponse");

/** A registered webhook as returned by the API (never with its secret). */
export const WebhookSchema = z.object({
  instance_id: instanceId.optional(),
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()).optional(),
  has_secret: z.boolean(),
  created_at: z.string(),
}).openapi("Webhook");

/** Reply of add-to-room: `added`, or `moved` with the previous and new room. */
export const MembershipSchema = z.object({
  instance_id: instanceId.optional(),
  status: z.enum(["added", "moved"]),
  from: z.string().optional(),
  to: z.string().optional(),
}).openapi("AddLegResult");
