/**
 * Control-plane state of recordings: which leg or room is being recorded, to which file, paused
 * or not; the commands to the media workers that do the writing; and the mapping of their
 * events to `recording.*` events. A leg recording follows its leg: when the leg's endpoint leaves
 * a worker while the leg lives on (a move to a room mixed on another worker), the next segment
 * starts on the new worker and the segments are joined at the end. Room recordings stop by
 * themselves when the room's last leg leaves (compat §1 Recording) and when the room is deleted.
 */

import { basename, dirname, join } from "node:path";
import { ApiError, Conflict, NotFound } from "../errors.ts";
import type { PublishedEvent, WebhookTarget } from "../events/event.ts";
import type { BaseLeg } from "../legs/base_leg.ts";
import type { WorkerCommand } from "../media/protocol.ts";
import type { RecordingEvent } from "../media/recording_protocol.ts";
import type { Room } from "../rooms/room.ts";
import type { S3Target } from "../storage/s3_upload.ts";
import type { OpContext } from "./operation.ts";
import {
  assembleLegFile,
  finishedFields,
  type FinishResult,
  FRAME_MS,
  type PartResult,
  uploadResult,
} from "./recording_finish.ts";
import { removeQuietly } from "../media/recorder_files.ts";

/** How long a worker may take to open a recording file. */
const START_TIMEOUT_MS = 10_000;
/** How long a worker may take to finish a recording after it was told to stop. */
const STOP_TIMEOUT_MS = 30_000;
/** Channel cap of a multi-channel room recording; later participants are omitted. */
export const MAX_CHANNELS = 16;

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** What the start request resolved to (validated by the operation). */
export interface StartPlan {
  /** Final local path (reserved). */
  readonly file: string;
  /** Final multi-channel path (reserved), room recordings only. */
  readonly multiFile?: string;
  readonly s3?: S3Target;
  /** Every reserved path, released when the recording ends or fails to start. */
  readonly reserved: readonly string[];
}

/** One recording, from start request to `recording.finished`. */
class Session {
  readonly id = crypto.randomUUID();
  readonly started = deferred<void>();
  readonly finished = deferred<FinishResult>();
  /** Opened once `recording.started` is out, so `recording.finished` never precedes it. */
  readonly announced = deferred<void>();
  readonly parts: PartResult[] = [];
  paused = false;
  stopping = false;
  done = false;
  /** The start failed after the worker installed the recorder: drop whatever it produced. */
  abandoned = false;
  rate = 0;
  seg = 1;
  webhook: WebhookTarget | undefined;
  stopTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly kind: "leg" | "room",
    readonly targetId: string,
    readonly plan: StartPlan,
    readonly leg?: BaseLeg,
    readonly room?: Room,
  ) {
    this.started.promise.catch(() => {});
  }

  get workerId(): string {
    return `${this.id}.${this.seg}`;
  }

  partPath(seg: number): string {
    return join(dirname(this.plan.file), `.${basename(this.plan.file)}.seg${seg}.wav`);
  }
}

/** The recordings of one server. */
export class RecordingManager {
  /** Absolute paths of recordings in progress (see `reserveRecordingPath`). */
  readonly reserved = new Set<string>();
  readonly #ctx: OpContext;
  readonly #byWorkerId = new Map<string, Session>();
  readonly #byLeg = new Map<string, Session>();
  readonly #byRoom = new Map<string, Session>();
  readonly #starting = new Set<string>();
  /** Room id → a stopped recording still being finished (the delete hook waits for it). */
  readonly #finishingRooms = new Map<string, Promise<FinishResult>>();

  constructor(ctx: OpContext) {
    this.#ctx = ctx;
  }

  /** Throws 409 when `kind:id` is being recorded or a start for it is under way. */
  assertIdle(kind: "leg" | "room", id: string): void {
    const map = kind === "leg" ? this.#byLeg : this.#byRoom;
    if (map.has(id) || this.#starting.has(`${kind}:${id}`)) {
      throw new Conflict("recording already in progress");
    }
  }

  /**
   * Runs `prepare` (preflight, path reservation) while `kind:id` is marked as starting, so a
   * concurrent start answers 409; releases the reserved paths when anything fails.
   */
  async withStartLock<T>(kind: "leg" | "room", id: string, prepare: () => Promise<T>): Promise<T> {
    const key = `${kind}:${id}`;
    this.#starting.add(key);
    try {
      return await prepare();
    } finally {
      this.#starting.delete(key);
    }
  }

  /** Starts recording `leg` per `plan`; resolves once the worker has the file open. */
  async startLeg(leg: BaseLeg, plan: StartPlan): Promise<void> {
    const s = new Session("leg", leg.id, plan, leg);
    await this.#begin(s, () => this.#startSegment(s, 1), "leg has no media");
  }

