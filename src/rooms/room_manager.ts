/**
 * Creates, looks up and deletes rooms, publishing `room.created` / `room.deleted`. Deleting a
 * room hangs up every leg in it with reason `room_deleted`.
 */
import type { EventBus } from "../events/bus.ts";
import type { WebhookTarget } from "../events/event.ts";
import type { RoomSampleRate } from "../config/types.ts";
import type { LegRegistry } from "../legs/leg_registry.ts";
import { Conflict, NotFound } from "../errors.ts";
import { Room } from "./room.ts";

/** Parameters of a new room. */
export interface CreateRoomInput {
  readonly id?: string;
  readonly sampleRate: RoomSampleRate;
  readonly appId?: string;
  readonly webhook?: WebhookTarget;
}

/** All rooms of this instance. */
export class RoomManager {
  readonly #rooms = new Map<string, Room>();
  readonly #bus: EventBus;
  readonly #legs: LegRegistry;

  readonly #onDeleted: (room: Room) => void;
  readonly #deleteHooks: ((room: Room) => void | Promise<void>)[] = [];

  constructor(bus: EventBus, legs: LegRegistry, onDeleted: (room: Room) => void = () => {}) {
    this.#bus = bus;
    this.#legs = legs;
    this.#onDeleted = onDeleted;
  }

  /** Creates a room; 409 when the id is taken (clients match on "already exists"). */
  create(input: CreateRoomInput): Room {
    const id = input.id ?? crypto.randomUUID();
    // A room still tearing down keeps its id until its legs are gone.
    if (this.#rooms.has(id)) throw new Conflict(`room ${id} already exists`);
    const room = new Room({ ...input, id });
    this.#rooms.set(id, room);
    this.#publish(room, "room.created");
    return room;
  }

  /** The live room (a room being deleted is no longer visible). */
  get(id: string): Room | undefined {
    const room = this.#rooms.get(id);
    return room && !room.deleting ? room : undefined;
  }

  /** The room even while it is being deleted (webhook routing of its last events). */
  peek(id: string): Room | undefined {
    return this.#rooms.get(id);
  }

  /** The room or a 404 `room not found`. */
  require(id: string): Room {
    const room = this.#rooms.get(id);
    if (!room || room.deleting) throw new NotFound("room not found");
    return room;
  }

  list(): Room[] {
    return [...this.#rooms.values()].filter((r) => !r.deleting);
  }

  get size(): number {
    return this.#rooms.size;
  }

  /**
   * Registers work to run when a room is deleted, after its legs are gone and before
   * `room.deleted` is published (features tear down bridges, finalize recordings, stop playback).
   */
  addDeleteHook(hook: (room: Room) => void | Promise<void>): void {
    this.#deleteHooks.push(hook);
  }

  /** Deletes a room: hangs up its legs (`room_deleted`), then publishes `room.deleted`. */
  async delete(id: string): Promise<void> {
    const room = this.require(id);
    room.deleting = true;
    const hangups: Promise<void>[] = [];
    for (const legId of room.legIds) {
      const leg = this.#legs.get(legId);
      if (leg) hangups.push(leg.hangup("room_deleted"));
    }
    await Promise.allSettled(hangups);
    for (const close of [...room.wsSlots]) close();
    for (const hook of this.#deleteHooks) {
      try {
        await hook(room);
      } catch {
        // A feature's teardown failure must not keep the room alive.
      }
    }
    room.legIds.clear();
    this.#rooms.delete(id);
    this.#onDeleted(room);
    this.#publish(room, "room.deleted");
  }

  #publish(room: Room, type: string): void {
    this.#bus.publish(type, { room_id: room.id, app_id: room.appId }, { webhook: room.webhook });
  }
}
