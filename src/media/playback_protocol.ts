/**
 * Worker-boundary messages of the playback feature (commands `play.*` down, events `play.*` up).
 * Placeholder shapes until the feature lands; the owner of the feature refines them.
 */

/** Commands of the playback feature. */
export type PlaybackCommand = { readonly t: `play.${string}` };

/** Events of the playback feature. */
export type PlaybackEvent = { readonly t: `play.${string}` };
