/**
 * Control plane of playback (compat-notes §1 "Playback", "Playback volume"): start, stop and
 * re-level files and tones on a leg or a room. The media worker of the target fetches, decodes
 * and plays; this side validates, tracks live playbacks (for 404s and room teardown) and turns
 * worker events into `playback.started` / `playback.finished` / `playback.error`.
 */
import { resolve } from "node:path";
import { z } from "@hono/zod-openapi";
import { BadRequest, Conflict, NotFound } from "../errors.ts";
import type { WebhookTarget } from "../events/event.ts";
import { BaseLeg } from "../legs/base_leg.ts";
import { checkAudioUrl } from "../media/audio_fetch.ts";
import type {
  PlaybackCommand,
  PlaybackEvent,
  PlaybackSource,
  PlaybackTarget,
} from "../media/playback_protocol.ts";
import type { WorkerCommand } from "../media/protocol.ts";
import { ensureMixer } from "../rooms/membership.ts";
import type { Room } from "../rooms/room.ts";
import { defineOperation, type OpContext, type Operation } from "./operation.ts";

// ── schemas ────────────────────────────────────────────────────────────────

const VOLUME_ERROR = "must be an integer -8..8";
const Volume = z.number({ error: VOLUME_ERROR }).int({ error: VOLUME_ERROR })
  .min(-8, { error: VOLUME_ERROR }).max(8, { error: VOLUME_ERROR })
  .openapi({ description: "Volume step, about 3 dB each (0 = unchanged)" });

const REPEAT_ERROR = "must be -1 (forever) or a count of 0 or more";

/** Body of `POST /v1/legs/{id}/play` and `POST /v1/rooms/{id}/play`. */
export const PlaybackBody = z.object({
  url: z.string().max(4096).optional().openapi({
    format: "uri",
    description: "http(s) URL of a WAV, MP3 or raw PCM file (exclusive with tone)",
  }),
  tone: z.string().max(64).optional().openapi({
    description: "Built-in tone: {us,gb,de,fr,au,jp,it,in,br,pl,ru}_{ringback,busy,dial," +
      "congestion}, or a bare type meaning US (exclusive with url)",
  }),
  mime_type: z.string().max(256).optional().openapi({
    description: "Media type of the file, e.g. audio/wav or audio/pcm;rate=16000",
  }),
  repeat: z.number({ error: REPEAT_ERROR }).int({ error: REPEAT_ERROR })
    .min(-1, { error: REPEAT_ERROR }).optional().openapi({
      description: "Times to play: 0 or 1 once, N times, -1 forever (url only)",
    }),
  volume: Volume.optional(),
}).openapi("PlaybackRequest");

/** Body of `PATCH …/play/{playbackID}`. */
export const VolumeBody = z.object({ volume: Volume }).openapi("VolumeRequest");

/** Reply of a playback start. */
export const PlaybackStartSchema = z.object({
  instance_id: z.string().optional(),
  playback_id: z.string().openapi({ example: "pb-1a2b3c4d" }),
  status: z.literal("playing"),
}).openapi("PlaybackStartResult");

const IdParam = (what: string) =>
  z.string().min(1).openapi({ param: { name: "id", in: "path" }, description: `${what} id` });
const PlaybackIdParam = z.string().min(1).openapi({
  param: { name: "playbackID", in: "path" },
  description: "Playback id",
});

// ── tracking ───────────────────────────────────────────────────────────────

/** Times a leg playback follows its leg to another worker before giving up. */
const MAX_MOVES = 8;
/** How long a room deletion waits for its playbacks to report `finished`. */
const ROOM_TEARDOWN_MS = 2000;

interface Tracked {
  readonly id: string;
  readonly leg?: BaseLeg;
  readonly room?: Room;
  readonly start: Extract<PlaybackCommand, { t: "play.start" }>;
  volume: number;
  started: boolean;
  stopping: boolean;
  moves: number;
  /** The leg's event target while it lived (its events may outlast its hook, compat §1). */
  webhook: WebhookTarget | undefined;
  readonly gone: () => void;
  readonly done: Promise<void>;
}

