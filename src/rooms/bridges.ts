/**
 * Room bridges on the control plane: the registry of bridges between pairs of rooms, their
 * direction, and the wiring of their audio rings into both rooms' media workers.
 *
 * compat §1 "Room bridging": a bridge is stored with a canonical direction relative to room A
 * (the room it was created from): `bidirectional | a_to_b | b_to_a | none`. The REST/VSI views are
 * relative to the room the caller names: `send` means that room's audio goes to the other one,
 * `receive` the reverse. Events carry the canonical form with `room_a_id` / `room_b_id`.
 */
import { BadRequest, Conflict, NotFound } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import {
  BRIDGE_EXTERNAL_BASE,
  BRIDGE_EXTERNAL_SPAN,
  BRIDGE_RING_FRAMES,
} from "../media/bridge_protocol.ts";
import { PcmRing } from "../media/pcm_ring.ts";
import { frameBytes } from "../media/protocol.ts";
import { ensureMixer, type MembershipDeps } from "./membership.ts";
import type { Room } from "./room.ts";

/** Direction relative to the room a request names. */
export const RELATIVE_DIRECTIONS = ["bidirectional", "send", "receive", "none"] as const;
/** Direction relative to the room in the path: `send` = its audio goes to the other room. */
export type RelativeDirection = typeof RELATIVE_DIRECTIONS[number];

/** Direction relative to room A, as stored and as published in events. */
export type CanonicalDirection = "bidirectional" | "a_to_b" | "b_to_a" | "none";

/** Maps a direction relative to one room of the bridge to the canonical (room A) form. */
export function toCanonical(dir: RelativeDirection, pathIsA: boolean): CanonicalDirection {
  switch (dir) {
    case "bidirectional":
    case "none":
      return dir;
    case "send":
      return pathIsA ? "a_to_b" : "b_to_a";
    case "receive":
      return pathIsA ? "b_to_a" : "a_to_b";
  }
}

/** Maps a canonical direction to the form relative to room A (`pathIsA`) or room B. */
export function toRelative(dir: CanonicalDirection, pathIsA: boolean): RelativeDirection {
  switch (dir) {
    case "bidirectional":
    case "none":
      return dir;
    case "a_to_b":
      return pathIsA ? "send" : "receive";
    case "b_to_a":
      return pathIsA ? "receive" : "send";
  }
}

/** Which way audio flows for a canonical direction. */
export function flowOf(dir: CanonicalDirection): { aToB: boolean; bToA: boolean } {
  return {
    aToB: dir === "bidirectional" || dir === "a_to_b",
    bToA: dir === "bidirectional" || dir === "b_to_a",
  };
}

/** A live bridge between two rooms of the same sample rate. */
export interface Bridge {
  readonly id: string;
  readonly roomA: string;
  readonly roomB: string;
  readonly sampleRate: number;
  /** Mixer external id used on both sides (each room has its own mixer). */
  readonly externalId: number;
  readonly appId: string;
  direction: CanonicalDirection;
}

/** The contract's Bridge object, relative to one of its rooms (compat §2.5). */
export interface BridgeView {
  id: string;
  room_id: string;
  direction: RelativeDirection;
  sample_rate: number;
}

/** The contract view of `bridge` as seen from `roomId` (one of its two rooms). */
export function bridgeView(bridge: Bridge, roomId: string): BridgeView {
  const pathIsA = roomId === bridge.roomA;
  return {
    id: bridge.id,
    room_id: pathIsA ? bridge.roomB : bridge.roomA,
    direction: toRelative(bridge.direction, pathIsA),
    sample_rate: bridge.sampleRate,
  };
}

/** What the registry needs from the server. */
export interface BridgeDeps extends MembershipDeps {
  readonly logger: Logger;
}

/** Parameters of a new bridge, from the point of view of `roomId`. */
export interface CreateBridgeInput {
  readonly roomId: string;
  readonly peerRoomId: string;
  readonly direction?: RelativeDirection;
  readonly id?: string;
}

/** All bridges of one server. */
export class BridgeRegistry {
  readonly #deps: BridgeDeps;
  readonly #bridges = new Map<string, Bridge>();
  #nextExternal = 0;

  constructor(deps: BridgeDeps) {
    this.#deps = deps;
  }

  /** Number of live bridges. */
  get size(): number {
    return this.#bridges.size;
  }

