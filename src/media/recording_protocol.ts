/**
 * Worker-boundary messages of the recording feature: commands `record.*` go down to the worker
 * that owns the leg's endpoint or the room's mixer, events `record.*` come up. `recId` names one
 * recorder inside a worker (a leg recording that follows its leg across workers has one recorder
 * per worker it visited, each a segment of the final file).
 */

/** Starts a stereo leg recorder (left = what the leg says, right = what it hears). */
export interface RecordLegStart {
  readonly t: "record.leg.start";
  readonly recId: string;
  readonly endpointId: string;
  /** Where the finished segment is published (a hidden path; the control plane assembles). */
  readonly path: string;
  /** Recording rate; 0 = the endpoint's current mix rate (room rate in a room, else transport). */
  readonly rate: number;
  readonly paused: boolean;
}

/** Starts a room recorder: the mono room mix, plus one track per participant when `multi`. */
export interface RecordRoomStart {
  readonly t: "record.room.start";
  readonly recId: string;
  readonly roomId: string;
  /** Final path of the mono mix. */
  readonly path: string;
  /** Final path of the multi-channel file, or null for a mono-only recording. */
  readonly multiPath: string | null;
  /** Participants beyond this many channels are left out (reported as omitted). */
  readonly maxChannels: number;
  readonly paused: boolean;
}

/** Commands of the recording feature. */
export type RecordingCommand =
  | RecordLegStart
  | RecordRoomStart
  /** Stops a recorder and finishes its files; answered by `record.done`. */
  | { readonly t: "record.stop"; readonly recId: string }
  /** Pauses (silence on every channel) or resumes a recorder from the next tick. */
  | { readonly t: "record.pause"; readonly recId: string; readonly paused: boolean };

/** A participant's place in a multi-channel file (the contract's ChannelInfo). */
export interface ChannelInfo {
  readonly channel: number;
  readonly start_ms: number;
  readonly end_ms: number;
}

/** Outcome of the multi-channel file of a room recording. */
export interface MultiChannelOutcome {
  /** Published at the requested `multiPath`; false when nothing could be merged. */
  readonly ok: boolean;
  readonly error?: string;
  /** Endpoint id → channel, for the participants in the file. */
  readonly channels: Readonly<Record<string, ChannelInfo>>;
  /** Participants left out (beyond the channel cap, or whose track failed). */
  readonly omitted: readonly string[];
}

/** Why a recorder stopped taking frames. */
export type RecordEndReason = "stopped" | "endpoint_gone" | "room_gone" | "closed";

/** Events of the recording feature. */
export type RecordingEvent =
  /** The recorder's file is open (`ok`), or could not be created (then no `record.done`). */
  | {
    readonly t: "record.started";
    readonly recId: string;
    readonly ok: boolean;
    readonly rate: number;
    readonly error?: string;
  }
  /** A recorder ended and its files are published (or failed: `ok` false, `error`). */
  | {
    readonly t: "record.done";
    readonly recId: string;
    readonly reason: RecordEndReason;
    readonly ok: boolean;
    readonly error?: string;
    /** 20 ms frames written. */
    readonly frames: number;
    /** Wall-clock time of the first frame (0 when none), to place segments on one timeline. */
    readonly startWallMs: number;
    readonly truncated: boolean;
    readonly multi?: MultiChannelOutcome;
  };