  /** Starts recording `room` per `plan`; resolves once the worker has the file open. */
  async startRoom(room: Room, plan: StartPlan): Promise<void> {
    const s = new Session("room", room.id, plan, undefined, room);
    await this.#begin(s, () =>
      this.#ctx.media.postToRoom(room.id, {
        t: "record.room.start",
        recId: s.workerId,
        roomId: room.id,
        path: plan.file,
        multiPath: plan.multiFile ?? null,
        maxChannels: MAX_CHANNELS,
        paused: false,
      }), "room has no participants");
  }

  /** Stops the recording of `kind:id`; resolves with the local result. 404 when none. */
  stop(kind: "leg" | "room", id: string): Promise<FinishResult> {
    const s = (kind === "leg" ? this.#byLeg : this.#byRoom).get(id);
    if (s === undefined) throw new NotFound("no recording in progress");
    return this.#requestStop(s);
  }

  /** Pauses or resumes; returns the contract status. 404 when not recording. */
  setPaused(kind: "leg" | "room", id: string, paused: boolean): string {
    const s = (kind === "leg" ? this.#byLeg : this.#byRoom).get(id);
    if (s === undefined) throw new NotFound("no recording in progress");
    if (s.paused === paused) return paused ? "already_paused" : "not_paused";
    s.paused = paused;
    this.#post(s, { t: "record.pause", recId: s.workerId, paused });
    this.#publish(s, paused ? "recording.paused" : "recording.resumed", { file: s.plan.file });
    return paused ? "paused" : "resumed";
  }

  /** Worker events (`record.*`). */
  onWorkerEvent(ev: RecordingEvent): void {
    const s = this.#byWorkerId.get(ev.recId);
    if (s === undefined) return;
    if (ev.t === "record.started") {
      if (ev.ok) {
        if (s.rate === 0) s.rate = ev.rate;
        s.started.resolve();
        return;
      }
      // The worker uninstalled the recorder: no `record.done` follows.
      this.#byWorkerId.delete(ev.recId);
      if (s.seg === 1 && !s.stopping) {
        s.started.reject(new ApiError(500, `failed to create recording file: ${ev.error}`));
        return;
      }
      s.parts.push({
        path: s.partPath(s.seg),
        ok: false,
        frames: 0,
        startWallMs: 0,
        error: ev.error,
      });
      void this.#finishLeg(s);
      return;
    }
    this.#byWorkerId.delete(ev.recId);
    // A recorder that ends before its start was acknowledged still started.
    s.started.resolve();
    if (s.kind === "room") {
      const m = ev.multi;
      const plan = s.plan;
      void this.#finish(
        s,
        Promise.resolve({
          file: ev.ok ? plan.file : "",
          durationMs: ev.frames * FRAME_MS,
          error: ev.ok ? (m !== undefined && !m.ok ? m.error : undefined) : ev.error,
          multiFile: plan.multiFile === undefined ? undefined : m?.ok ? plan.multiFile : "",
          channels: m?.channels,
          omitted: m?.omitted,
        }),
      );
      return;
    }
    s.parts.push({
      path: s.partPath(s.seg),
      ok: ev.ok,
      frames: ev.frames,
      startWallMs: ev.startWallMs,
      error: ev.error,
    });
    const leg = s.leg!;
    const alive = this.#ctx.legs.get(leg.id) === leg && leg.state !== "hung_up";
    if (!s.stopping && ev.reason === "endpoint_gone" && alive && this.#startSegment(s, s.seg + 1)) {
      return;
    }
    void this.#finishLeg(s);
  }

  /** Bus events: a room's last leg leaving stops its recording; a leg hanging up ends its own. */
  onBusEvent(ev: PublishedEvent): void {
    if (ev.type === "leg.left_room") {
      const roomId = ev.envelope.room_id as string;
      const s = this.#byRoom.get(roomId);
      if (s !== undefined && (this.#ctx.rooms.peek(roomId)?.legIds.size ?? 0) === 0) {
        this.#ctx.background(this.#requestStop(s));
      }
    } else if (ev.type === "leg.disconnected") {
      const s = this.#byLeg.get(ev.envelope.leg_id as string);
      if (s === undefined) return;
      // The leg's routing is cleared after this event: later recording events go where it went.
      s.webhook = ev.webhook;
      // Its endpoint is already detached: the worker ends the recorder by itself.
      this.#ctx.background(this.#requestStop(s));
    }
  }

  /** Room delete hook: stops the room's recording and waits until its files are final. */
  async onRoomDeleted(room: Room): Promise<void> {
    const s = this.#byRoom.get(room.id);
    if (s !== undefined) void this.#requestStop(s);
    await this.#finishingRooms.get(room.id);
  }

  async #begin(s: Session, post: () => boolean, noMedia: string): Promise<void> {
    this.#byWorkerId.set(s.workerId, s);
    if (!post()) {
      this.#byWorkerId.delete(s.workerId);
      throw new Conflict(noMedia);
    }
    const timer = setTimeout(
      () => s.started.reject(new ApiError(500, "failed to create recording file: no answer")),
      START_TIMEOUT_MS,
    );
    try {
      await s.started.promise;
    } catch (err) {
      if (this.#byWorkerId.has(s.workerId)) {
        // Timed out with the recorder perhaps installed: stop it and drop its output.
        s.abandoned = true;
        void this.#requestStop(s);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
    if (!s.done && !s.stopping) {
      (s.kind === "leg" ? this.#byLeg : this.#byRoom).set(s.targetId, s);
    }
    this.#publish(s, "recording.started", this.#startedFields(s));
    s.announced.resolve();
  }

  #startedFields(s: Session): Record<string, unknown> {
    const f: Record<string, unknown> = { file: s.plan.file };
    if (s.plan.multiFile !== undefined) f.multi_channel_file = s.plan.multiFile;
    return f;
  }

  #startSegment(s: Session, seg: number): boolean {
    s.seg = seg;
    const recId = s.workerId;
    this.#byWorkerId.set(recId, s);
    const ok = this.#ctx.media.postToEndpoint(s.targetId, {
      t: "record.leg.start",
      recId,
      endpointId: s.targetId,
      path: s.partPath(seg),
      rate: s.rate,
      paused: s.paused,
    });
    if (!ok) this.#byWorkerId.delete(recId);
    return ok;
  }

  #post(s: Session, cmd: WorkerCommand): boolean {
    return s.kind === "leg"
      ? this.#ctx.media.postToEndpoint(s.targetId, cmd)
      : this.#ctx.media.postToRoom(s.targetId, cmd);
  }

  #requestStop(s: Session): Promise<FinishResult> {
    if (s.stopping || s.done) return s.finished.promise;
    s.stopping = true;
    const map = s.kind === "leg" ? this.#byLeg : this.#byRoom;
    if (map.get(s.targetId) === s) map.delete(s.targetId);
    if (s.kind === "room") {
      const p = s.finished.promise;
      this.#finishingRooms.set(s.targetId, p);
      p.finally(() => {
        if (this.#finishingRooms.get(s.targetId) === p) this.#finishingRooms.delete(s.targetId);
      });
    }
    // Unknown to the worker when a segment change is in flight: the old worker's
    // `record.done` then arrives with `stopping` set and ends the recording.
    this.#post(s, { t: "record.stop", recId: s.workerId });
    s.stopTimer = setTimeout(() => {
      if (s.done) return;
      const error = "media worker did not finish the recording";
      if (s.kind === "room") {
        void this.#finish(s, Promise.resolve({ file: "", durationMs: 0, error }));
      } else {
        s.parts.push({ path: s.partPath(s.seg), ok: false, frames: 0, startWallMs: 0, error });
        void this.#finishLeg(s);
      }
    }, STOP_TIMEOUT_MS);
    return s.finished.promise;
  }

  #finishLeg(s: Session): Promise<void> {
    return this.#finish(s, assembleLegFile(s.plan.file, s.rate, s.parts));
  }

  /** Settles a session once: releases its paths, resolves `finished`, then announces. */
  async #finish(s: Session, result: Promise<FinishResult>): Promise<void> {
    if (s.done) return;
    s.done = true;
    clearTimeout(s.stopTimer);
    for (const [id, other] of this.#byWorkerId) if (other === s) this.#byWorkerId.delete(id);
    const map = s.kind === "leg" ? this.#byLeg : this.#byRoom;
    if (map.get(s.targetId) === s) map.delete(s.targetId);
    const r = await result;
    for (const p of s.plan.reserved) this.reserved.delete(p);
    if (s.abandoned) {
      s.finished.resolve(r);
      await Promise.all([r.file, r.multiFile ?? ""].filter((p) => p !== "").map(removeQuietly));
      return;
    }
    const multi = s.plan.multiFile !== undefined;
    const s3 = s.plan.s3;
    if (s3 === undefined || r.file === "") {
      // Published before the stop request is answered, so its caller sees the event first.
      await s.announced.promise;
      this.#publish(s, "recording.finished", finishedFields(r, multi));
      s.finished.resolve(r);
      return;
    }
    // The stop request answers with the local file; the event waits for the upload.
    s.finished.resolve(r);
    this.#ctx.background((async () => {
      const up = await uploadResult(s3, r);
      if (up.error !== undefined && r.error === undefined) {
        this.#ctx.logger.warn("recording upload failed", { file: r.file, error: up.error });
      }
      await s.announced.promise;
      this.#publish(s, "recording.finished", finishedFields(up, multi));
    })());
  }

  #publish(s: Session, type: string, fields: Record<string, unknown>): void {
    if (s.kind === "room") {
      const room = s.room!;
      this.#ctx.bus.publish(type, { room_id: room.id, app_id: room.appId, ...fields }, {
        webhook: room.webhook,
      });
      return;
    }
    const leg = s.leg!;
    // After hang-up the leg's own routing is cleared; keep the target it had while live.
    if (leg.state !== "hung_up") {
      s.webhook = leg.webhook ??
        (leg.roomId !== undefined ? this.#ctx.rooms.peek(leg.roomId)?.webhook : undefined);
    }
    leg.publish(type, fields, s.webhook);
  }
}
