/** Control-plane operations of the bridge feature (placeholder until it lands). */
import type { OpContext, Operation } from "./operation.ts";

/** Operations of this feature, reachable over VSI. */
export const BRIDGE_OPS: readonly Operation[] = [];

/** Wires the feature's worker events to the event bus; called once at start-up. */
export function attachBridge(_ctx: OpContext): void {}
