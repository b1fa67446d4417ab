/** The registry of live legs, keyed by id, in creation order. */
import type { Leg } from "./leg.ts";

/** Live legs of this instance. */
export class LegRegistry {
  readonly #legs = new Map<string, Leg>();

  /** Adds a leg; a duplicate id is a programming error. */
  add(leg: Leg): void {
    if (this.#legs.has(leg.id)) throw new Error(`Cannot add leg: duplicate id ${leg.id}`);
    this.#legs.set(leg.id, leg);
  }

  get(id: string): Leg | undefined {
    return this.#legs.get(id);
  }

  /** Removes a leg; returns whether it was present. */
  remove(id: string): boolean {
    return this.#legs.delete(id);
  }

  list(): Leg[] {
    return [...this.#legs.values()];
  }

  get size(): number {
    return this.#legs.size;
  }
}
