/** REST routes of the playback feature (openapi `/legs/{id}/play…`, `/rooms/{id}/play…`). */
import type { RouteDef } from "./routes.ts";
import {
  legPlayStart,
  legPlayStop,
  legPlayVolume,
  PlaybackStartSchema,
  roomPlayStart,
  roomPlayStop,
  roomPlayVolume,
} from "../ops/playback.ts";
import { StatusSchema } from "../ops/schemas.ts";

const PB = { playback_id: "playbackID" } as const;

/** Routes of this feature. */
export const PLAYBACK_ROUTES: readonly RouteDef[] = [
  {
    method: "post",
    path: "/v1/legs/{id}/play",
    tag: "Legs",
    op: legPlayStart,
    ok: { status: 200, description: "Playback started", schema: PlaybackStartSchema },
    errors: [409],
  },
  {
    method: "patch",
    path: "/v1/legs/{id}/play/{playbackID}",
    tag: "Legs",
    op: legPlayVolume,
    ok: { status: 200, description: "Volume updated", schema: StatusSchema },
    pathNames: PB,
  },
  {
    method: "delete",
    path: "/v1/legs/{id}/play/{playbackID}",
    tag: "Legs",
    op: legPlayStop,
    ok: { status: 200, description: "Playback stopped", schema: StatusSchema },
    pathNames: PB,
  },
  {
    method: "post",
    path: "/v1/rooms/{id}/play",
    tag: "Rooms",
    op: roomPlayStart,
    ok: { status: 200, description: "Playback started", schema: PlaybackStartSchema },
    errors: [409],
  },
  {
    method: "patch",
    path: "/v1/rooms/{id}/play/{playbackID}",
    tag: "Rooms",
    op: roomPlayVolume,
    ok: { status: 200, description: "Volume updated", schema: StatusSchema },
    pathNames: PB,
  },
  {
    method: "delete",
    path: "/v1/rooms/{id}/play/{playbackID}",
    tag: "Rooms",
    op: roomPlayStop,
    ok: { status: 200, description: "Playback stopped", schema: StatusSchema },
    pathNames: PB,
  },
];
