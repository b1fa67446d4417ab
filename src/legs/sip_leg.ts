/**
 * SIP legs (compat-notes §1 "SIP inbound"/"SIP outbound"): signalling through the dialog layer's
 * `IncomingCall`/`OutgoingCall`/`DialogSession`, media through an RTP session that a media worker
 * owns (`RtpEndpoints`). The RTP endpoint id is the leg id.
 */
import { BaseLeg, type BaseLegInit, type LegDeps } from "./base_leg.ts";
import type { CallQuality, LegView } from "./leg.ts";
import type { RtpEndpoints, RtpOpened } from "../media_plane/rtp_endpoints.ts";
import type { RtpRemote } from "../media/rtp_options.ts";
import {
  answerOffer,
  type AudioCodecName,
  buildOffer,
  type LocalOffer,
  type Negotiated,
  offeredCodecs,
  parseAnswer,
} from "../sdp/mod.ts";
import {
  CallFailedError,
  type DialogEnd,
  type DialogSession,
  type IncomingCall,
  type OutgoingCall,
  type UserAgent,
} from "../sip/dialog/mod.ts";
import type { NameAddr, SipUri } from "../sip/message/mod.ts";

/** The media settings a SIP leg takes from the configuration. */
export interface SipMediaSettings {
  /** Address the RTP socket binds (`SIP_BIND_IP`). */
  readonly bindHost: string;
  /** Address written in our SDP (`SIP_EXTERNAL_IP`, else the bind address). */
  readonly sdpAddress: string;
  /** `SIP_JITTER_BUFFER_MS` / `SIP_JITTER_BUFFER_MAX_MS`. */
  readonly jitter: { readonly targetMs: number; readonly maxMs: number };
}

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
}

/** CDR reason → final response for an unanswered inbound call (compat §1 "SIP inbound"). */
const REJECT_STATUS: Readonly<Record<string, number>> = {
  busy: 486,
  declined: 603,
  rejected: 603,
  unavailable: 480,
  not_found: 404,
  forbidden: 403,
  server_error: 500,
};

/** How long teardown waits for the worker's final RTP statistics. */
const RTP_CLOSE_WAIT_MS = 1000;
/** How long teardown waits for the BYE transaction before the leg is reported gone. */
const BYE_WAIT_MS = 2000;

/** Session end → CDR reason; undefined when we ended it ourselves. */
function endReason(end: DialogEnd): string | undefined {
  switch (end.reason) {
    case "remote_bye":
    case "request_failed":
      return "remote_bye";
    case "session_expired":
      return "session_expired";
    case "ack_timeout":
      return "connect_failed";
    default:
      return undefined;
  }
}

function delay(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  return { promise, cancel: () => clearTimeout(timer) };
}

/** A SIP call leg in either direction. */
export class SipLeg extends BaseLeg {
  /** Called once the leg is connected (joins `room_id`, starts max-duration). */
  onConnected: ((leg: SipLeg) => void) | undefined;
  readonly #rtp: RtpEndpoints;
  readonly #media: SipMediaSettings;
  #mediaOpen = false;
  #ending = false;
  #answering = false;
  #incoming: IncomingCall | undefined;
  #allowed: readonly AudioCodecName[] = [];
  #outgoing: OutgoingCall | undefined;
  #session: DialogSession | undefined;
  #quality: CallQuality | undefined;
  #rtpClosed: PromiseWithResolvers<void> | undefined;
  #ringTimer: ReturnType<typeof setTimeout> | undefined;
  #maxTimer: ReturnType<typeof setTimeout> | undefined;
  #ringTimedOut = false;

  constructor(init: BaseLegInit, deps: LegDeps, rtp: RtpEndpoints, media: SipMediaSettings) {
    super(init, deps);
    this.#rtp = rtp;
    this.#media = media;
  }

  /** The media endpoint id (the leg id) once the RTP session is open. */
  get mediaEndpoint(): string | undefined {
    return this.#mediaOpen ? this.id : undefined;
  }

  /** Whether `answer()` was called (a second answer is a conflict). */
  get answering(): boolean {
    return this.#answering;
  }

