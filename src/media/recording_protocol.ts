/**
 * Worker-boundary messages of the recording feature (commands `record.*` down, events `record.*` up).
 * Placeholder shapes until the feature lands; the owner of the feature refines them.
 */

/** Commands of the recording feature. */
export type RecordingCommand = { readonly t: `record.${string}` };

/** Events of the recording feature. */
export type RecordingEvent = { readonly t: `record.${string}` };