/** Live playbacks of one server, and the mapping of worker events to bus events. */
class PlaybackRegistry {
  readonly #ctx: OpContext;
  readonly #active = new Map<string, Tracked>();

  constructor(ctx: OpContext) {
    this.#ctx = ctx;
    ctx.media.onFeatureEvent("play.", (ev) => this.#onEvent(ev as PlaybackEvent));
    ctx.rooms.addDeleteHook((room) => this.#roomDeleted(room));
  }

  start(
    target: { leg: BaseLeg } | { room: Room },
    source: PlaybackSource,
    repeat: number,
    volume: number,
  ): string {
    const id = newPlaybackId();
    const to: PlaybackTarget = "leg" in target
      ? { kind: "endpoint", endpointId: target.leg.id }
      : { kind: "room", roomId: target.room.id };
    let gone = () => {};
    const done = new Promise<void>((r) => gone = r);
    const t: Tracked = {
      id,
      ...target,
      start: {
        t: "play.start",
        playbackId: id,
        target: to,
        source,
        repeat,
        volume,
        allowFile: source.kind === "url" && isLocal(source.url),
      },
      volume,
      started: false,
      stopping: false,
      moves: 0,
      webhook: undefined,
      gone,
      done,
    };
    if (t.leg) t.webhook = this.#legTarget(t.leg);
    this.#active.set(id, t);
    this.#post(t, t.start);
    return id;
  }

  /** The playback `id` on that leg or room, or 404. */
  require(kind: "leg" | "room", targetId: string, id: string): Tracked {
    const t = this.#active.get(id);
    const owner = kind === "leg" ? t?.leg?.id : t?.room?.id;
    if (!t || owner !== targetId) throw new NotFound("playback not found");
    return t;
  }

  stop(t: Tracked): void {
    t.stopping = true;
    // The worker answers with `finished{stopped}`; if the endpoint is mid-move, `detached` does.
    this.#post(t, { t: "play.stop", playbackId: t.id });
  }

  setVolume(t: Tracked, volume: number): void {
    t.volume = volume;
    this.#post(t, { t: "play.volume", playbackId: t.id, volume });
  }

  #post(t: Tracked, cmd: WorkerCommand): boolean {
    return t.leg
      ? this.#ctx.media.postToEndpoint(t.leg.id, cmd)
      : this.#ctx.media.postToRoom(t.room!.id, cmd);
  }

  #onEvent(ev: PlaybackEvent): void {
    const t = this.#active.get(ev.playbackId);
    if (!t) return;
    switch (ev.t) {
      case "play.started":
        // A playback that followed its leg to another worker starts there again: report once.
        if (!t.started) {
          t.started = true;
          this.#publish(t, "playback.started", {});
        }
        return;
      case "play.finished":
        this.#forget(t);
        this.#publish(t, "playback.finished", { reason: ev.reason, played_ms: ev.playedMs });
        return;
      case "play.error":
        this.#forget(t);
        this.#publish(t, "playback.error", { error: ev.error });
        return;
      case "play.detached": {
        // The endpoint left its worker: a move to another worker (follow it) or the leg's end.
        const resumed = !t.stopping && t.moves++ < MAX_MOVES &&
          this.#post(t, { ...t.start, volume: t.volume, resume: ev.resume });
        if (resumed) return;
        this.#forget(t);
        this.#publish(t, "playback.finished", {
          reason: "stopped",
          played_ms: Math.round(ev.resume.playedMs),
        });
        return;
      }
    }
  }

  #forget(t: Tracked): void {
    this.#active.delete(t.id);
    t.gone();
  }

  /** Stops the room's playbacks so `playback.finished` precedes `room.deleted`. */
  async #roomDeleted(room: Room): Promise<void> {
    const mine = [...this.#active.values()].filter((t) => t.room === room);
    if (mine.length === 0) return;
    for (const t of mine) this.stop(t);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((r) => timer = setTimeout(r, ROOM_TEARDOWN_MS));
    await Promise.race([Promise.all(mine.map((t) => t.done)), timeout]);
    clearTimeout(timer);
    for (const t of mine) {
      if (!this.#active.has(t.id)) continue;
      this.#forget(t);
      this.#publish(t, "playback.finished", { reason: "stopped", played_ms: 0 });
    }
  }

  #legTarget(leg: BaseLeg): WebhookTarget | undefined {
    return leg.webhook ??
      (leg.roomId !== undefined ? this.#ctx.rooms.peek(leg.roomId)?.webhook : undefined);
  }

  #publish(t: Tracked, type: string, fields: Record<string, unknown>): void {
    const all = { playback_id: t.id, ...fields };
    const leg = t.leg;
    if (leg) {
      // compat §2.2: leg playback events carry leg_id only; a live leg routes as usual.
      if (leg.state !== "hung_up") {
        t.webhook = this.#legTarget(leg);
        leg.publish(type, all);
      } else {
        leg.publish(type, all, t.webhook);
      }
      return;
    }
    const room = t.room!;
    this.#ctx.bus.publish(type, { room_id: room.id, app_id: room.appId, ...all }, {
      webhook: room.webhook,
    });
  }
}