  /** The contract view: `sip_headers` mirrors `headers` (X-* only) for SIP legs. */
  override view(): LegView {
    const v = super.view();
    if (v.headers) v.sip_headers = { ...v.headers };
    return v;
  }

  /** Ends the call after `seconds` of connected time (0 = no limit). */
  setMaxDuration(seconds: number): void {
    if (seconds > 0) {
      this.#maxTimer = setTimeout(() => void this.hangup("max_duration"), seconds * 1000);
    }
  }

  // ---- worker RTP events (routed here by the server) ----

  /** The worker closed the RTP session; `quality` is null when nothing arrived. */
  rtpClosed(quality: CallQuality | null): void {
    if (quality) this.#quality = quality;
    this.#rtpClosed?.resolve();
  }

  /** No RTP for the configured time (RTP_TIMEOUT). */
  rtpTimeout(): void {
    void this.hangup("rtp_timeout");
  }

  // ---- inbound ----

  /** Takes the incoming call; `allowed` are the codecs this server accepts (SIP_CODECS). */
  attachIncoming(call: IncomingCall, allowed: readonly AudioCodecName[]): void {
    this.#incoming = call;
    this.#allowed = allowed;
    call.onCancelled = () => void this.hangup("caller_cancel");
  }

  /** Codecs of the caller's offer that we accept (an answer's `codec` must be one). */
  offeredCodecNames(): AudioCodecName[] {
    const offer = this.#incoming?.offer;
    return offer ? offeredCodecs(offer, this.#allowed).map((c) => c.name) : [];
  }

  /** Sends 180 Ringing; false when the call is already decided. */
  ring(): boolean {
    return this.#incoming?.ring() ?? false;
  }

  /**
   * Answers with `codec` (or our first allowed codec in the offer): opens RTP toward the caller,
   * sends 200 with the SDP answer, and reports `leg.connected` once the ACK arrives.
   */
  async answer(codec?: AudioCodecName): Promise<void> {
    const call = this.#incoming;
    if (!call || this.#answering) throw new Error("Cannot answer: not an unanswered inbound call");
    this.#answering = true;
    const base = {
      allowed: this.#allowed,
      preferred: codec,
      sessionId: Date.now(),
      sessionVersion: 1,
    };
    const probe = this.#negotiate(call.offer ?? "", { ...base, port: 9 });
    const opened = await this.#openRtp(probe);
    if (!opened) return;
    const answer = this.#negotiate(call.offer ?? "", {
      ...base,
      preferred: probe.codec.name,
      port: opened.localPort,
    });
    let session: DialogSession;
    try {
      session = await call.answer(answer.sdp);
    } catch (err) {
      this.deps.logger.warn("SIP answer failed", { leg_id: this.id, error: err });
      void this.hangup("connect_failed");
      return;
    }
    this.#connected(session);
  }

  // ---- outbound ----

  /**
   * Places the call: opens RTP (to learn our port), offers, and on a 2xx points RTP at the
   * answer and reports `leg.connected`; a failure ends the leg with the INVITE's CDR reason.
   */
  async dial(ua: UserAgent, o: SipDialOptions): Promise<void> {
    const base = {
      address: this.#media.sdpAddress,
      codecs: o.codecs,
      rtcpMux: false,
      sessionId: Date.now(),
      sessionVersion: 1,
    };
    // The payload types do not depend on the port: learn them, open RTP, then offer for real.
    const probe = buildOffer({ ...base, port: 9 });
    const first = probe.codecs[0];
    const opened = await this.#openRtp(
      {
        codec: { name: first.name, payloadType: first.payloadType },
        telephoneEventPt: probe.telephoneEvents.find((t) => t.clockRate === 8000)?.payloadType,
        rtcpMux: false,
      },
      o.roomId,
    ).catch((err) => {
      this.deps.logger.warn("SIP dial: RTP open failed", { leg_id: this.id, error: err });
      void this.hangup("invite_failed");
      return undefined;
    });
    if (!opened) return;
    const offer = buildOffer({ ...base, port: opened.localPort });
    let call: OutgoingCall;
    try {
      call = ua.invite({ uri: o.uri, from: o.from, sdp: offer.sdp, headers: o.headers });
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
    this.#accepted(session, offer, first.name);
  }

