/**
 * The typed protocol across the worker boundary: commands go down (main → media worker), events
 * come up. Audio never travels in these messages — it moves through {@link PcmRing}s whose
 * SharedArrayBuffers are handed over once, at attach time.
 */

import type { PlaybackCommand, PlaybackEvent } from "./playback_protocol.ts";
import type { RecordingCommand, RecordingEvent } from "./recording_protocol.ts";
import type { BridgeCommand, BridgeEvent } from "./bridge_protocol.ts";
import type { RtpDirection, RtpRemote } from "./rtp_options.ts";
import type { RtpQuality } from "../rtp/receiver_stats.ts";

/** Rates a leg's PCM may use on its transport. */
export type LegRate = 8000 | 16000 | 24000 | 48000;

/** Flags applied to a mixer participant. */
export interface ParticipantFlags {
  readonly muted: boolean;
  readonly deaf: boolean;
  /** Routing role ("" = unroled). */
  readonly role: string;
}

/** Commands to a media worker. Those with `id` are answered by a `reply`. */
export type WorkerCommand =
  | { readonly t: "room.create"; readonly roomId: string; readonly rate: number }
  | { readonly t: "room.delete"; readonly roomId: string }
  | {
    readonly t: "endpoint.attach";
    /** Leg id, or `ws-xxxxxxxx` for a room WebSocket slot. */
    readonly endpointId: string;
    readonly rate: LegRate;
    /** Audio from the leg (producer: main thread). */
    readonly ingress: SharedArrayBuffer;
    /** Audio to the leg (producer: worker). */
    readonly egress: SharedArrayBuffer;
    /** Report speaking.started/stopped for this endpoint. */
    readonly speech: boolean;
  }
  | { readonly t: "endpoint.detach"; readonly endpointId: string }
  | {
    /**
     * The endpoint's socket stays in this worker but its room is mixed on another one: from now on
     * each tick writes what the leg says into `ingress` and sends what it reads from `egress` (the
     * other worker attached the same rings as a ring endpoint). It leaves any room here.
     */
    readonly t: "endpoint.relay";
    readonly endpointId: string;
    readonly ingress: SharedArrayBuffer;
    readonly egress: SharedArrayBuffer;
  }
  /** Stops relaying: the endpoint is mixed in this worker again (a join follows). */
  | { readonly t: "endpoint.unrelay"; readonly endpointId: string }
  | {
    readonly t: "endpoint.join";
    readonly endpointId: string;
    readonly roomId: string;
    readonly flags: ParticipantFlags;
  }
  | { readonly t: "endpoint.leave"; readonly endpointId: string }
  | {
    readonly t: "endpoint.flags";
    readonly endpointId: string;
    readonly flags: ParticipantFlags;
  }
  | {
    readonly t: "room.routing";
    readonly roomId: string;
    /** listener role → source roles heard (null = everyone); absent rows are full mesh. */
    readonly matrix: Readonly<Record<string, readonly string[] | null>> | null;
  }
  | {
    /** Opens an RTP session in the worker for a SIP leg (its socket lives here for good). */
    readonly t: "rtp.open";
    readonly endpointId: string;
    readonly speech: boolean;
    readonly session: RtpOpenOptions;
  }
  | { readonly t: "rtp.remote"; readonly endpointId: string; readonly remote: RtpRemote }
  | { readonly t: "rtp.direction"; readonly endpointId: string; readonly direction: RtpDirection }
  | { readonly t: "rtp.dtmf"; readonly endpointId: string; readonly digits: string }
  | { readonly t: "stop" }
  | PlaybackCommand
  | RecordingCommand
  | BridgeCommand;

/** Events from a media worker. */
export type WorkerEvent =
  /** A tick finished and egress rings received frames; the main thread drains them. */
  | { readonly t: "tick"; readonly seq: number }
  | {
    readonly t: "speaking";
    readonly endpointId: string;
    readonly roomId: string | undefined;
    readonly speaking: boolean;
  }
  | {
    readonly t: "load";
    /** Average share of the 20 ms period spent working (0..1+). */
    readonly utilization: number;
    readonly participants: number;
    readonly rooms: number;
    readonly ticks: number;
    readonly skipped: number;
    readonly lateMs: number;
    /** Tick lateness percentiles over the last ≈5 s, ms. */
    readonly lateP50: number;
    readonly lateP99: number;
    readonly lateMax: number;
  }
  | { readonly t: "error"; readonly message: string; readonly endpointId?: string }
  | {
    readonly t: "rtp.opened";
    readonly endpointId: string;
    /** The codec's audio rate: the endpoint's transport rate. */
    readonly sampleRate: LegRate;
    readonly localPort: number;
    readonly localRtcpPort: number;
  }
  | {
    readonly t: "rtp.failed";
    readonly endpointId: string;
    readonly message: string;
    /** The port was taken by another socket: the main thread retries with another. */
    readonly addrInUse: boolean;
  }
  | { readonly t: "rtp.dtmf_received"; readonly endpointId: string; readonly digit: string }
  | { readonly t: "rtp.dtmf_failed"; readonly endpointId: string; readonly message: string }
  | { readonly t: "rtp.event"; readonly endpointId: string; readonly kind: string }
  /** No RTP arrived for 30 s (not counted while on hold). */
  | { readonly t: "rtp.timeout"; readonly endpointId: string }
  /** The session's sockets are closed; `quality` is the CDR block (null without media). */
  | { readonly t: "rtp.closed"; readonly endpointId: string; readonly quality: RtpQuality | null }
  | PlaybackEvent
  | RecordingEvent
  | BridgeEvent;

/** Serializable options of a worker-side RTP session (callbacks are wired by the worker). */
export interface RtpOpenOptions {
  readonly bindHost: string;
  readonly port: number;
  readonly rtcpMux: boolean;
  readonly codec: { readonly name: string; readonly payloadType: number };
  readonly telephoneEventPt?: number;
  readonly remote?: RtpRemote;
  readonly jitter: { readonly targetMs: number; readonly maxMs: number };
}

/** Bytes of one 20 ms frame of s16le mono PCM at `rate`. */
export function frameBytes(rate: number): number {
  return (rate / 50) * 2;
}
