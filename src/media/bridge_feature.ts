/** Worker side of the bridge feature (placeholder until it lands). */
import type { Feature } from "./feature_host.ts";

/** Handles `bridge.*` commands inside a media worker. */
export const bridgeFeature: Feature = {
  prefix: "bridge.",
  handle(cmd) {
    throw new Error(`Unknown media command ${cmd.t}`);
  },
};