  /**
   * Bridges `roomId` (room A) with `peerRoomId` (room B). Throws 400 for a self-bridge or a rate
   * mismatch, 404 for an unknown room, 409 when the pair (either order) or the id is taken.
   */
  create(input: CreateBridgeInput): Bridge {
    const { roomId, peerRoomId } = input;
    if (roomId === peerRoomId) throw new BadRequest("cannot bridge a room to itself");
    const a = this.#deps.rooms.require(roomId);
    const b = this.#deps.rooms.get(peerRoomId);
    if (!b) throw new NotFound(`room not found: ${peerRoomId}`);
    // compat §1: no resampling across a bridge; both mixers must run at one rate.
    if (a.sampleRate !== b.sampleRate) {
      throw new BadRequest(
        `sample rate mismatch: room ${a.id} is ${a.sampleRate} Hz, room ${b.id} is ${b.sampleRate} Hz`,
      );
    }
    if (input.id !== undefined && this.#bridges.has(input.id)) {
      throw new Conflict(`bridge ${input.id} already exists`);
    }
    for (const br of this.#bridges.values()) {
      if (
        (br.roomA === a.id && br.roomB === b.id) || (br.roomA === b.id && br.roomB === a.id)
      ) {
        throw new Conflict("bridge between these rooms already exists");
      }
    }
    const bridge: Bridge = {
      id: input.id ?? crypto.randomUUID(),
      roomA: a.id,
      roomB: b.id,
      sampleRate: a.sampleRate,
      externalId: BRIDGE_EXTERNAL_BASE + (this.#nextExternal++ % BRIDGE_EXTERNAL_SPAN),
      appId: a.appId,
      direction: toCanonical(input.direction ?? "bidirectional", true),
    };
    this.#bridges.set(bridge.id, bridge);
    this.#wire(bridge, a, b);
    this.#publish("room.bridged", bridge, a, { direction: bridge.direction });
    return bridge;
  }

  /** Bridges involving `roomId`, in creation order; 404 when the room does not exist. */
  list(roomId: string): Bridge[] {
    this.#deps.rooms.require(roomId);
    return [...this.#bridges.values()].filter((b) => b.roomA === roomId || b.roomB === roomId);
  }

  /** The bridge `bridgeId` if `roomId` is one of its rooms, else 404 `bridge not found`. */
  get(roomId: string, bridgeId: string): Bridge {
    const br = this.#bridges.get(bridgeId);
    if (!br || (br.roomA !== roomId && br.roomB !== roomId)) {
      throw new NotFound("bridge not found");
    }
    return br;
  }

  /** Changes the direction (relative to `roomId`) live, from the rooms' next ticks on. */
  update(roomId: string, bridgeId: string, direction: RelativeDirection): Bridge {
    const br = this.get(roomId, bridgeId);
    br.direction = toCanonical(direction, roomId === br.roomA);
    const flow = flowOf(br.direction);
    const media = this.#deps.media;
    media.postToRoom(br.roomA, {
      t: "bridge.direction",
      bridgeId: br.id,
      roomId: br.roomA,
      sends: flow.aToB,
      receives: flow.bToA,
    });
    media.postToRoom(br.roomB, {
      t: "bridge.direction",
      bridgeId: br.id,
      roomId: br.roomB,
      sends: flow.bToA,
      receives: flow.aToB,
    });
    this.#publish("room.bridge_updated", br, this.#deps.rooms.peek(br.roomA), {
      direction: br.direction,
    });
    return br;
  }

  /** Tears a bridge down and publishes `room.unbridged` (reason ""). */
  delete(roomId: string, bridgeId: string): void {
    const br = this.get(roomId, bridgeId);
    this.#remove(br);
    this.#publish("room.unbridged", br, this.#deps.rooms.peek(br.roomA), { reason: "" });
  }

  /** Tears down every bridge of a room being deleted (reason `room_deleted`). */
  roomDeleted(room: Room): void {
    for (const br of [...this.#bridges.values()]) {
      if (br.roomA !== room.id && br.roomB !== room.id) continue;
      this.#remove(br);
      // The deleted room's app and hook get it: it is the room whose lifecycle caused it.
      this.#publish("room.unbridged", br, room, { reason: "room_deleted" });
    }
  }

  #remove(br: Bridge): void {
    this.#bridges.delete(br.id);
    const media = this.#deps.media;
    media.postToRoom(br.roomA, { t: "bridge.detach", bridgeId: br.id, roomId: br.roomA });
    media.postToRoom(br.roomB, { t: "bridge.detach", bridgeId: br.id, roomId: br.roomB });
    this.#deps.logger.info("bridge removed", {
      bridge_id: br.id,
      room_a: br.roomA,
      room_b: br.roomB,
    });
  }

  /** Allocates the two rings and attaches one side per room (same worker or not). */
  #wire(br: Bridge, a: Room, b: Room): void {
    ensureMixer(this.#deps, a);
    ensureMixer(this.#deps, b);
    const bytes = frameBytes(br.sampleRate) * BRIDGE_RING_FRAMES;
    const aToB = PcmRing.allocate(bytes);
    const bToA = PcmRing.allocate(bytes);
    const flow = flowOf(br.direction);
    const media = this.#deps.media;
    media.postToRoom(a.id, {
      t: "bridge.attach",
      bridgeId: br.id,
      roomId: a.id,
      externalId: br.externalId,
      incoming: bToA,
      outgoing: aToB,
      sends: flow.aToB,
      receives: flow.bToA,
    });
    media.postToRoom(b.id, {
      t: "bridge.attach",
      bridgeId: br.id,
      roomId: b.id,
      externalId: br.externalId,
      incoming: aToB,
      outgoing: bToA,
      sends: flow.bToA,
      receives: flow.aToB,
    });
    this.#deps.logger.info("bridge created", {
      bridge_id: br.id,
      room_a: a.id,
      room_b: b.id,
      direction: br.direction,
      same_worker: media.roomWorkerIndex(a.id) === media.roomWorkerIndex(b.id),
    });
  }

  #publish(
    type: string,
    br: Bridge,
    room: Room | undefined,
    fields: Record<string, unknown>,
  ): void {
    // compat §2.2: bridge events carry bridge_id, room_a_id and room_b_id as their scope.
    this.#deps.bus.publish(type, {
      bridge_id: br.id,
      room_a_id: br.roomA,
      room_b_id: br.roomB,
      app_id: room?.appId ?? br.appId,
      ...fields,
    }, { webhook: room?.webhook });
  }
}
