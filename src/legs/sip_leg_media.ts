/**
 * The media half of a SIP leg: its RTP session in a media worker (opened, restarted with another
 * codec, pointed at the peer, closed), the address family and port our SDP states, and the CDR
 * quality the worker reports when the session closes. The signalling half (`SipLeg`) decides
 * when; this class knows how.
 */
import type { CallQuality } from "./leg.ts";
import type { RtpEndpoints, RtpOpened } from "../media_plane/rtp_endpoints.ts";
import type { RtpDirection, RtpRemote } from "../media/rtp_options.ts";
import type { RtpOpenOptions } from "../media/protocol.ts";
import {
  answerOffer,
  type AudioCodecName,
  type Negotiated,
  nextSessionVersion,
  parseSdp,
} from "../sdp/mod.ts";

/** The media settings a SIP leg takes from the configuration. */
export interface SipMediaSettings {
  /** Address the RTP socket binds (`SIP_BIND_IP`). */
  readonly bindHost: string;
  /** Address written in our SDP (`SIP_EXTERNAL_IP`, else the bind address). */
  readonly sdpAddress: string;
  /** `SIP_JITTER_BUFFER_MS` / `SIP_JITTER_BUFFER_MAX_MS`. */
  readonly jitter: { readonly targetMs: number; readonly maxMs: number };
  /** IPv6 media (`SIP_BIND_IPV6`), used when the peer's address is IPv6; absent: v4 only. */
  readonly v6?: { readonly bindHost: string; readonly sdpAddress: string };
  /**
   * The RTP timeout is paused while a call is held; after this long on hold the call ends with
   * `rtp_timeout` anyway (compat-notes §1 "Hold/unhold": 2 h).
   */
  readonly heldLimitMs: number;
}

/** How long a call may stay on hold (compat-notes §1 "Hold/unhold"). */
export const HELD_LIMIT_MS = 2 * 60 * 60 * 1000;

/** What a session is opened with: a negotiation, or our own offer's first codec. */
export type SessionPlan = Pick<Negotiated, "rtcpMux" | "telephoneEventPt"> & {
  readonly codec: { readonly name: string; readonly payloadType: number };
  readonly remote?: Negotiated["remote"];
};

/** What answering an offer needs besides the offer. */
export interface AnswerPlan {
  readonly allowed: readonly AudioCodecName[];
  readonly preferred?: AudioCodecName;
  readonly port: number;
  readonly sessionId: number;
  readonly sessionVersion: number;
}

/** One SIP leg's RTP session (the endpoint id is the leg id). */
export class SipLegMedia {
  readonly #id: string;
  readonly #rtp: RtpEndpoints;
  readonly #settings: SipMediaSettings;
  #addr: { readonly bindHost: string; readonly sdpAddress: string };
  #open = false;
  #closed: PromiseWithResolvers<void> | undefined;
  /** The negotiated codec (answers to the peer's re-offers keep it). */
  codec: AudioCodecName | undefined;
  /** Our RTP port, as our SDP states it. */
  localPort = 0;
  /** The CDR quality block of the last closed session. */
  quality: CallQuality | undefined;

  constructor(id: string, rtp: RtpEndpoints, settings: SipMediaSettings) {
    this.#id = id;
    this.#rtp = rtp;
    this.#settings = settings;
    this.#addr = settings;
  }

  /** Whether a session is open. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** The address our SDP's c= line carries. */
  get sdpAddress(): string {
    return this.#addr.sdpAddress;
  }

  /** Media over IPv6 when `host` is an IPv6 literal and IPv6 is configured (RFC 4566 §5.7). */
  useFamilyOf(host: string): void {
    const v6 = host.replace(/^\[|\]$/g, "").includes(":");
    this.#addr = v6 && this.#settings.v6 ? this.#settings.v6 : this.#settings;
  }

  /** Answers `offer` from our address; throws when it cannot be answered (checked earlier). */
  answer(offer: string, plan: AnswerPlan): Negotiated {
    const result = answerOffer(offer, { ...plan, address: this.#addr.sdpAddress });
    if (!result.ok) throw new Error(`Cannot answer: ${result.message}`);
    return result;
  }

  /**
   * Answers the peer's re-offer (re-INVITE/UPDATE, RFC 3264 §8) with our codec, port and SDP
   * version + 1, sending `direction` at most (sendonly while we hold); on success RTP follows the
   * new address and direction at once.
   */
  answerReoffer(offer: string, localSdp: string, direction: "sendonly" | "sendrecv") {
    const local = parseSdp(localSdp);
    const result = answerOffer(offer, {
      allowed: this.codec ? [this.codec] : [],
      address: this.#addr.sdpAddress,
      port: this.localPort,
      sessionId: local.origin.sessionId,
      sessionVersion: nextSessionVersion(local.origin.sessionVersion),
      direction,
      rtcpMux: local.media.some((m) => m.media === "audio" && m.port !== 0 && m.rtcpMux === true),
    });
    if (result.ok) {
      this.pointAt(result);
      this.setDirection(result.direction);
    }
    return result;
  }

  /** Opens the session on the worker mixing `roomId` (when given). */
  async start(plan: SessionPlan, roomId?: string): Promise<RtpOpened> {
    const opened = await this.#rtp.open(this.#id, this.#options(plan), { roomId });
    this.#closed = Promise.withResolvers<void>();
    this.#open = true;
    this.localPort = opened.localPort;
    return opened;
  }

  /** Restarts the session on the same port with the answer's codec; false when that failed. */
  async restart(answer: Negotiated, roomId?: string): Promise<boolean> {
    if (!this.#open) return false;
    try {
      await this.#rtp.reopen(this.#id, this.#options(answer), { roomId });
      return true;
    } catch {
      this.#open = false;
      return false;
    }
  }

  /** Sends RTP to the address and port of a negotiation. */
  pointAt(n: Negotiated): void {
    this.#rtp.updateRemote(this.#id, remoteOf(n));
  }

  /** What our side sends and receives (hold and resume). */
  setDirection(direction: RtpDirection): void {
    this.#rtp.setDirection(this.#id, direction);
  }

  /** Queues RFC 4733 digits; `onError` hears a failure the worker reports. */
  sendDtmf(digits: string, onError: (message: string) => void): void {
    this.#rtp.sendDtmf(this.#id, digits, onError);
  }

  /** The worker closed the session; `quality` is null when nothing arrived. */
  closedByWorker(quality: CallQuality | null): void {
    if (quality) this.quality = quality;
    this.#closed?.resolve();
  }

  /**
   * Closes the session. Returns a promise for the worker's final statistics, or undefined when
   * no session was open.
   */
  stop(): Promise<void> | undefined {
    if (!this.#open) return undefined;
    this.#open = false;
    this.#rtp.close(this.#id);
    return this.#closed?.promise;
  }

  #options(plan: SessionPlan): Omit<RtpOpenOptions, "port"> {
    return {
      bindHost: this.#addr.bindHost,
      rtcpMux: plan.rtcpMux,
      codec: { name: plan.codec.name, payloadType: plan.codec.payloadType },
      telephoneEventPt: plan.telephoneEventPt,
      remote: plan.remote ? remoteOf(plan as Negotiated) : undefined,
      jitter: this.#settings.jitter,
    };
  }
}

/** The RTP address from a negotiation. */
function remoteOf(n: Negotiated): RtpRemote {
  return n.rtcpMux
    ? { host: n.remote.address, port: n.remote.port }
    : { host: n.remote.address, port: n.remote.port, rtcpPort: n.remote.rtcpPort };
}
