/**
 * WebSocket leg operations: the inbound upgrade `GET /v1/legs/websocket` and the outbound dial
 * `POST /v1/legs {"type":"websocket"}` (compat-notes §3.1).
 */
import { z } from "@hono/zod-openapi";
import { ApiError, BadRequest } from "../errors.ts";
import type { WsMediaTimings } from "../legs/ws_media.ts";
import { WebSocketLeg } from "../legs/websocket_leg.ts";
import type { LegRate } from "../media/protocol.ts";
import { joinRoom } from "../rooms/membership.ts";
import { legDeps } from "./leg_deps.ts";
import { defineOperation, type OpContext } from "./operation.ts";
import { HttpUrl, ResourceId } from "./schemas.ts";
import { receiveText } from "./rtt.ts";
import { createSipLeg } from "./sip_legs.ts";

const LEG_RATES = [8000, 16000, 24000, 48000] as const;

/** PCM rate of a WebSocket leg. */
export const LegSampleRate = z.union(
  LEG_RATES.map((r) => z.literal(r)) as [
    z.ZodLiteral<8000>,
    z.ZodLiteral<16000>,
    z.ZodLiteral<24000>,
    z.ZodLiteral<48000>,
  ],
  { error: "must be 8000, 16000, 24000 or 48000" },
).openapi({
  type: "integer",
  enum: [...LEG_RATES],
});

const WireFormatSchema = z.enum(["binary", "json_base64"], {
  error: "must be binary or json_base64",
});
const SampleFormatSchema = z.enum(["s16le"], { error: "must be s16le" });

/** Body of `POST /v1/legs`. */
export const CreateLegBody = z.object({
  type: z.string().min(1).openapi({
    description: "websocket or sip (whatsapp and livekit_room arrive with later milestones)",
  }),
  to: z.string().max(2048).optional().openapi({ description: "SIP URI to call (type sip)" }),
  uri: z.string().max(2048).optional().openapi({ description: "Deprecated alias of to" }),
  from: z.string().max(512).optional().openapi({ description: "Bare user or SIP URI" }),
  codecs: z.array(z.string().max(32)).max(16).optional(),
  url: z.string().max(2048).optional().openapi({ format: "uri" }),
  sample_rate: LegSampleRate.optional(),
  wire_format: WireFormatSchema.optional(),
  sample_format: SampleFormatSchema.optional(),
  headers: z.record(z.string(), z.string().max(4096)).optional(),
  room_id: ResourceId.optional(),
  rtt: z.boolean().optional(),
  ring_timeout: z.number().int().min(0).max(86_400).optional(),
  max_duration: z.number().int().min(0).max(7 * 86_400).optional(),
  app_id: z.string().max(256).optional(),
  webhook_url: HttpUrl.optional(),
  webhook_secret: z.string().max(1024).optional(),
  speech_detection: z.boolean().optional(),
  accept_dtmf: z.boolean().optional(),
  privacy: z.string().max(256).optional().openapi({
    description: "SIP Privacy header value, e.g. id or none (RFC 3323)",
  }),
  outbound_proxy: z.string().max(2048).optional().openapi({
    description: "Next-hop SIP proxy for this INVITE, sent as a loose Route header",
  }),
  auth: z.object({
    username: z.string().max(256).optional(),
    password: z.string().max(1024),
  }).nullable().optional().openapi({
    description: "Digest credentials for one retry on a 401/407 challenge (sip legs)",
  }),
}).openapi("CreateLegRequest");

/** Leg types of the contract that later milestones implement. */
const NOT_YET = new Set(["whatsapp", "livekit_room"]);

/** Default dial timeout when `ring_timeout` is 0 (a WebSocket handshake never legitimately rings). */
const DEFAULT_DIAL_TIMEOUT_MS = 30_000;

/** Joins the leg to `roomId` once it has media, creating the room when needed. */
function autoJoin(ctx: OpContext, roomId: string | undefined) {
  return (leg: WebSocketLeg) => {
    if (!roomId) return;
    try {
      const room = ctx.rooms.get(roomId) ??
        ctx.rooms.create({
          id: roomId,
          sampleRate: ctx.config.defaultSampleRate,
          appId: leg.appId,
        });
      joinRoom(ctx, leg, room);
    } catch (err) {
      leg.publish("leg.command_failed", {
        command: "add_to_room",
        error: err instanceof Error ? err.message : String(err),
      });
    }
  };
}

