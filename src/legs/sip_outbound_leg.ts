/**
 * A SIP outbound leg (compat-notes §1 "SIP outbound"): `POST /v1/legs {"type":"sip"}` places an
 * INVITE with our offer; a 183 with SDP is early media, the 2xx connects, a failure or the ring
 * timeout ends the leg with the mapped CDR reason, and a hangup before the answer CANCELs.
 */
import { SipLeg } from "./sip_leg.ts";
import { type AudioCodecName, type LocalOffer, parseAnswer } from "../sdp/mod.ts";
import {
  CallFailedError,
  type DialogSession,
  type OutgoingCall,
  type UserAgent,
} from "../sip/dialog/mod.ts";
import type { NameAddr, SipUri } from "../sip/message/mod.ts";
import type { DigestCredentials } from "../sip/auth/digest.ts";

/** What an outbound dial needs. */
export interface SipDialOptions {
  readonly uri: SipUri;
  readonly from: NameAddr;
  readonly headers: readonly (readonly [string, string])[];
  /** Codecs to offer, most preferred first. */
  readonly codecs: readonly AudioCodecName[];
  /** 0: ring until the callee decides. */
  readonly ringTimeoutMs: number;
  /** Room the leg will join: the RTP session is placed on that room's worker. */
  readonly roomId?: string;
  /** Next hop as a pre-loaded loose Route (the Request-URI stays `uri`). */
  readonly outboundProxy?: SipUri;
  /** Answer one 401/407 challenge with these. */
  readonly auth?: DigestCredentials;
}

/** A `sip_outbound` leg. */
export class SipOutboundLeg extends SipLeg {
  /** Called when the call gets early media (joins `room_id` ahead of the answer). */
  onEarlyMedia: ((leg: SipLeg) => void) | undefined;
  #outgoing: OutgoingCall | undefined;
  #ringTimer: ReturnType<typeof setTimeout> | undefined;
  #ringTimedOut = false;

  /**
   * Places the call: opens RTP (to learn our port), offers, and on a 2xx points RTP at the
   * answer and reports `leg.connected`; a failure ends the leg with the INVITE's CDR reason.
   */
  async dial(ua: UserAgent, o: SipDialOptions): Promise<void> {
    this.media.useFamilyOf((o.outboundProxy ?? o.uri).host);
    const made = await this.openForOffer(o.codecs, o.roomId).catch((err) => {
      this.deps.logger.warn("SIP dial: RTP open failed", { leg_id: this.id, error: err });
      void this.hangup("invite_failed");
      return undefined;
    });
    if (!made) return;
    const { offer, first } = made;
    let call: OutgoingCall;
    try {
      call = ua.invite({
        uri: o.uri,
        from: o.from,
        sdp: offer.sdp,
        headers: o.headers,
        outboundProxy: o.outboundProxy,
        auth: o.auth,
        onEarlyMedia: (sdp) => this.#earlyMedia(offer, first, sdp),
      });
    } catch (err) {
      this.deps.logger.warn("SIP dial failed", { leg_id: this.id, error: err });
      void this.hangup("invite_failed");
      return;
    }
    this.#outgoing = call;
    if (o.ringTimeoutMs > 0) {
      this.#ringTimer = setTimeout(() => {
        this.#ringTimedOut = true;
        call.cancel();
      }, o.ringTimeoutMs);
    }
    let session: DialogSession;
    try {
      session = await call.result;
    } catch (err) {
      clearTimeout(this.#ringTimer);
      const reason = err instanceof CallFailedError ? err.reason : "invite_failed";
      void this.hangup(this.#ringTimedOut && reason === "cancelled" ? "ring_timeout" : reason);
      return;
    }
    clearTimeout(this.#ringTimer);
    this.#outgoing = undefined;
    await this.offerAnswered(session, offer, first, o.roomId);
  }

  /** A 183 with SDP: point RTP at it; the first one moves the leg to `early_media`. */
  #earlyMedia(offer: LocalOffer, opened: AudioCodecName, sdp: string): void {
    if (this.ending) return;
    const answer = parseAnswer(offer, sdp);
    if (!answer.ok || answer.codec.name !== opened) {
      this.deps.logger.warn("SIP early media not usable", {
        leg_id: this.id,
        detail: answer.ok ? `183 chose ${answer.codec.name}` : answer.message,
      });
      return;
    }
    this.media.pointAt(answer);
    if (this.state !== "ringing") return;
    this.setState("early_media");
    this.publish("leg.early_media", { leg_type: this.type });
    this.onEarlyMedia?.(this);
  }

  /** A hangup before the answer CANCELs the INVITE. */
  protected endUnestablished(): void {
    clearTimeout(this.#ringTimer);
    this.#outgoing?.cancel();
  }
}
