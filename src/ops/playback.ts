/** Control-plane operations of the playback feature (placeholder until it lands). */
import type { OpContext, Operation } from "./operation.ts";

/** Operations of this feature, reachable over VSI. */
export const PLAYBACK_OPS: readonly Operation[] = [];

/** Wires the feature's worker events to the event bus; called once at start-up. */
export function attachPlayback(_ctx: OpContext): void {}
