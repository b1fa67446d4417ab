/** REST routes of the bridge feature (placeholder until it lands). */
import type { RouteDef } from "./routes.ts";

/** Routes of this feature. */
export const BRIDGE_ROUTES: readonly RouteDef[] = [];
