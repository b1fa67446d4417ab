/**
 * Recording operations (compat §1 "Recording"): start, stop, pause and resume a leg recording
 * (stereo WAV, left = what the leg says, right = what it hears) or a room recording (mono room
 * mix, optionally plus one channel per participant), to local files or S3. REST and VSI
 * (`leg_record_*`, `room_record_*`) share these operations.
 */
import { z } from "@hono/zod-openapi";
import { ApiError, BadRequest, Conflict, NotFound } from "../errors.ts";
import type { BaseLeg } from "../legs/base_leg.ts";
import {
  defaultRecordingName,
  reserveRecordingPath,
  validateRecordingFilename,
} from "../media/recording_names.ts";
import type { RecordingEvent } from "../media/recording_protocol.ts";
import { preflightBucket, resolveS3Target, type S3Target } from "../storage/s3_upload.ts";
import { defineOperation, type OpContext, type Operation } from "./operation.ts";
import { RecordingManager, type StartPlan } from "./recording_sessions.ts";
import { LegIdParam, RoomIdParam } from "./schemas.ts";
import { requireLeg } from "./leg_lookup.ts";

/** Budget of the HeadBucket probe run inside record-start (openapi S3_REQUEST_PREFLIGHT_TIMEOUT). */
const PREFLIGHT_TIMEOUT_MS = 2000;

const instanceId = z.string().optional().openapi({ description: "Server instance identifier" });
const s3Field = (max: number, description: string) =>
  z.string().max(max).optional().openapi({ description });

/** Body of `POST …/record` (an empty body records to a local file with a generated name). */
export const RecordingRequest = z.object({
  storage: z.enum(["file", "s3", "gcs"], { error: "must be file, s3 or gcs" }).optional().openapi({
    description: "file (default): RECORDING_DIR only; s3: also uploaded after the recording " +
      "ends; gcs: not supported by this server (400)",
  }),
  filename: z.string().optional().openapi({
    description: "Name of the WAV in RECORDING_DIR (one path segment; .wav is appended when " +
      "missing). 409 when it exists or is in use. Default: YYYYMMDD_HHMMSS_<8 hex>.wav",
  }),
  multi_channel: z.boolean().optional().openapi({
    description: "Rooms only: also write <name>_multichannel.wav with one channel per " +
      "participant in order of joining (at most 16)",
  }),
  s3_bucket: s3Field(255, "Bucket; overrides S3_BUCKET"),
  s3_region: s3Field(64, "Region; overrides S3_REGION (default us-east-1)"),
  s3_endpoint: s3Field(2048, "S3-compatible endpoint URL; overrides S3_ENDPOINT"),
  s3_prefix: s3Field(1024, "Key prefix; overrides S3_PREFIX"),
  s3_access_key: s3Field(256, "Access key id; requires s3_secret_key"),
  s3_secret_key: s3Field(1024, "Secret access key; requires s3_access_key"),
  gcs_bucket: z.string().max(255).optional().openapi({ description: "Unused (no GCS)" }),
  gcs_object_name_prefix: z.string().max(1024).optional().openapi({
    description: "Unused (no GCS)",
  }),
}).openapi("RecordingRequest");

type RecordingInput = z.infer<typeof RecordingRequest>;

/** A participant's channel in a multi-channel file. */
export const ChannelInfoSchema = z.object({
  channel: z.number().int(),
  start_ms: z.number().int(),
  end_ms: z.number().int(),
}).openapi("ChannelInfo");

/** Reply of record-start. */
export const RecordingStartResultSchema = z.object({
  instance_id: instanceId,
  status: z.string(),
  file: z.string().openapi({ description: "Final local path; the file appears at stop" }),
  multi_channel_file: z.string().optional(),
}).openapi("RecordingStartResult");

/** Reply of a leg's record-stop. */
export const RecordingStopLegResultSchema = z.object({
  instance_id: instanceId,
  status: z.string(),
  file: z.string().openapi({ description: "Local path of the finished file; empty if lost" }),
}).openapi("RecordingStopLegResult");

/** Reply of a room's record-stop. */
export const RecordingStopRoomResultSchema = z.object({
  instance_id: instanceId,
  status: z.string(),
  file: z.string(),
  multi_channel_file: z.string().optional(),
  channels: z.record(z.string(), ChannelInfoSchema).optional(),
  omitted_legs: z.array(z.string()).optional(),
}).openapi("RecordingStopRoomResult");

