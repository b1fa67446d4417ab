/**
 * The leg abstraction: every call leg (SIP, WebRTC, WebSocket, …) is seen by rooms, events and the
 * API through this small core. Transport-specific abilities arrive later as capabilities, never
 * by downcasting.
 */
import type { WebhookTarget } from "../events/event.ts";

/** Leg types of the contract (`Leg.type`). */
export type LegType =
  | "sip_inbound"
  | "sip_outbound"
  | "webrtc"
  | "whatsapp_in"
  | "whatsapp_out"
  | "websocket_in"
  | "websocket_out"
  | "moq_in"
  | "livekit_publish"
  | "livekit_participant";

/** Leg states of the contract (`Leg.state`). */
export type LegState = "ringing" | "early_media" | "connected" | "held" | "hung_up";

/** The contract's Leg object (without the `instance_id` the HTTP layer injects). */
export interface LegView {
  id: string;
  type: LegType;
  state: LegState;
  room_id?: string;
  muted: boolean;
  deaf: boolean;
  accept_dtmf: boolean;
  held: boolean;
  role?: string;
  app_id?: string;
  sip_headers?: Record<string, string>;
  headers?: Record<string, string>;
}

/** The CDR published in `leg.disconnected` (compat-notes §2.6). */
export interface Cdr {
  reason: string;
  duration_total: number;
  duration_answered: number;
}

/** RTP quality summary attached to `leg.disconnected` when media arrived. */
export interface CallQuality {
  mos_score: number;
  rtp_packets_received: number;
  rtp_packets_lost: number;
  rtp_jitter_ms: number;
}

/** What every leg offers the control plane. */
export interface Leg {
  readonly id: string;
  readonly type: LegType;
  readonly appId: string;
  readonly createdAt: number;
  readonly state: LegState;
  readonly roomId: string | undefined;
  /** Exclusive per-leg webhook target, if the leg was created with one. */
  readonly webhook: WebhookTarget | undefined;
  /** The contract view of the leg. */
  view(): LegView;
  /**
   * Ends the leg with `reason` (a CDR reason such as `api_hangup` or `room_deleted`). Idempotent:
   * the first call wins and publishes `leg.disconnected`; later calls resolve without effect.
   */
  hangup(reason: string): Promise<void>;
}