/** POST /v1/legs · create_leg */
export const createLeg = defineOperation({
  name: "create_leg",
  summary: "Originate an outbound leg",
  body: CreateLegBody,
  bodyRequired: true,
  run(ctx, input) {
    if (NOT_YET.has(input.type)) {
      throw new ApiError(501, `leg type ${input.type} is not available in this build yet`);
    }
    if (input.type === "sip") return createSipLeg(ctx, input);
    if (input.type !== "websocket") throw new BadRequest(`unsupported leg type: ${input.type}`);
    if (!input.url) throw new BadRequest("invalid url: required for websocket legs");
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      throw new BadRequest("invalid url: must be a ws:// or wss:// URL");
    }
    if (url.protocol !== "ws:" && url.protocol !== "wss:") {
      throw new BadRequest("invalid url: must be a ws:// or wss:// URL");
    }
    if (input.webhook_secret && !input.webhook_url) {
      throw new BadRequest("invalid webhook_secret: requires webhook_url");
    }
    const leg = new WebSocketLeg(
      {
        type: "websocket_out",
        state: "ringing",
        appId: input.app_id,
        webhook: input.webhook_url
          ? { url: input.webhook_url, secret: input.webhook_secret || undefined }
          : undefined,
        headers: input.headers ?? {},
      },
      {
        rate: (input.sample_rate ?? 16000) as LegRate,
        wireFormat: input.wire_format ?? "binary",
        rtt: input.rtt ?? false,
        speech: input.speech_detection ?? ctx.config.speechDetectionEnabled,
        onConnected: (l) => {
          l.setMaxDuration(input.max_duration ?? 0);
          autoJoin(ctx, input.room_id)(l);
        },
        onText: (l, text) => receiveText(ctx, l, text),
      },
      legDeps(ctx),
      ctx.media,
    );
    if (input.accept_dtmf !== undefined) leg.acceptDtmf = input.accept_dtmf;
    ctx.legs.add(leg);
    const ringMs = (input.ring_timeout ?? 0) > 0
      ? input.ring_timeout! * 1000
      : DEFAULT_DIAL_TIMEOUT_MS;
    leg.dial(url.href, input.headers ?? {}, ringMs);
    return { status: 201, body: leg.view() };
  },
});

/** Query of `GET /v1/legs/websocket`. */
export const WsLegQuery = z.object({
  sample_rate: z.string().optional().transform((s, ctx) => {
    if (s === undefined || s === "") return 16000 as LegRate;
    const n = Number(s);
    if (!(LEG_RATES as readonly number[]).includes(n)) {
      ctx.addIssue({ code: "custom", message: "must be 8000, 16000, 24000 or 48000" });
      return z.NEVER;
    }
    return n as LegRate;
  }),
  wire_format: WireFormatSchema.optional(),
  sample_format: SampleFormatSchema.optional(),
  room_id: ResourceId.optional(),
  app_id: z.string().max(256).optional(),
  rtt: z.enum(["true", "false", "1", "0", ""], { error: "must be true or false" }).optional(),
  webhook_url: HttpUrl.optional(),
  webhook_secret: z.string().max(1024).optional(),
  speech_detection: z.enum(["true", "false", "1", "0", ""], { error: "must be true or false" })
    .optional(),
});

/** Headers captured from a WebSocket upgrade into the leg's `headers` map. */
export function captureHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) {
    const lower = k.toLowerCase();
    if (lower.startsWith("x-") || lower.startsWith("p-") || lower === "authorization") {
      out[canonicalHeader(k)] = v;
    }
  }
  return out;
}

function canonicalHeader(name: string): string {
  return name.split("-").map((p) => p.charAt(0).toUpperCase() + p.slice(1).toLowerCase()).join("-");
}

/**
 * Validates an inbound WebSocket leg request and upgrades it. Validation errors are 400 JSON
 * before the upgrade.
 */
export function acceptWebSocketLeg(
  ctx: OpContext,
  req: Request,
  query: z.infer<typeof WsLegQuery>,
  timings?: WsMediaTimings,
): Response {
  if (!/\bwebsocket\b/i.test(req.headers.get("upgrade") ?? "")) {
    throw new BadRequest("expected a WebSocket upgrade request");
  }
  if (query.webhook_secret && !query.webhook_url) {
    throw new BadRequest("invalid webhook_secret: requires webhook_url");
  }
  ctx.media.requireCapacity();
  const flag = (v: string | undefined) => v === "true" || v === "1";
  // Read everything needed from the request first: Deno closes it at the upgrade.
  const headers = captureHeaders(req.headers);
  const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
  const leg = new WebSocketLeg(
    {
      type: "websocket_in",
      state: "ringing",
      appId: query.app_id,
      webhook: query.webhook_url
        ? { url: query.webhook_url, secret: query.webhook_secret || undefined }
        : undefined,
      headers,
    },
    {
      rate: query.sample_rate,
      wireFormat: query.wire_format ?? "binary",
      rtt: flag(query.rtt),
      speech: query.speech_detection !== undefined
        ? flag(query.speech_detection)
        : ctx.config.speechDetectionEnabled,
      timings,
      onConnected: autoJoin(ctx, query.room_id),
      onText: (l, text) => receiveText(ctx, l, text),
    },
    legDeps(ctx),
    ctx.media,
  );
  ctx.legs.add(leg);
  leg.acceptSocket(socket);
  return response;
}
