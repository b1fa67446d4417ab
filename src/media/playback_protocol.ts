/**
 * Worker-boundary messages of the playback feature: commands `play.*` go down to the worker that
 * owns the target (a room's mixer or a leg's endpoint), events `play.*` come back up. Audio never
 * crosses: the worker fetches and decodes the source itself.
 */

/** What a playback plays into: a room mix (heard by every participant) or one leg's ear. */
export type PlaybackTarget =
  | { readonly kind: "room"; readonly roomId: string }
  | { readonly kind: "endpoint"; readonly endpointId: string };

/** What a playback plays: a fetched file or a built-in call-progress tone. */
export type PlaybackSource =
  | { readonly kind: "url"; readonly url: string; readonly mimeType?: string }
  | { readonly kind: "tone"; readonly name: string };

/** Where to pick up a playback that moved to another worker (its leg changed workers). */
export interface PlaybackResume {
  /** Completed iterations. */
  readonly iteration: number;
  /** Position inside the current iteration. */
  readonly positionMs: number;
  /** Audio played so far (accumulated across iterations). */
  readonly playedMs: number;
}

/** Commands of the playback feature. */
export type PlaybackCommand =
  | {
    readonly t: "play.start";
    readonly playbackId: string;
    readonly target: PlaybackTarget;
    readonly source: PlaybackSource;
    /** Times to play (≥ 1), or -1 for forever. Tones ignore it: they never end. */
    readonly repeat: number;
    /** Volume step −8..8, about 3 dB each (0 = unity). */
    readonly volume: number;
    /** Allow `file://` sources (the control plane has already checked the path). */
    readonly allowFile: boolean;
    readonly resume?: PlaybackResume;
  }
  | { readonly t: "play.stop"; readonly playbackId: string }
  | { readonly t: "play.volume"; readonly playbackId: string; readonly volume: number };

/** Events of the playback feature. */
export type PlaybackEvent =
  /** Audio is actually flowing (sent once per worker run; the control plane dedupes). */
  | { readonly t: "play.started"; readonly playbackId: string }
  | {
    readonly t: "play.finished";
    readonly playbackId: string;
    readonly reason: "completed" | "stopped";
    readonly playedMs: number;
  }
  | {
    readonly t: "play.error";
    readonly playbackId: string;
    readonly error: string;
    readonly playedMs: number;
  }
  /**
   * The target endpoint left this worker (a cross-worker move, or the leg ended). The control
   * plane restarts the playback on the endpoint's new worker, or reports it stopped.
   */
  | {
    readonly t: "play.detached";
    readonly playbackId: string;
    readonly resume: PlaybackResume;
  };
