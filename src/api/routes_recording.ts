/** REST routes of the recording feature (placeholder until it lands). */
import type { RouteDef } from "./routes.ts";

/** Routes of this feature. */
export const RECORDING_ROUTES: readonly RouteDef[] = [];
