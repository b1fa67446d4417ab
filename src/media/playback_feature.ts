/** Worker side of the playback feature (placeholder until it lands). */
import type { Feature } from "./feature_host.ts";

/** Handles `play.*` commands inside a media worker. */
export const playbackFeature: Feature = {
  prefix: "play.",
  handle(cmd) {
    throw new Error(`Unknown media command ${cmd.t}`);
  },
};
