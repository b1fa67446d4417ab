/**
 * Worker side of room bridges. Each bridged room runs one {@link BridgeSide} as room hooks:
 * `pre` reads the far room's frame from the incoming ring into a mixer external (when this side
 * receives), `post` writes this room's sum minus that external — the room without what came from
 * the far side, so nothing echoes back — into the outgoing ring (when this side sends).
 *
 * The two rooms' clocks are independent (they may run on different workers), so the reader keeps
 * a small jitter margin: it starts playing once {@link PRIME_FRAMES} frames wait, plays silence
 * and re-primes on underrun, and trims back to the margin when more than {@link MAX_FRAMES} pile
 * up. Latency across a bridge therefore stays within a few frames whatever the clocks do.
 */
import type { Feature, FeatureHost, RoomHooks, RoomView } from "./feature_host.ts";
import type { MixerExternal } from "./mixer.ts";
import { PcmRing } from "./pcm_ring.ts";
import type { BridgeAttach, BridgeCommand } from "./bridge_protocol.ts";

/** Frames that must wait in the incoming ring before playout starts (jitter margin). */
export const PRIME_FRAMES = 2;
/** Above this many waiting frames the reader drops the excess back to {@link PRIME_FRAMES}. */
export const MAX_FRAMES = 4;

/** One room's end of a bridge, run as that room's hooks. */
export class BridgeSide implements RoomHooks {
  readonly bridgeId: string;
  readonly roomId: string;
  readonly externalId: number;
  sends: boolean;
  receives: boolean;
  readonly #room: RoomView;
  readonly #ext: MixerExternal;
  readonly #incoming: PcmRing;
  readonly #outgoing: PcmRing;
  readonly #frameBytes: number;
  /** The external's input seen as bytes: the ring reads straight into the mixer's buffer. */
  readonly #extBytes: Uint8Array;
  readonly #out: Int16Array;
  readonly #outBytes: Uint8Array;
  #primed = false;

  constructor(room: RoomView, cmd: BridgeAttach) {
    this.bridgeId = cmd.bridgeId;
    this.roomId = cmd.roomId;
    this.externalId = cmd.externalId;
    this.sends = cmd.sends;
    this.receives = cmd.receives;
    this.#room = room;
    this.#incoming = new PcmRing(cmd.incoming);
    this.#outgoing = new PcmRing(cmd.outgoing);
    const n = room.mixer.frameSize;
    this.#frameBytes = n * 2;
    this.#ext = room.mixer.addExternal(cmd.externalId);
    const input = this.#ext.input;
    this.#extBytes = new Uint8Array(input.buffer, input.byteOffset, this.#frameBytes);
    this.#out = new Int16Array(n);
    this.#outBytes = new Uint8Array(this.#out.buffer);
  }

  /** Before the mix: the far room's next frame becomes this room's external (or silence). */
  pre(): void {
    const ring = this.#incoming;
    const fb = this.#frameBytes;
    const avail = ring.available();
    if (!this.receives) {
      // Keep the ring empty so turning reception on later plays fresh audio, not a stale backlog.
      if (avail > 0) ring.skip(avail);
      this.#primed = false;
      return;
    }
    if (!this.#primed) {
      if (avail < PRIME_FRAMES * fb) return;
      this.#primed = true;
    }
    if (avail < fb) {
      this.#primed = false; // underrun: silence until the margin is rebuilt
      return;
    }
    if (avail > MAX_FRAMES * fb) {
      const excess = avail - PRIME_FRAMES * fb;
      ring.skip(excess - (excess % fb));
    }
    if (ring.read(this.#extBytes, fb)) this.#ext.present = true;
  }

  /** After the mix: this room minus the far room's contribution goes out (echo-free). */
  post(): void {
    if (!this.sends) return;
    this.#room.mixer.tap(this.#out, this.externalId);
    // A full ring means the far side stopped reading; the frame is dropped (counted by the ring).
    this.#outgoing.write(this.#outBytes);
  }

  /** Removes the external from the mixer (the caller removes the hooks). */
  release(): void {
    this.#room.mixer.removeExternal(this.externalId);
  }
}

function hookKey(bridgeId: string): string {
  return `bridge:${bridgeId}`;
}

/** Creates the bridge feature of one worker (tests build several to stand for several workers). */
export function createBridgeFeature(): Feature & { sides(): readonly BridgeSide[] } {
  /** Sides on this worker by `roomId \u0000 bridgeId`. */
  const sides = new Map<string, BridgeSide>();
  const keyOf = (roomId: string, bridgeId: string) => `${roomId}\u0000${bridgeId}`;

  const detach = (roomId: string, bridgeId: string, host: FeatureHost) => {
    const key = keyOf(roomId, bridgeId);
    const side = sides.get(key);
    if (!side) return;
    sides.delete(key);
    const room = host.room(roomId);
    if (room) {
      room.hooks.delete(hookKey(bridgeId));
      side.release();
    }
    host.wake();
  };

  return {
    prefix: "bridge.",
    sides: () => [...sides.values()],
    handle(raw, host) {
      const cmd = raw as BridgeCommand;
      switch (cmd.t) {
        case "bridge.attach": {
          detach(cmd.roomId, cmd.bridgeId, host);
          const room = host.room(cmd.roomId);
          if (!room) {
            host.emit({
              t: "bridge.error",
              bridgeId: cmd.bridgeId,
              roomId: cmd.roomId,
              message: `room ${cmd.roomId} has no mixer on this worker`,
            });
            return;
          }
          const side = new BridgeSide(room, cmd);
          sides.set(keyOf(cmd.roomId, cmd.bridgeId), side);
          room.hooks.set(hookKey(cmd.bridgeId), side);
          // The hooks keep a room with no members ticking (compat: a bridged room keeps mixing).
          host.wake();
          return;
        }
        case "bridge.direction": {
          const side = sides.get(keyOf(cmd.roomId, cmd.bridgeId));
          if (!side) return;
          side.sends = cmd.sends;
          side.receives = cmd.receives;
          return;
        }
        case "bridge.detach":
          detach(cmd.roomId, cmd.bridgeId, host);
          return;
        default:
          throw new Error(`Unknown media command ${(cmd as { t: string }).t}`);
      }
    },
    roomGone(roomId, host) {
      for (const side of [...sides.values()]) {
        if (side.roomId === roomId) detach(roomId, side.bridgeId, host);
      }
    },
    close() {
      sides.clear();
    },
  };
}

/** The bridge feature of this worker. */
export const bridgeFeature: Feature = createBridgeFeature();
