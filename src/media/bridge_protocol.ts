/**
 * Worker-boundary messages of room bridges (commands `bridge.*` down, events `bridge.*` up).
 *
 * A bridge joins two room mixers through two single-producer/single-consumer {@link PcmRing}s
 * allocated on the main thread: A→B (written by room A's worker, read by room B's) and B→A. Each
 * room gets one `bridge.attach` for its side, so the two rooms may live on the same worker or on
 * different ones — the rings are shared memory either way, and no frame crosses by postMessage.
 */

/** Ring depth of one bridge direction in 20 ms frames (bounded again by the reader's trimming). */
export const BRIDGE_RING_FRAMES = 8;

/**
 * Mixer external ids of bridges lie in [BASE, BASE + SPAN) so they never collide with the
 * externals of other features sharing a room mixer (playback uses 0x5000_0000 and up).
 */
export const BRIDGE_EXTERNAL_BASE = 0x4000_0000;
/** Size of the bridge external id range. */
export const BRIDGE_EXTERNAL_SPAN = 0x1000_0000;

/** One room's side of a bridge: which ring it reads, which it writes, and what flows. */
export interface BridgeAttach {
  readonly t: "bridge.attach";
  readonly bridgeId: string;
  /** The room of this side (the worker mixing it receives this command). */
  readonly roomId: string;
  /** Mixer external that carries the far room's audio into this room. */
  readonly externalId: number;
  /** Far room → this room (this side is the consumer). */
  readonly incoming: SharedArrayBuffer;
  /** This room → far room (this side is the producer). */
  readonly outgoing: SharedArrayBuffer;
  /** This room's audio goes to the far room. */
  readonly sends: boolean;
  /** The far room's audio is mixed into this room. */
  readonly receives: boolean;
}

/** Commands of the bridge feature. */
export type BridgeCommand =
  | BridgeAttach
  | {
    /** Changes what flows on one side, from the next tick on (live PATCH). */
    readonly t: "bridge.direction";
    readonly bridgeId: string;
    readonly roomId: string;
    readonly sends: boolean;
    readonly receives: boolean;
  }
  | {
    /** Removes one side: its hooks and its external leave the room's mixer. */
    readonly t: "bridge.detach";
    readonly bridgeId: string;
    readonly roomId: string;
  };

/** Events of the bridge feature. */
export type BridgeEvent = {
  /** A command could not be applied (its room is not on this worker). */
  readonly t: "bridge.error";
  readonly bridgeId: string;
  readonly roomId: string;
  readonly message: string;
};
