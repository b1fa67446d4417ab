/**
 * The media engine of one worker: its rooms (mixers), its endpoints and the 20 ms clock. Each
 * tick pulls one frame per member from its ingress ring, mixes every active room, and pushes each
 * member's mixed-minus-self frame to its egress ring; then it tells the main thread to drain.
 * Rooms without members, and a worker without endpoints, cost nothing: the clock stops.
 */
import { MediaClock } from "./clock.ts";
import { Endpoint } from "./endpoint.ts";
import { Mixer, type MixerSlot } from "./mixer.ts";
import type { ParticipantFlags, WorkerCommand, WorkerEvent } from "./protocol.ts";
import { SpeakingChange, SpeakingDetector } from "./speaking.ts";

/** How often the engine reports its load (ticks). */
const LOAD_EVERY_TICKS = 50;

interface Member {
  readonly ep: Endpoint;
  readonly slot: MixerSlot;
  readonly slotId: number;
  readonly detector: SpeakingDetector | undefined;
}

class RoomState {
  readonly id: string;
  readonly mixer: Mixer;
  readonly members = new Map<string, Member>();
  readonly #roles = new Map<string, number>();
  #matrix: Readonly<Record<string, readonly string[] | null>> | null = null;

  constructor(id: string, rate: number) {
    this.id = id;
    this.mixer = new Mixer(rate);
  }

  /** Room-local small integer for a role name ("" = 0, unroled). */
  roleIndex(role: string): number {
    if (role === "") return 0;
    let i = this.#roles.get(role);
    if (i === undefined) {
      i = this.#roles.size + 1;
      this.#roles.set(role, i);
      // A new role may appear in the matrix by name: rebuild so it is routed from now on.
      if (this.#matrix) this.#applyMatrix();
    }
    return i;
  }

  setMatrix(matrix: Readonly<Record<string, readonly string[] | null>> | null): void {
    this.#matrix = matrix;
    this.#applyMatrix();
  }

  #applyMatrix(): void {
    const m = this.#matrix;
    if (!m) {
      this.mixer.setRouting(null);
      return;
    }
    const table = new Map<number, readonly number[] | null>();
    for (const [listener, sources] of Object.entries(m)) {
      table.set(
        this.roleIndex(listener),
        sources === null ? null : sources.map((s) => this.roleIndex(s)),
      );
    }
    this.mixer.setRouting(table);
  }
}

/** Sends events to the main thread. */
export type EventSink = (ev: WorkerEvent) => void;

/** One worker's rooms, endpoints and clock. */
export class MediaEngine {
  readonly #emit: EventSink;
  readonly #rooms = new Map<string, RoomState>();
  readonly #endpoints = new Map<string, Endpoint>();
  readonly #memberOf = new Map<string, RoomState>();
  readonly #clock: MediaClock;
  #nextSlot = 1;
  #seq = 0;

  constructor(emit: EventSink, options: { periodMs?: number } = {}) {
    this.#emit = emit;
    this.#clock = new MediaClock(() => this.tick(), { periodMs: options.periodMs });
  }

  /** Applies one command from the main thread. */
  handle(cmd: WorkerCommand): void {
    switch (cmd.t) {
      case "room.create":
        if (!this.#rooms.has(cmd.roomId)) {
          this.#rooms.set(cmd.roomId, new RoomState(cmd.roomId, cmd.rate));
        }
        break;
      case "room.delete": {
        const room = this.#rooms.get(cmd.roomId);
        if (!room) break;
        for (const id of [...room.members.keys()]) this.#leave(id);
        this.#rooms.delete(cmd.roomId);
        break;
      }
      case "room.routing":
        this.#rooms.get(cmd.roomId)?.setMatrix(cmd.matrix);
        break;
      case "endpoint.attach":
        this.#endpoints.set(
          cmd.endpointId,
          new Endpoint(cmd.endpointId, cmd.rate, cmd.ingress, cmd.egress, cmd.speech),
        );
        this.#clock.start();
        break;
      case "endpoint.detach":
        this.#leave(cmd.endpointId);
        this.#endpoints.delete(cmd.endpointId);
        if (this.#endpoints.size === 0) this.#clock.stop();
        break;
      case "endpoint.join":
        this.#join(cmd.endpointId, cmd.roomId, cmd.flags);
        break;
      case "endpoint.leave":
        this.#leave(cmd.endpointId);
        break;
      case "endpoint.flags":
        this.#setFlags(cmd.endpointId, cmd.flags);
        break;
      case "stop":
        this.#clock.stop();
        break;
    }
  }

