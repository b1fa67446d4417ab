/** Shared pieces of the media feature tests that drive a `MediaEngine` by hand. */
import type { MediaEngine } from "../../../src/media/engine.ts";
import type { LegRate } from "../../../src/media/protocol.ts";

/**
 * Attaches a ring endpoint `id` to `engine` and, when `roomId` is given, joins it unmuted with
 * `role` ("" = none).
 */
export function attachPeer(
  engine: MediaEngine,
  id: string,
  rate: LegRate,
  rings: { readonly ingress: SharedArrayBuffer; readonly egress: SharedArrayBuffer },
  roomId?: string,
  role = "",
): void {
  engine.handle({
    t: "endpoint.attach",
    endpointId: id,
    rate,
    ingress: rings.ingress,
    egress: rings.egress,
    speech: false,
  });
  if (roomId) joinPeer(engine, id, roomId, role);
}

/** Joins endpoint `id` to `roomId`, unmuted and hearing, with `role` ("" = none). */
export function joinPeer(engine: MediaEngine, id: string, roomId: string, role = ""): void {
  engine.handle({
    t: "endpoint.join",
    endpointId: id,
    roomId,
    flags: { muted: false, deaf: false, role },
  });
}
