/** REST routes of the recording feature (compat §1 "Recording"): `…/record`, `/pause`, `/resume`. */
import type { Operation } from "../ops/operation.ts";
import {
  legRecordPause,
  legRecordResume,
  legRecordStart,
  legRecordStop,
  RecordingPauseResumeResultSchema,
  RecordingStartResultSchema,
  RecordingStopLegResultSchema,
  RecordingStopRoomResultSchema,
  roomRecordPause,
  roomRecordResume,
  roomRecordStart,
  roomRecordStop,
} from "../ops/recording.ts";
import type { RouteDef } from "./routes.ts";

function scope(base: "legs" | "rooms", ops: {
  start: Operation;
  stop: Operation;
  pause: Operation;
  resume: Operation;
}): RouteDef[] {
  const tag = base === "legs" ? "Legs" : "Rooms";
  const path = `/v1/${base}/{id}/record`;
  return [
    {
      method: "post",
      path,
      tag,
      op: ops.start,
      ok: { status: 200, description: "Recording started", schema: RecordingStartResultSchema },
      // 500: the recording file could not be created.
      errors: [404, 409, 500],
    },
    {
      method: "delete",
      path,
      tag,
      op: ops.stop,
      ok: {
        status: 200,
        description: "Recording stopped and its file published",
        schema: base === "legs" ? RecordingStopLegResultSchema : RecordingStopRoomResultSchema,
      },
      errors: [404],
    },
    {
      method: "post",
      path: `${path}/pause`,
      tag,
      op: ops.pause,
      ok: {
        status: 200,
        description: "Recording paused (or already paused)",
        schema: RecordingPauseResumeResultSchema,
      },
      errors: [404],
    },
    {
      method: "post",
      path: `${path}/resume`,
      tag,
      op: ops.resume,
      ok: {
        status: 200,
        description: "Recording resumed (or was not paused)",
        schema: RecordingPauseResumeResultSchema,
      },
      errors: [404],
    },
  ];
}

/** Routes of this feature. */
export const RECORDING_ROUTES: readonly RouteDef[] = [
  ...scope("legs", {
    start: legRecordStart,
    stop: legRecordStop,
    pause: legRecordPause,
    resume: legRecordResume,
  }),
  ...scope("rooms", {
    start: roomRecordStart,
    stop: roomRecordStop,
    pause: roomRecordPause,
    resume: roomRecordResume,
  }),
];
