/**
 * Extension points of the media engine for features that add audio to, or take audio from,
 * rooms and endpoints every tick (playback, recording, bridges). A feature module registers
 * hooks; the engine calls them at fixed points of the 20 ms loop. Hooks must not allocate or
 * await: they copy into preallocated buffers and hand slow work (file I/O) to async code.
 */
import type { Mixer } from "./mixer.ts";
import type { WorkerEvent } from "./protocol.ts";

/** Per-room hooks, called only on ticks where the room is active. */
export interface RoomHooks {
  /** Before the mix: fill externals (`mixer.addExternal`) and set their `present`. */
  pre?(): void;
  /** After the mix: read `mixer.tap()` / slot outputs (recording, bridge-out). */
  post?(): void;
}

/**
 * Per-endpoint hooks. Frames are at the endpoint's current mix rate: the room rate while it is in
 * a room, else its transport rate (`rate` says which; it changes when the endpoint moves).
 */
export interface EndpointHooks {
  /** Adds audio to what the endpoint hears, before it is sent (playback into a leg). */
  output?(out: Int16Array, rate: number): void;
  /**
   * Observes the tick: `input` is what the endpoint said (null when nothing arrived), `output`
   * what it heard, both after `output` hooks ran (leg recording: left = input, right = output).
   */
  tap?(input: Int16Array | null, output: Int16Array, rate: number): void;
}

/** A room as features see it. */
export interface RoomView {
  readonly id: string;
  readonly rate: number;
  readonly mixer: Mixer;
  /** Endpoint ids of current members. */
  memberIds(): Iterable<string>;
  /** The slot output of member `endpointId` after this tick's mix (room rate), if a member. */
  memberOutput(endpointId: string): Int16Array | undefined;
  /**
   * The slot input of member `endpointId` (room rate) when it sent a frame this tick, else
   * undefined (absent member or missing frame). Allocation-free for use inside hooks.
   */
  memberInput(endpointId: string): Int16Array | undefined;
  readonly hooks: Map<string, RoomHooks>;
}

/** An endpoint as features see it. */
export interface EndpointView {
  readonly id: string;
  /** Transport rate. */
  readonly rate: number;
  /** The room it is in, if any. */
  roomId(): string | undefined;
  readonly hooks: Map<string, EndpointHooks>;
}

/** What the engine offers feature modules. */
export interface FeatureHost {
  room(id: string): RoomView | undefined;
  endpoint(id: string): EndpointView | undefined;
  emit(ev: WorkerEvent): void;
  /** Re-evaluates whether the clock must run (call after adding/removing hooks). */
  wake(): void;
}

/** A feature module: handles its commands (`t` starting with its prefix) in the worker. */
export interface Feature {
  /** Command type prefix, e.g. `play.`. */
  readonly prefix: string;
  handle(cmd: { readonly t: string }, host: FeatureHost): void;
  /** Called when a room is deleted or an endpoint detached, to release their resources. */
  roomGone?(roomId: string, host: FeatureHost): void;
  endpointGone?(endpointId: string, host: FeatureHost): void;
  /** Stops everything (worker shutdown). */
  close?(): Promise<void> | void;
}