/** Reply of pause and resume. */
export const RecordingPauseResumeResultSchema = z.object({
  instance_id: instanceId,
  status: z.enum(["paused", "already_paused", "resumed", "not_paused"]),
}).openapi("RecordingPauseResumeResult");

const managers = new WeakMap<OpContext, RecordingManager>();

/** Wires worker events, auto-stop and the room delete hook; called once at start-up. */
export function attachRecording(ctx: OpContext): void {
  if (managers.has(ctx)) return;
  const mgr = new RecordingManager(ctx);
  managers.set(ctx, mgr);
  ctx.media.onFeatureEvent("record.", (ev) => mgr.onWorkerEvent(ev as RecordingEvent));
  ctx.bus.subscribe((ev) => mgr.onBusEvent(ev));
  ctx.rooms.addDeleteHook((room) => mgr.onRoomDeleted(room));
}

function manager(ctx: OpContext): RecordingManager {
  attachRecording(ctx);
  return managers.get(ctx)!;
}

function hasMedia(leg: BaseLeg): boolean {
  return "mediaEndpoint" in leg && (leg as { mediaEndpoint: unknown }).mediaEndpoint !== undefined;
}

/** The S3 target of a request, or undefined for local files. Throws 400. */
function storageOf(ctx: OpContext, input: RecordingInput): S3Target | undefined {
  switch (input.storage ?? "file") {
    case "file":
      return undefined;
    case "gcs":
      throw new BadRequest("storage gcs is not supported by this server");
    default: {
      const c = ctx.config;
      return resolveS3Target(input, {
        s3Bucket: c.s3Bucket,
        s3Region: c.s3Region,
        s3Endpoint: c.s3Endpoint,
        s3Prefix: c.s3Prefix,
      });
    }
  }
}

function fileName(input: RecordingInput): string {
  return input.filename !== undefined
    ? validateRecordingFilename(input.filename)
    : defaultRecordingName(new Date());
}

/** `x.wav` → `x_multichannel.wav`. */
function multiChannelName(name: string): string {
  return `${name.replace(/\.wav$/i, "")}_multichannel.wav`;
}

async function reserve(ctx: OpContext, mgr: RecordingManager, name: string): Promise<string> {
  try {
    return await reserveRecordingPath(ctx.config.recordingDir, name, mgr.reserved);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(500, `failed to create recording file: ${(err as Error).message}`);
  }
}

/** Probes the bucket, then reserves the file names (409 when taken). */
async function prepare(
  ctx: OpContext,
  mgr: RecordingManager,
  opts: { name: string; multi: boolean; s3?: S3Target; signal?: AbortSignal },
): Promise<StartPlan> {
  if (opts.s3 !== undefined) {
    await preflightBucket(opts.s3, { timeoutMs: PREFLIGHT_TIMEOUT_MS, signal: opts.signal });
  }
  const file = await reserve(ctx, mgr, opts.name);
  if (!opts.multi) return { file, s3: opts.s3, reserved: [file] };
  try {
    const multiFile = await reserve(ctx, mgr, multiChannelName(opts.name));
    return { file, multiFile, s3: opts.s3, reserved: [file, multiFile] };
  } catch (err) {
    mgr.reserved.delete(file);
    throw err;
  }
}

function release(mgr: RecordingManager, plan: StartPlan): void {
  for (const p of plan.reserved) mgr.reserved.delete(p);
}

/** POST /v1/legs/{id}/record · leg_record_start */
export const legRecordStart = defineOperation({
  name: "leg_record_start",
  summary: "Start recording a leg (stereo: left = what it says, right = what it hears)",
  params: LegIdParam,
  body: RecordingRequest,
  async run(ctx, input, { signal }) {
    const leg = requireLeg(ctx, input.id);
    const mgr = manager(ctx);
    const s3 = storageOf(ctx, input);
    const name = fileName(input);
    mgr.assertIdle("leg", leg.id);
    if (!hasMedia(leg)) throw new Conflict("leg has no media");
    const plan = await mgr.withStartLock("leg", leg.id, async () => {
      const plan = await prepare(ctx, mgr, { name, multi: false, s3, signal });
      try {
        if (ctx.legs.get(leg.id) !== leg || leg.state === "hung_up") {
          throw new NotFound("leg not found");
        }
        await mgr.startLeg(leg, plan);
      } catch (err) {
        release(mgr, plan);
        throw err;
      }
      return plan;
    });
    return { status: 200, body: { status: "recording", file: plan.file } };
  },
});

