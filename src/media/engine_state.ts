/**
 * The state a media engine keeps per room and per endpoint: a room's mixer, members, hooks and
 * routing roles; an endpoint's hooks, room and cross-worker relay. The engine (`engine.ts`) drives
 * them every tick.
 */
import { Endpoint } from "./endpoint.ts";
import type { RelayRings } from "./endpoint_io.ts";
import type { EndpointHooks, EndpointView, RoomHooks, RoomView } from "./feature_host.ts";
import { MAX_ROLE, Mixer, type MixerSlot } from "./mixer.ts";
import type { SpeakingDetector } from "./speaking.ts";

/** One endpoint in one room: its mixer slot and per-tick flags. */
export interface Member {
  readonly ep: EngineEndpoint;
  readonly slot: MixerSlot;
  readonly slotId: number;
  readonly detector: SpeakingDetector | undefined;
  /** Whether the slot's input was filled this tick (the mixer clears `present` itself). */
  had: boolean;
  /** The member's routing role name ("" = unroled). */
  role: string;
}

/** An endpoint as the engine holds it. */
export class EngineEndpoint extends Endpoint implements EndpointView {
  readonly hooks = new Map<string, EndpointHooks>();
  room: RoomState | undefined;
  /** Set while the endpoint's room is mixed on another worker (its socket stays here). */
  relay: RelayRings | undefined;
  roomId(): string | undefined {
    return this.room?.id;
  }
}

/** A room as the engine holds it: mixer, members, hooks, routing roles. */
export class RoomState implements RoomView {
  readonly id: string;
  readonly rate: number;
  readonly mixer: Mixer;
  readonly members = new Map<string, Member>();
  readonly hooks = new Map<string, RoomHooks>();
  readonly #roles = new Map<string, number>();
  #matrix: Readonly<Record<string, readonly string[] | null>> | null = null;

  constructor(id: string, rate: number) {
    this.id = id;
    this.rate = rate;
    this.mixer = new Mixer(rate);
  }

  get active(): boolean {
    return this.members.size > 0 || this.hooks.size > 0;
  }

  memberIds(): Iterable<string> {
    return this.members.keys();
  }

  memberOutput(endpointId: string): Int16Array | undefined {
    return this.members.get(endpointId)?.slot.output;
  }

  memberInput(endpointId: string): Int16Array | undefined {
    const m = this.members.get(endpointId);
    return m !== undefined && m.had ? m.slot.input : undefined;
  }

  /**
   * Room-local small integer for a role name ("" = 0, unroled). A role first seen after the
   * matrix was applied is in no row, so the prepared table stays valid. When the mixer's role
   * space is used up (names that came and went), indices are reassigned from the roles still in
   * use; the mixer applies the new roles and table together at its next mix.
   */
  roleIndex(role: string): number {
    if (role === "") return 0;
    let i = this.#roles.get(role);
    if (i === undefined) {
      if (this.#roles.size >= MAX_ROLE) this.#compactRoles();
      i = this.#roles.size + 1;
      this.#roles.set(role, i);
    }
    return i;
  }

  #compactRoles(): void {
    this.#roles.clear();
    for (const m of this.members.values()) {
      if (m.role !== "") this.mixer.setRole(m.slotId, this.roleIndex(m.role));
    }
    this.#applyMatrix();
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
