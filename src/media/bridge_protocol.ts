/**
 * Worker-boundary messages of the bridge feature (commands `bridge.*` down, events `bridge.*` up).
 * Placeholder shapes until the feature lands; the owner of the feature refines them.
 */

/** Commands of the bridge feature. */
export type BridgeCommand = { readonly t: `bridge.${string}` };

/** Events of the bridge feature. */
export type BridgeEvent = { readonly t: `bridge.${string}` };
