/**
 * The application side of the SIP benchmark: watches `leg.ringing` on the VSI WebSocket, answers
 * each leg over REST one at a time and seats the answered legs in rooms by a plan.
 */
import { call } from "../helpers/server.ts";
import { sleep } from "../helpers/pcm_client.ts";
import type { Json } from "./sip_bench_util.ts";

/** A REST call that throws unless it succeeded; the parsed body, `{}` when empty. */
export async function rest(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Json> {
  const r = await call(base, method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return (r.json ?? {}) as Json;
}

/** How the legs answered from now on are grouped into rooms. */
export interface RoomPlan {
  readonly perRoom: number;
  readonly roomIds: readonly string[];
  /** Answer count when the plan began. */
  readonly base: number;
  /**
   * Seat rooms across workers on purpose (consecutive answers together), so every room has legs
   * on both workers — the relay-ring path; otherwise each room's legs share a worker.
   */
  readonly split: boolean;
  readonly members: Map<string, number[]>;
  readonly seats: { legId: string; room: string }[];
}

/** Plays the application: answers every ringing leg in order and seats it by the plan. */
export class App {
  readonly #base: string;
  readonly #ws: WebSocket;
  readonly opened: Promise<void>;
  readonly #connected = new Map<string, PromiseWithResolvers<void>>();
  readonly #queue: { legId: string; call: number }[] = [];
  #pumping = false;
  answered = 0;
  plan: RoomPlan | undefined;
  readonly errors: string[] = [];

  constructor(base: string) {
    this.#base = base;
    this.#ws = new WebSocket(base.replace(/^http/, "ws") + "/v1/vsi");
    this.opened = new Promise((resolve, reject) => {
      this.#ws.onopen = () => resolve();
      this.#ws.onerror = () => reject(new Error("VSI connect failed"));
    });
    this.#ws.onmessage = (ev) => this.#onFrame(String(ev.data));
  }

  #onFrame(text: string): void {
    const f = JSON.parse(text) as Json;
    const data = (f.data ?? {}) as Json;
    const legId = String(f.leg_id ?? data.leg_id ?? "");
    switch (f.type) {
      case "ping":
        this.#ws.send('{"type":"pong"}');
        return;
      case "leg.ringing": {
        const to = String(f.to ?? data.to ?? "");
        if (!/^c\d+$/.test(to)) return;
        this.#queue.push({ legId, call: Number(to.slice(1)) });
        void this.#pump();
        return;
      }
      case "leg.connected":
        this.#connectedOf(legId).resolve();
        return;
      case "leg.command_failed":
        this.errors.push(`${legId}: ${String(f.command ?? data.command)} ${f.error ?? data.error}`);
        return;
    }
  }

  #connectedOf(legId: string): PromiseWithResolvers<void> {
    let w = this.#connected.get(legId);
    if (!w) {
      w = Promise.withResolvers<void>();
      this.#connected.set(legId, w);
    }
    return w;
  }

  /** Answers one leg at a time, so media workers are picked in a known alternation. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        const { legId, call } = this.#queue.shift()!;
        try {
          await rest(this.#base, "POST", `/v1/legs/${legId}/answer`);
        } catch (err) {
          this.errors.push(String(err));
          continue;
        }
        const k = this.answered++;
        const plan = this.plan;
        if (plan && plan.perRoom > 0) this.#seat(plan, legId, call, k - plan.base);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Seats answer k of the plan. Workers alternate with each answer, so a block of 2·perRoom
   * answers puts the even ones in one room and the odd ones in the next (or, split, perRoom
   * consecutive answers in one room).
   */
  #seat(plan: RoomPlan, legId: string, call: number, k: number): void {
    const block = Math.floor(k / (2 * plan.perRoom));
    const room = plan.split
      ? plan.roomIds[Math.floor(k / plan.perRoom)]
      : plan.roomIds[block * 2 + (k % 2)];
    if (room === undefined) return;
    const members = plan.members.get(room) ?? [];
    members.push(call);
    plan.members.set(room, members);
    plan.seats.push({ legId, room });
  }

  /** Puts every seated leg into its room once connected; returns the failures. */
  async join(plan: RoomPlan): Promise<string[]> {
    const errors: string[] = [];
    await Promise.all(plan.seats.map(async ({ legId, room }) => {
      try {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          this.#connectedOf(legId).promise,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`leg ${legId} never connected`)), 30_000);
          }),
        ]).finally(() => clearTimeout(timer));
        await rest(this.#base, "POST", `/v1/rooms/${room}/legs`, { leg_id: legId });
      } catch (err) {
        errors.push(String(err));
      }
    }));
    return errors;
  }

  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((r) => this.#ws.onclose = () => r());
    this.#ws.close();
    await Promise.race([closed, sleep(2000)]);
  }
}
