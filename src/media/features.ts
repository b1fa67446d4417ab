/** The feature modules every media worker runs. */
import type { Feature } from "./feature_host.ts";
import { playbackFeature } from "./playback_feature.ts";
import { recordingFeature } from "./recording_feature.ts";
import { bridgeFeature } from "./bridge_feature.ts";

/** Fresh feature instances for one worker. */
export function workerFeatures(): Feature[] {
  return [playbackFeature, recordingFeature, bridgeFeature];
}