  #accepted(session: DialogSession, offer: LocalOffer, opened: AudioCodecName): void {
    const answer = parseAnswer(offer, session.remoteSdp ?? "");
    if (!answer.ok || answer.codec.name !== opened) {
      // The RTP session runs one codec; switching it after the answer is not supported yet.
      this.deps.logger.warn("SIP answer not usable", {
        leg_id: this.id,
        detail: answer.ok ? `answer chose ${answer.codec.name}` : answer.message,
      });
      this.#session = session;
      void this.hangup("not_acceptable");
      return;
    }
    this.#rtp.updateRemote(this.id, remoteOf(answer));
    this.#connected(session);
  }

  // ---- shared ----

  #negotiate(
    offer: string,
    o: {
      allowed: readonly AudioCodecName[];
      preferred?: AudioCodecName;
      port: number;
      sessionId: number;
      sessionVersion: number;
    },
  ): Negotiated {
    const result = answerOffer(offer, { ...o, address: this.#media.sdpAddress });
    // The offer was checked when the call arrived and the codec when the answer was requested.
    if (!result.ok) throw new Error(`Cannot answer: ${result.message}`);
    return result;
  }

  /** Opens the RTP session; undefined (and closed again) when the leg ended meanwhile. */
  async #openRtp(
    n: Pick<Negotiated, "rtcpMux" | "telephoneEventPt"> & {
      codec: { name: string; payloadType: number };
      remote?: Negotiated["remote"];
    },
    roomId?: string,
  ): Promise<RtpOpened | undefined> {
    if (this.#ending) return undefined;
    const opened = await this.#rtp.open(this.id, {
      bindHost: this.#media.bindHost,
      rtcpMux: n.rtcpMux,
      codec: { name: n.codec.name, payloadType: n.codec.payloadType },
      telephoneEventPt: n.telephoneEventPt,
      remote: n.remote ? remoteOf(n as Negotiated) : undefined,
      jitter: this.#media.jitter,
    }, { roomId });
    this.#rtpClosed = Promise.withResolvers<void>();
    this.#mediaOpen = true;
    if (this.#ending) {
      this.#closeRtp();
      return undefined;
    }
    return opened;
  }

  #connected(session: DialogSession): void {
    this.#session = session;
    void session.ended.then((end) => {
      const reason = endReason(end);
      if (reason) void this.hangup(reason);
    });
    if (this.#ending || session.state === "terminated") return;
    this.setState("connected");
    this.publish("leg.connected", { leg_type: this.type });
    this.onConnected?.(this);
  }

  #closeRtp(): void {
    if (!this.#mediaOpen) return;
    this.#mediaOpen = false;
    this.#rtp.close(this.id);
  }

  protected override async terminate(reason: string): Promise<void> {
    this.#ending = true;
    clearTimeout(this.#ringTimer);
    clearTimeout(this.#maxTimer);
    const waits: Promise<unknown>[] = [];
    if (this.#session) {
      waits.push(this.#session.bye());
    } else if (this.#outgoing) {
      this.#outgoing.cancel();
    } else if (this.#incoming && this.#incoming.state !== "answered") {
      // An unanswered inbound call gets a final response (480 when no reason maps).
      this.#incoming.reject(REJECT_STATUS[reason] ?? 480);
    }
    const hadMedia = this.#mediaOpen;
    this.#closeRtp();
    if (hadMedia && this.#rtpClosed) waits.push(this.#rtpClosed.promise);
    if (waits.length === 0) return;
    // The CDR waits for the RTP statistics and the BYE's reply, each within a bound.
    const timeout = delay(hadMedia && !this.#session ? RTP_CLOSE_WAIT_MS : BYE_WAIT_MS);
    try {
      await Promise.race([Promise.allSettled(waits), timeout.promise]);
    } finally {
      timeout.cancel();
    }
  }

  protected override quality(): CallQuality | undefined {
    return this.#quality;
  }
}

/** The RTP address from a negotiation. */
function remoteOf(n: Negotiated): RtpRemote {
  return n.rtcpMux
    ? { host: n.remote.address, port: n.remote.port }
    : { host: n.remote.address, port: n.remote.port, rtcpPort: n.remote.rtcpPort };
}
