/**
 * Worker side of the recording feature: installs leg recorders (endpoint taps) and room
 * recorders (room `post` hooks), pauses and stops them, and finishes their files off the tick.
 * A leg recorder ends when its endpoint leaves this worker (hang-up, or a move to a room mixed
 * elsewhere — the control plane then starts the next segment on the new worker); a room recorder
 * ends when its room is deleted. Every installed recorder ends with exactly one `record.done`.
 */

import { basename, dirname } from "node:path";
import type { Feature, FeatureHost } from "./feature_host.ts";
import { LegRecorder } from "./recorder_leg.ts";
import { RoomRecorder } from "./recorder_room.ts";
import { RecordingSink } from "./recorder_sink.ts";
import type {
  RecordEndReason,
  RecordingCommand,
  RecordingEvent,
  RecordLegStart,
  RecordRoomStart,
} from "./recording_protocol.ts";

interface Active {
  readonly kind: "leg" | "room";
  /** Endpoint id (leg) or room id. */
  readonly target: string;
  readonly recorder: LegRecorder | RoomRecorder;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function hookKey(recId: string): string {
  return `record:${recId}`;
}

/** A fresh recording feature (one per worker; tests drive engines with their own). */
export function createRecordingFeature(): Feature {
  const active = new Map<string, Active>();

  const emit = (host: FeatureHost, ev: RecordingEvent) => host.emit(ev);

  /** Reports the file opened, or uninstalls a recorder whose file could not be created. */
  const watchReady = (host: FeatureHost, recId: string, a: Active, rate: number) => {
    a.recorder.sink.ready.then(
      () => emit(host, { t: "record.started", recId, ok: true, rate }),
      (err) => {
        // Already ended: its `record.done` carries the error instead.
        if (active.get(recId) !== a) return;
        uninstall(host, recId, a);
        if (a.recorder instanceof RoomRecorder) void a.recorder.discard();
        emit(host, { t: "record.started", recId, ok: false, rate, error: message(err) });
      },
    );
  };

  const uninstall = (host: FeatureHost, recId: string, a: Active) => {
    active.delete(recId);
    if (a.kind === "leg") host.endpoint(a.target)?.hooks.delete(hookKey(recId));
    else host.room(a.target)?.hooks.delete(hookKey(recId));
    host.wake();
  };

  const startLeg = (cmd: RecordLegStart, host: FeatureHost) => {
    const ep = host.endpoint(cmd.endpointId);
    if (ep === undefined || active.has(cmd.recId)) {
      const error = ep === undefined ? "media endpoint not found" : "recording id in use";
      emit(host, { t: "record.started", recId: cmd.recId, ok: false, rate: 0, error });
      return;
    }
    const roomId = ep.roomId();
    const mixRate = roomId !== undefined ? host.room(roomId)?.rate ?? ep.rate : ep.rate;
    const rate = cmd.rate > 0 ? cmd.rate : mixRate;
    const recorder = new LegRecorder(new RecordingSink(cmd.path, rate, 2), rate, cmd.paused);
    const a: Active = { kind: "leg", target: cmd.endpointId, recorder };
    active.set(cmd.recId, a);
    ep.hooks.set(hookKey(cmd.recId), recorder);
    host.wake();
    watchReady(host, cmd.recId, a, rate);
  };

  const startRoom = (cmd: RecordRoomStart, host: FeatureHost) => {
    const room = host.room(cmd.roomId);
    if (room === undefined || active.has(cmd.recId)) {
      const error = room === undefined ? "room mixer not found" : "recording id in use";
      emit(host, { t: "record.started", recId: cmd.recId, ok: false, rate: 0, error });
      return;
    }
    const multi = cmd.multiPath === null ? null : {
      path: cmd.multiPath,
      dir: dirname(cmd.multiPath),
      name: basename(cmd.multiPath),
      maxChannels: cmd.maxChannels,
    };
    const sink = new RecordingSink(cmd.path, room.rate, 1);
    const recorder = new RoomRecorder(room, sink, multi, cmd.paused);
    const a: Active = { kind: "room", target: cmd.roomId, recorder };
    active.set(cmd.recId, a);
    room.hooks.set(hookKey(cmd.recId), recorder);
    // A room with hooks keeps the clock running even when it has no members.
    host.wake();
    watchReady(host, cmd.recId, a, room.rate);
  };

  /** Uninstalls the recorder now (no further frames) and finishes its files in the background. */
  const end = (recId: string, reason: RecordEndReason, host: FeatureHost): Promise<void> => {
    const a = active.get(recId);
    if (a === undefined) return Promise.resolve();
    uninstall(host, recId, a);
    const r = a.recorder;
    const base = { t: "record.done" as const, recId, reason, startWallMs: r.startWallMs };
    if (r instanceof LegRecorder) {
      return r.sink.finish().then(
        (res) => emit(host, { ...base, ok: true, frames: r.frames, truncated: res.truncated }),
        (err) =>
          emit(host, {
            ...base,
            ok: false,
            error: message(err),
            frames: r.frames,
            truncated: false,
          }),
      );
    }
    return r.finish().then(
      (res) =>
        emit(host, {
          ...base,
          ok: true,
          frames: r.frames,
          truncated: res.mono.truncated,
          multi: res.multi,
        }),
      (err) =>
        emit(host, { ...base, ok: false, error: message(err), frames: r.frames, truncated: false }),
    );
  };

  const endWhere = (kind: "leg" | "room", target: string, why: RecordEndReason, h: FeatureHost) => {
    for (const [recId, a] of [...active]) {
      if (a.kind === kind && a.target === target) void end(recId, why, h);
    }
  };

  let lastHost: FeatureHost | undefined;

  return {
    prefix: "record.",
    handle(raw, host) {
      lastHost = host;
      const cmd = raw as RecordingCommand;
      switch (cmd.t) {
        case "record.leg.start":
          return startLeg(cmd, host);
        case "record.room.start":
          return startRoom(cmd, host);
        case "record.stop":
          // Unknown ids are ignored: the recorder already ended and reported `record.done`.
          void end(cmd.recId, "stopped", host);
          return;
        case "record.pause": {
          const a = active.get(cmd.recId);
          if (a !== undefined) a.recorder.paused = cmd.paused;
          return;
        }
        default:
          throw new Error(`Unknown media command ${(raw as { t: string }).t}`);
      }
    },
    roomGone(roomId, host) {
      endWhere("room", roomId, "room_gone", host);
    },
    endpointGone(endpointId, host) {
      endWhere("leg", endpointId, "endpoint_gone", host);
    },
    async close() {
      // Worker shutdown: finish what can be finished; the process may end before it completes.
      const host = lastHost;
      if (host === undefined) return;
      await Promise.all([...active.keys()].map((id) => end(id, "closed", host)));
    },
  };
}

/** The recording feature of this worker. */
export const recordingFeature: Feature = createRecordingFeature();
