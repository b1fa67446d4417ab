/** REST routes of the playback feature (placeholder until it lands). */
import type { RouteDef } from "./routes.ts";

/** Routes of this feature. */
export const PLAYBACK_ROUTES: readonly RouteDef[] = [];
