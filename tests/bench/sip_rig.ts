/**
 * One SIP benchmark rig: the server process, the load client process and the app (VSI + REST in
 * this process), with the steps every scenario is made of — place calls and seat them in rooms,
 * wait for audio, hang up, warm up.
 */
import { sleep } from "../helpers/pcm_client.ts";
import { App, rest, type RoomPlan } from "./sip_app.ts";
import type { Json } from "./sip_bench_util.ts";
import { type LineChild, ServerProcess, spawnLoadClient } from "./sip_processes.ts";

/** Polls `fn` until it is true; throws after `ms`. */
async function waitUntil(fn: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = performance.now() + ms;
  while (!(await fn())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(20);
  }
}

/** One server, one load client, one app: the unit every scenario runs in. */
export class Rig {
  readonly server: ServerProcess;
  client: LineChild | undefined;
  app: App | undefined;
  nextCall = 0;
  notes: string[] = [];

  constructor(workers: number, sampleRate: number, extraEnv: Record<string, string> = {}) {
    this.server = new ServerProcess(workers, sampleRate, extraEnv);
  }

  async start(): Promise<void> {
    await this.server.start();
    this.app = new App(this.server.url);
    await this.app.opened;
    this.client = spawnLoadClient(this.server.sipPort);
    await this.client.ready;
  }

  /**
   * Places `count` calls (at most `inFlight` unanswered at once); with `perRoom` > 0 they are
   * seated in `roomIds` (created at `rate`) once all are answered — a room's first join creates
   * its mixer, which would shift the workers' alternation if it came between two answers.
   * Returns the dial result and room membership.
   */
  async addCalls(
    count: number,
    inFlight: number,
    rooms?: { perRoom: number; roomIds: string[]; rate: number; split?: boolean },
  ): Promise<{ dial: Json; members: Map<string, number[]> }> {
    const app = this.app!;
    const plan: RoomPlan = {
      perRoom: rooms?.perRoom ?? 0,
      roomIds: rooms?.roomIds ?? [],
      base: app.answered,
      split: rooms?.split ?? false,
      members: new Map(),
      seats: [],
    };
    for (const id of plan.roomIds) {
      await rest(this.server.url, "POST", "/v1/rooms", { id, sample_rate: rooms!.rate });
    }
    app.plan = plan;
    const first = this.nextCall;
    this.nextCall += count;
    const dial = await this.client!.request({ cmd: "dial", first, count, concurrency: inFlight });
    await waitUntil(
      () => plan.seats.length >= Number(dial.ok) || plan.perRoom === 0,
      30_000,
      "answers",
    );
    app.plan = undefined;
    const joinErrors = await app.join(plan);
    if (joinErrors.length > 0) {
      throw new JoinError(joinErrors, joinErrors.some((e) => e.includes("another worker")));
    }
    if (Number(dial.failed) > 0) {
      this.notes.push(`${dial.failed} of ${count} calls failed: ${JSON.stringify(dial.errors)}`);
    }
    return { dial, members: plan.members };
  }

  /** Waits until the calls have heard 25 more packets per live call (≈ 0.5 s of audio). */
  async waitForAudio(): Promise<void> {
    const m0 = await this.client!.request({ cmd: "mark" });
    const want = Number(m0.received) + Number(m0.live) * 25;
    await waitUntil(
      async () => Number((await this.client!.request({ cmd: "mark" })).received) >= want,
      30_000,
      "audio from the server",
    );
  }

  /** Hangs up every call and waits until the server has no legs left. */
  async hangupAll(): Promise<Json> {
    const r = await this.client!.request({ cmd: "hangup" });
    await waitUntil(async () => (await this.server.stats()).legs === 0, 30_000, "legs gone");
    return r;
  }

  /** Warm-up: 2 rooms × 2 on both workers with audio both ways, then everything torn down. */
  async warmUp(): Promise<void> {
    const ids = ["warm-0", "warm-1"];
    await this.addCalls(4, 4, { perRoom: 2, roomIds: ids, rate: 8000 });
    await this.client!.request({ cmd: "start" });
    await this.waitForAudio();
    await this.client!.request({ cmd: "stop" });
    await this.hangupAll();
    for (const id of ids) await rest(this.server.url, "DELETE", `/v1/rooms/${id}`);
  }

  async close(): Promise<void> {
    await this.client?.close();
    await this.app?.close();
    await this.server.child.close();
  }
}

/** A join failed; `crossWorker` when it was the known cross-worker limitation. */
export class JoinError extends Error {
  readonly crossWorker: boolean;
  constructor(errors: string[], crossWorker: boolean) {
    super(`${errors.length} room joins failed, first: ${errors[0]}`);
    this.crossWorker = crossWorker;
  }
}
