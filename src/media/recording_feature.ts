/** Worker side of the recording feature (placeholder until it lands). */
import type { Feature } from "./feature_host.ts";

/** Handles `record.*` commands inside a media worker. */
export const recordingFeature: Feature = {
  prefix: "record.",
  handle(cmd) {
    throw new Error(`Unknown media command ${cmd.t}`);
  },
};