/** POST /v1/rooms/{id}/record · room_record_start */
export const roomRecordStart = defineOperation({
  name: "room_record_start",
  summary: "Start recording a room's mix (mono; multi_channel adds one channel per participant)",
  params: RoomIdParam,
  body: RecordingRequest,
  async run(ctx, input, { signal }) {
    const room = ctx.rooms.require(input.id);
    const mgr = manager(ctx);
    const s3 = storageOf(ctx, input);
    const name = fileName(input);
    mgr.assertIdle("room", room.id);
    // compat §1: room-WebSocket slots are not participants for this 409.
    if (room.legIds.size === 0) throw new Conflict("room has no participants");
    const multi = input.multi_channel === true;
    const plan = await mgr.withStartLock("room", room.id, async () => {
      const plan = await prepare(ctx, mgr, { name, multi, s3, signal });
      try {
        if (ctx.rooms.get(room.id) !== room) throw new NotFound("room not found");
        if (room.legIds.size === 0) throw new Conflict("room has no participants");
        await mgr.startRoom(room, plan);
      } catch (err) {
        release(mgr, plan);
        throw err;
      }
      return plan;
    });
    const body: Record<string, unknown> = { status: "recording", file: plan.file };
    if (plan.multiFile !== undefined) body.multi_channel_file = plan.multiFile;
    return { status: 200, body };
  },
});

/** DELETE /v1/legs/{id}/record · leg_record_stop — answers once the file is published. */
export const legRecordStop = defineOperation({
  name: "leg_record_stop",
  summary: "Stop recording a leg",
  params: LegIdParam,
  async run(ctx, input) {
    requireLeg(ctx, input.id);
    const r = await manager(ctx).stop("leg", input.id);
    return { status: 200, body: { status: "stopped", file: r.file } };
  },
});

/** DELETE /v1/rooms/{id}/record · room_record_stop — answers once the files are published. */
export const roomRecordStop = defineOperation({
  name: "room_record_stop",
  summary: "Stop recording a room",
  params: RoomIdParam,
  async run(ctx, input) {
    ctx.rooms.require(input.id);
    const r = await manager(ctx).stop("room", input.id);
    const body: Record<string, unknown> = { status: "stopped", file: r.file };
    if (r.multiFile !== undefined) {
      body.multi_channel_file = r.multiFile;
      body.channels = r.channels ?? {};
      if (r.omitted !== undefined && r.omitted.length > 0) body.omitted_legs = [...r.omitted];
    }
    return { status: 200, body };
  },
});

function pauseOp(kind: "leg" | "room", paused: boolean) {
  const verb = paused ? "pause" : "resume";
  return defineOperation({
    name: `${kind}_record_${verb}`,
    summary: paused
      ? `Pause a ${kind} recording (silence keeps the timeline)`
      : `Resume a paused ${kind} recording`,
    params: kind === "leg" ? LegIdParam : RoomIdParam,
    run(ctx, input) {
      if (kind === "leg") requireLeg(ctx, input.id);
      else ctx.rooms.require(input.id);
      const status = manager(ctx).setPaused(kind, input.id, paused);
      return { status: 200, body: { status } };
    },
  });
}

/** POST /v1/legs/{id}/record/pause · leg_record_pause */
export const legRecordPause = pauseOp("leg", true);
/** POST /v1/legs/{id}/record/resume · leg_record_resume */
export const legRecordResume = pauseOp("leg", false);
/** POST /v1/rooms/{id}/record/pause · room_record_pause */
export const roomRecordPause = pauseOp("room", true);
/** POST /v1/rooms/{id}/record/resume · room_record_resume */
export const roomRecordResume = pauseOp("room", false);

/** Operations of this feature, reachable over VSI. */
export const RECORDING_OPS: readonly Operation[] = [
  legRecordStart,
  legRecordStop,
  legRecordPause,
  legRecordResume,
  roomRecordStart,
  roomRecordStop,
  roomRecordPause,
  roomRecordResume,
] as Operation[];