  /** Endpoints attached to this worker. */
  get endpointCount(): number {
    return this.#endpoints.size;
  }

  /** One 20 ms tick (public for tests and benchmarks that drive the engine directly). */
  tick(): void {
    for (const room of this.#rooms.values()) {
      if (room.members.size === 0) continue;
      for (const m of room.members.values()) {
        if (m.ep.pull()) {
          m.ep.toRoom(m.slot.input);
          m.slot.present = true;
        }
      }
      room.mixer.mix();
      for (const m of room.members.values()) {
        m.ep.sendFromRoom(m.slot.output);
        if (m.detector) this.#detect(room, m);
      }
    }
    for (const ep of this.#endpoints.values()) {
      if (this.#memberOf.has(ep.id)) continue;
      // Outside any room: consume what the leg sends and send it silence, once per tick.
      ep.pull();
      ep.sendSilence();
    }
    this.#seq++;
    if (this.#endpoints.size > 0) this.#emit({ t: "tick", seq: this.#seq });
    if (this.#seq % LOAD_EVERY_TICKS === 0) {
      const s = this.#clock.stats;
      let participants = 0;
      for (const r of this.#rooms.values()) participants += r.members.size;
      this.#emit({
        t: "load",
        utilization: s.avgWorkMs / this.#clock.periodMs,
        participants,
        rooms: this.#rooms.size,
        ticks: s.ticks,
        skipped: s.skipped,
        lateMs: s.lastLateMs,
      });
    }
  }

  #detect(room: RoomState, m: Member): void {
    const change = m.detector!.update(m.slot.muted ? 0 : m.slot.level);
    if (change === SpeakingChange.None) return;
    this.#emit({
      t: "speaking",
      endpointId: m.ep.id,
      roomId: room.id,
      speaking: change === SpeakingChange.Started,
    });
  }

  #join(id: string, roomId: string, flags: ParticipantFlags): void {
    const ep = this.#endpoints.get(id);
    const room = this.#rooms.get(roomId);
    if (!ep || !room) {
      this.#emit({
        t: "error",
        message: `join: unknown endpoint or room ${roomId}`,
        endpointId: id,
      });
      return;
    }
    this.#leave(id);
    ep.setRoomRate(room.mixer.sampleRate);
    const slotId = this.#nextSlot++;
    // Role, mute and deaf are set before the slot's first mix: no frame with stale routing.
    const slot = room.mixer.addSlot(slotId, {
      roleIndex: room.roleIndex(flags.role),
      muted: flags.muted,
      deaf: flags.deaf,
    });
    room.members.set(id, {
      ep,
      slot,
      slotId,
      detector: ep.speech ? new SpeakingDetector() : undefined,
    });
    this.#memberOf.set(id, room);
  }

  #leave(id: string): void {
    const room = this.#memberOf.get(id);
    if (!room) return;
    const m = room.members.get(id);
    if (m) {
      room.mixer.removeSlot(m.slotId);
      room.members.delete(id);
      if (m.detector?.speaking) {
        this.#emit({ t: "speaking", endpointId: id, roomId: room.id, speaking: false });
      }
    }
    this.#memberOf.delete(id);
  }

  #setFlags(id: string, flags: ParticipantFlags): void {
    const room = this.#memberOf.get(id);
    const m = room?.members.get(id);
    if (!room || !m) return;
    m.slot.muted = flags.muted;
    m.slot.deaf = flags.deaf;
    room.mixer.setRole(m.slotId, room.roleIndex(flags.role));
  }
}
