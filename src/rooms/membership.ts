/**
 * Room membership: adding, moving and removing legs, and their mute/deaf/role flags. Flags are
 * applied to the media plane in the same message as the join, so a leg never contributes or
 * receives one frame with stale flags (compat: routing applied atomically at join).
 */
import { BadRequest } from "../errors.ts";
import type { Leg } from "../legs/leg.ts";
import type { BaseLeg } from "../legs/base_leg.ts";
import type { EventBus } from "../events/bus.ts";
import type { MediaPlane } from "../media_plane/worker_pool.ts";
import type { ParticipantFlags } from "../media/protocol.ts";
import type { Room } from "./room.ts";
import type { RoomManager } from "./room_manager.ts";

/** What membership needs from the server. */
export interface MembershipDeps {
  readonly rooms: RoomManager;
  readonly media: MediaPlane;
  readonly bus: EventBus;
}

/** Optional flags applied atomically with the join. */
export interface JoinFlags {
  readonly mute?: boolean;
  readonly deaf?: boolean;
  readonly role?: string;
  readonly acceptDtmf?: boolean;
}

/** A leg with a media endpoint in the media plane. */
function hasMedia(leg: Leg): boolean {
  return "mediaEndpoint" in leg && (leg as { mediaEndpoint: unknown }).mediaEndpoint !== undefined;
}

/** The participant flags of a leg as the mixer sees them. */
export function participantFlags(leg: BaseLeg): ParticipantFlags {
  return { muted: leg.muted, deaf: leg.deaf, role: leg.role };
}

const mixerCreated: ((deps: MembershipDeps, room: Room) => void)[] = [];

/**
 * Registers work that runs right after a room's mixer is created and before any join reaches it
 * (a stored routing matrix), so state the worker needs arrives ahead of the first mixed frame.
 */
export function onMixerCreated(fn: (deps: MembershipDeps, room: Room) => void): void {
  mixerCreated.push(fn);
}

/** Creates the room's mixer on first use (an empty room costs no worker). */
export function ensureMixer(deps: MembershipDeps, room: Room, nearEndpoint?: string): void {
  if (room.mixerReady) return;
  deps.media.createRoom(room.id, room.sampleRate, nearEndpoint);
  room.mixerReady = true;
  for (const fn of mixerCreated) fn(deps, room);
}

/**
 * Puts `leg` into `room`, moving it out of its current room if needed. Returns `added` or
 * `moved` with the previous room id. 400 when the leg is not connected or already there.
 */
export function joinRoom(
  deps: MembershipDeps,
  leg: BaseLeg,
  room: Room,
  flags: JoinFlags = {},
): { status: "added" } | { status: "moved"; from: string; to: string } {
  if (leg.state !== "connected" && leg.state !== "held" && leg.state !== "early_media") {
    throw new BadRequest("leg is not connected");
  }
  if (leg.roomId === room.id) throw new BadRequest(`leg is already in room ${room.id}`);
  if (!hasMedia(leg)) throw new BadRequest("leg has no media");
  if (flags.mute !== undefined) leg.muted = flags.mute;
  if (flags.deaf !== undefined) leg.deaf = flags.deaf;
  if (flags.role !== undefined) leg.role = flags.role;
  if (flags.acceptDtmf !== undefined) leg.acceptDtmf = flags.acceptDtmf;
  const from = leg.roomId;
  if (from !== undefined) leaveRoom(deps, leg);
  ensureMixer(deps, room, leg.id);
  room.legIds.add(leg.id);
  leg.roomId = room.id;
  deps.media.join(leg.id, room.id, participantFlags(leg));
  leg.publish("leg.joined_room", { room_id: room.id });
  return from !== undefined ? { status: "moved", from, to: room.id } : { status: "added" };
}

/** Takes `leg` out of its room (no-op when it is in none) and publishes `leg.left_room`. */
export function leaveRoom(deps: MembershipDeps, leg: BaseLeg): void {
  const roomId = leg.roomId;
  if (roomId === undefined) return;
  deps.rooms.peek(roomId)?.legIds.delete(leg.id);
  deps.media.leave(leg.id);
  leg.publish("leg.left_room", { room_id: roomId });
  leg.roomId = undefined;
}

/** Pushes a leg's current mute/deaf/role to its mixer. */
export function syncFlags(deps: MembershipDeps, leg: BaseLeg): void {
  if (leg.roomId !== undefined) deps.media.setFlags(leg.id, participantFlags(leg));
}