const registries = new WeakMap<OpContext, PlaybackRegistry>();

function registryOf(ctx: OpContext): PlaybackRegistry {
  let r = registries.get(ctx);
  if (!r) {
    r = new PlaybackRegistry(ctx);
    registries.set(ctx, r);
  }
  return r;
}

/** `pb-` and 8 hex digits. */
function newPlaybackId(): string {
  const b = crypto.getRandomValues(new Uint8Array(4));
  return "pb-" + [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

// ── validation ─────────────────────────────────────────────────────────────

function isLocal(url: string): boolean {
  return url.startsWith("/") || url.toLowerCase().startsWith("file:");
}

/** The path a local source names (an absolute path or a `file:` URL). */
function localPath(url: string): string {
  if (url.startsWith("/")) return url;
  try {
    return decodeURIComponent(new URL(url).pathname);
  } catch {
    throw new BadRequest("invalid url: invalid URL");
  }
}

/** Checks a start request beyond its schema; returns the source to play. */
function checkRequest(
  ctx: OpContext,
  input: z.infer<typeof PlaybackBody>,
): { source: PlaybackSource; repeat: number; volume: number } {
  const hasUrl = input.url !== undefined && input.url !== "";
  const hasTone = input.tone !== undefined && input.tone !== "";
  if (hasUrl === hasTone) throw new BadRequest("exactly one of url or tone is required");
  const repeat = input.repeat === undefined || input.repeat === 0 ? 1 : input.repeat;
  const volume = input.volume ?? 0;
  if (!hasUrl) return { source: { kind: "tone", name: input.tone! }, repeat, volume };
  const url = input.url!;
  try {
    checkAudioUrl(url, { allowFile: true });
  } catch (err) {
    throw new BadRequest(`invalid ${(err as Error).message}`);
  }
  if (isLocal(url)) {
    // Local files only from the recordings directory: the process may read other files
    // (TLS keys) that must never be played out to a caller.
    const dir = resolve(ctx.config.recordingDir);
    const path = resolve(localPath(url));
    if (!path.startsWith(dir + "/")) {
      throw new BadRequest("invalid url: local files must be under RECORDING_DIR");
    }
  }
  return { source: { kind: "url", url, mimeType: input.mime_type }, repeat, volume };
}

function requireLeg(ctx: OpContext, id: string): BaseLeg {
  const leg = ctx.legs.get(id);
  if (!(leg instanceof BaseLeg) || leg.state === "hung_up") throw new NotFound("leg not found");
  return leg;
}

/** A leg the media plane can write to (compat: 409 when the leg has no writer). */
function requireWritable(leg: BaseLeg): void {
  const media = "mediaEndpoint" in leg
    ? (leg as { mediaEndpoint: unknown }).mediaEndpoint !== undefined
    : false;
  if (media) return;
  throw new Conflict(leg.state === "ringing" ? "leg is not connected" : "leg has no media");
}

// ── operations ─────────────────────────────────────────────────────────────

/** POST /v1/legs/{id}/play · leg_play_start */
export const legPlayStart = defineOperation({
  name: "leg_play_start",
  summary: "Play a file or a tone to a leg",
  params: z.object({ id: IdParam("Leg") }),
  body: PlaybackBody,
  bodyRequired: true,
  run(ctx, input) {
    const leg = requireLeg(ctx, input.id);
    const { source, repeat, volume } = checkRequest(ctx, input);
    requireWritable(leg);
    const id = registryOf(ctx).start({ leg }, source, repeat, volume);
    return { status: 200, body: { playback_id: id, status: "playing" } };
  },
});

/** POST /v1/rooms/{id}/play · room_play_start — every participant hears it. */
export const roomPlayStart = defineOperation({
  name: "room_play_start",
  summary: "Play a file or a tone into a room",
  params: z.object({ id: IdParam("Room") }),
  body: PlaybackBody,
  bodyRequired: true,
  run(ctx, input) {
    const room = ctx.rooms.require(input.id);
    const { source, repeat, volume } = checkRequest(ctx, input);
    if (room.legIds.size === 0) throw new Conflict("room has no participants");
    ensureMixer(ctx, room);
    const id = registryOf(ctx).start({ room }, source, repeat, volume);
    return { status: 200, body: { playback_id: id, status: "playing" } };
  },
});

function lookup(ctx: OpContext, kind: "leg" | "room", id: string, playbackId: string) {
  if (kind === "leg") requireLeg(ctx, id);
  else ctx.rooms.require(id);
  return registryOf(ctx).require(kind, id, playbackId);
}

function stopOp(kind: "leg" | "room") {
  return defineOperation({
    name: `${kind}_play_stop`,
    summary: kind === "leg" ? "Stop a playback on a leg" : "Stop a playback in a room",
    params: z.object({
      id: IdParam(kind === "leg" ? "Leg" : "Room"),
      playback_id: PlaybackIdParam,
    }),
    run(ctx, input) {
      const r = registryOf(ctx);
      r.stop(lookup(ctx, kind, input.id, input.playback_id));
      return { status: 200, body: { status: "stopped" } };
    },
  });
}

function volumeOp(kind: "leg" | "room") {
  return defineOperation({
    name: `${kind}_play_volume`,
    summary: kind === "leg"
      ? "Change the volume of a playback on a leg"
      : "Change the volume of a playback in a room",
    params: z.object({
      id: IdParam(kind === "leg" ? "Leg" : "Room"),
      playback_id: PlaybackIdParam,
    }),
    body: VolumeBody,
    bodyRequired: true,
    run(ctx, input) {
      const r = registryOf(ctx);
      r.setVolume(lookup(ctx, kind, input.id, input.playback_id), input.volume);
      return { status: 200, body: { status: "ok" } };
    },
  });
}

/** DELETE /v1/legs/{id}/play/{playbackID} · leg_play_stop */
export const legPlayStop = stopOp("leg");
/** DELETE /v1/rooms/{id}/play/{playbackID} · room_play_stop */
export const roomPlayStop = stopOp("room");
/** PATCH /v1/legs/{id}/play/{playbackID} · leg_play_volume */
export const legPlayVolume = volumeOp("leg");
/** PATCH /v1/rooms/{id}/play/{playbackID} · room_play_volume */
export const roomPlayVolume = volumeOp("room");

/** Operations of this feature, reachable over VSI. */
export const PLAYBACK_OPS: readonly Operation[] = [
  legPlayStart,
  legPlayStop,
  legPlayVolume,
  roomPlayStart,
  roomPlayStop,
  roomPlayVolume,
] as Operation[];

/** Wires worker playback events to the bus and room teardown; called once at start-up. */
export function attachPlayback(ctx: OpContext): void {
  registryOf(ctx);
}
