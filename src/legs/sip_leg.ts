/**
 * SIP legs (compat-notes §1 "SIP inbound"/"SIP outbound"): signalling through the dialog layer's
 * `IncomingCall`/`OutgoingCall`/`DialogSession`, media through an RTP session that a media worker
 * owns (`RtpEndpoints`). The RTP endpoint id is the leg id.
 */
import { BaseLeg, type BaseLegInit, type LegDeps } from "./base_leg.ts";
import type { CallQuality, LegView } from "./leg.ts";
import type { RtpEndpoints, RtpOpened } from "../media_plane/rtp_endpoints.ts";
import type { RtpRemote } from "../media/rtp_options.ts";
import type { RtpOpenOptions } from "../media/protocol.ts";
import {
  answerOffer,
  type AudioCodecName,
  buildOffer,
  holdOffer,
  type LocalOffer,
  type Negotiated,
  nextSessionVersion,
  offeredCodecs,
  parseAnswer,
  parseSdp,
  resumeOffer,
} from "../sdp/mod.ts";
import {
  CallFailedError,
  type DialogEnd,
  type DialogSession,
  type IncomingCall,
  type OfferReply,
  type OutgoingCall,
  type RemoteOffer,
  type UserAgent,
} from "../sip/dialog/mod.ts";
import type { NameAddr, SipUri } from "../sip/message/mod.ts";
import type { DigestCredentials } from "../sip/auth/digest.ts";

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
  /** Next hop as a pre-loaded loose Route (the Request-URI stays `uri`). */
  readonly outboundProxy?: SipUri;
  /** Answer one 401/407 challenge with these. */
  readonly auth?: DigestCredentials;
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
  /** Called when an outbound call gets early media (joins `room_id` ahead of the answer). */
  onEarlyMedia: ((leg: SipLeg) => void) | undefined;
  readonly #rtp: RtpEndpoints;
  readonly #media: SipMediaSettings;
  /** The address family of this call's media: v6 when the peer is reached over IPv6. */
  #addr: { readonly bindHost: string; readonly sdpAddress: string };
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
  /** The negotiated codec and our RTP port (answers to the peer's re-offers reuse them). */
  #codec: AudioCodecName | undefined;
  #localPort = 0;
  /** Who put the call on hold, while it is held. */
  #heldBy: "local" | "remote" | undefined;
  #holdBusy = false;
  /** The inbound answer (RTP open, SDP built), shared by early media and the final answer. */
  #prepared: Promise<Negotiated | undefined> | undefined;

  constructor(init: BaseLegInit, deps: LegDeps, rtp: RtpEndpoints, media: SipMediaSettings) {
    super(init, deps);
    this.#rtp = rtp;
    this.#media = media;
    this.#addr = media;
  }

  /** Media over IPv6 when `host` is an IPv6 literal and IPv6 is configured (RFC 4566 §5.7). */
  #useFamilyOf(host: string): void {
    const v6 = host.replace(/^\[|\]$/g, "").includes(":");
    this.#addr = v6 && this.#media.v6 ? this.#media.v6 : this.#media;
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

  /** Whether the leg has an RTP session that can carry RFC 4733 digits. */
  get canSendDtmf(): boolean {
    return this.#mediaOpen && !this.#ending;
  }

  /** Queues RFC 4733 digits; a failure the worker reports becomes `leg.command_failed`. */
  sendDtmf(digits: string): void {
    if (!this.canSendDtmf) throw new Error("leg has no RTP session");
    this.#rtp.sendDtmf(this.id, digits, (message) => {
      this.publish("leg.command_failed", { command: "dtmf", error: message });
    });
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
    let answer: Negotiated | undefined;
    try {
      // After early media the 183's answer (codec and RTP session) is reused.
      this.#prepared ??= this.#prepareAnswer(call, codec);
      answer = await this.#prepared;
    } catch (err) {
      // No media for the call (e.g. RTP ports exhausted): the caller gets a 500 at once.
      this.#commandFailed("answer", err);
      void this.hangup("server_error");
      return;
    }
    if (!answer) return;
    let session: DialogSession;
    try {
      session = await call.answer(answer.sdp);
    } catch (err) {
      this.deps.logger.warn("SIP answer failed", { leg_id: this.id, error: err });
      this.#commandFailed("answer", err);
      void this.hangup("connect_failed");
      return;
    }
    this.#connected(session);
  }

  /** Whether early media was requested on this inbound call. */
  get earlyMediaStarted(): boolean {
    return this.#prepared !== undefined;
  }

  /**
   * Inbound early media: opens RTP toward the caller and sends 183 with the SDP answer that a
   * later `answer()` reuses; state `early_media` and `leg.early_media`. Failures become
   * `leg.command_failed{command:"early_media"}`.
   */
  async earlyMedia(codec?: AudioCodecName): Promise<void> {
    const call = this.#incoming;
    if (!call || this.#answering || this.#prepared) {
      throw new Error("Cannot start early media: not a ringing inbound call");
    }
    let answer: Negotiated | undefined;
    try {
      this.#prepared = this.#prepareAnswer(call, codec);
      answer = await this.#prepared;
    } catch (err) {
      this.#commandFailed("early_media", err);
      return;
    }
    // An answer requested meanwhile sends the 200 itself.
    if (!answer || this.#ending || this.#answering) return;
    if (!call.progress(answer.sdp)) {
      this.publish("leg.command_failed", {
        command: "early_media",
        error: `the call is ${call.state}`,
      });
      return;
    }
    this.setState("early_media");
    this.publish("leg.early_media", { leg_type: this.type });
  }

  /** Opens RTP toward the caller and builds the SDP answer (undefined when the leg ended). */
  async #prepareAnswer(
    call: IncomingCall,
    codec: AudioCodecName | undefined,
  ): Promise<Negotiated | undefined> {
    const base = {
      allowed: this.#allowed,
      preferred: codec,
      sessionId: Date.now(),
      sessionVersion: 1,
    };
    const probe = this.#negotiate(call.offer ?? "", { ...base, port: 9 });
    // Answer in the offer's address family: our c= must be reachable by the caller.
    this.#useFamilyOf(probe.remote.address);
    const opened = await this.#openRtp(probe);
    if (!opened) return undefined;
    const answer = this.#negotiate(call.offer ?? "", {
      ...base,
      preferred: probe.codec.name,
      port: opened.localPort,
    });
    this.#codec = answer.codec.name;
    this.#localPort = opened.localPort;
    return answer;
  }

  // ---- outbound ----

  /**
   * Places the call: opens RTP (to learn our port), offers, and on a 2xx points RTP at the
   * answer and reports `leg.connected`; a failure ends the leg with the INVITE's CDR reason.
   */
  async dial(ua: UserAgent, o: SipDialOptions): Promise<void> {
    this.#useFamilyOf((o.outboundProxy ?? o.uri).host);
    const base = {
      address: this.#addr.sdpAddress,
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
    this.#localPort = opened.localPort;
    const offer = buildOffer({ ...base, port: opened.localPort });
    let call: OutgoingCall;
    try {
      call = ua.invite({
        uri: o.uri,
        from: o.from,
        sdp: offer.sdp,
        headers: o.headers,
        outboundProxy: o.outboundProxy,
        auth: o.auth,
        onEarlyMedia: (sdp) => this.#outboundEarlyMedia(offer, first.name, sdp),
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
    await this.#accepted(session, offer, first.name, o.roomId);
  }

  /** A 183 with SDP: point RTP at it; the first one moves the leg to `early_media`. */
  #outboundEarlyMedia(offer: LocalOffer, opened: AudioCodecName, sdp: string): void {
    if (this.#ending) return;
    const answer = parseAnswer(offer, sdp);
    if (!answer.ok || answer.codec.name !== opened) {
      this.deps.logger.warn("SIP early media not usable", {
        leg_id: this.id,
        detail: answer.ok ? `183 chose ${answer.codec.name}` : answer.message,
      });
      return;
    }
    this.#rtp.updateRemote(this.id, remoteOf(answer));
    if (this.state !== "ringing") return;
    this.setState("early_media");
    this.publish("leg.early_media", { leg_type: this.type });
    this.onEarlyMedia?.(this);
  }

  async #accepted(
    session: DialogSession,
    offer: LocalOffer,
    opened: AudioCodecName,
    roomId: string | undefined,
  ): Promise<void> {
    const answer = parseAnswer(offer, session.remoteSdp ?? "");
    let usable = answer.ok;
    if (answer.ok && answer.codec.name !== opened) {
      // The answer picked a later codec of our offer: the session restarts with it on the same
      // port (the SDP we sent stays true). Only before the leg mixes anywhere (early media may
      // already have put it in a room with the first codec's rate).
      usable = this.roomId === undefined && await this.#reopenRtp(answer, roomId);
    }
    if (!answer.ok || !usable) {
      this.deps.logger.warn("SIP answer not usable", {
        leg_id: this.id,
        detail: answer.ok ? `answer chose ${answer.codec.name}` : answer.message,
      });
      this.#session = session;
      void this.hangup("not_acceptable");
      return;
    }
    this.#codec = answer.codec.name;
    this.#rtp.updateRemote(this.id, remoteOf(answer));
    this.#connected(session);
  }

  /** Restarts the RTP session with the answer's codec; false when that failed. */
  async #reopenRtp(answer: Negotiated, roomId: string | undefined): Promise<boolean> {
    if (this.#ending || !this.#mediaOpen) return false;
    try {
      await this.#rtp.reopen(this.id, this.#sessionOptions(answer), { roomId });
      return !this.#ending;
    } catch (err) {
      this.#mediaOpen = false;
      this.deps.logger.warn("SIP RTP reopen failed", { leg_id: this.id, error: err });
      return false;
    }
  }

  // ---- hold ----

  /** Whether a hold/unhold re-INVITE is in flight. */
  get holdBusy(): boolean {
    return this.#holdBusy;
  }

  /**
   * Puts the call on hold (`hold`) or resumes it: a re-INVITE with sendonly / sendrecv, then the
   * RTP direction, state and `leg.hold`/`leg.unhold`; a failure becomes `leg.command_failed`.
   */
  async setHold(hold: boolean): Promise<void> {
    const command = hold ? "hold" : "unhold";
    const session = this.#session;
    const local = session?.localSdp;
    if (!session || local === undefined || this.#holdBusy) {
      this.publish("leg.command_failed", { command, error: "no established session" });
      return;
    }
    this.#holdBusy = true;
    try {
      const prev = parseSdp(local);
      const offer = hold ? holdOffer(prev) : resumeOffer(prev);
      await session.reinvite(offer.sdp);
      if (this.#ending) return;
      if (hold) {
        this.#rtp.setDirection(this.id, "sendonly");
        this.#markHeld("local");
      } else {
        this.#rtp.setDirection(this.id, "sendrecv");
        this.#markResumed();
      }
    } catch (err) {
      this.#commandFailed(command, err);
    } finally {
      this.#holdBusy = false;
    }
  }

  #markHeld(by: "local" | "remote"): void {
    const was = this.held;
    this.#heldBy = by;
    this.held = true;
    this.setState("held");
    if (!was) this.publish("leg.hold", {});
  }

  #markResumed(): void {
    const was = this.held;
    this.#heldBy = undefined;
    this.held = false;
    this.setState("connected");
    if (was) this.publish("leg.unhold", {});
  }

  /** The peer's re-INVITE/UPDATE offer: answer with our codec and apply its direction. */
  #onOffer(offer: RemoteOffer): OfferReply {
    const localSdp = this.#session?.localSdp;
    if (localSdp === undefined || this.#codec === undefined) return { status: 488 };
    const local = parseSdp(localSdp);
    const result = answerOffer(offer.sdp, {
      allowed: [this.#codec],
      address: this.#addr.sdpAddress,
      port: this.#localPort,
      sessionId: local.origin.sessionId,
      sessionVersion: nextSessionVersion(local.origin.sessionVersion),
      direction: this.#heldBy === "local" ? "sendonly" : "sendrecv",
      rtcpMux: local.media.some((m) => m.media === "audio" && m.port !== 0 && m.rtcpMux === true),
    });
    if (!result.ok) return { status: result.sipStatus ?? 488 };
    this.#rtp.updateRemote(this.id, remoteOf(result));
    this.#rtp.setDirection(this.id, result.direction);
    if (result.remoteHold) {
      if (this.#heldBy !== "local") this.#markHeld("remote");
    } else if (this.#heldBy === "remote") {
      this.#markResumed();
    }
    return { sdp: result.sdp };
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
    const result = answerOffer(offer, { ...o, address: this.#addr.sdpAddress });
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
    const opened = await this.#rtp.open(this.id, this.#sessionOptions(n), { roomId });
    this.#rtpClosed = Promise.withResolvers<void>();
    this.#mediaOpen = true;
    if (this.#ending) {
      this.#closeRtp();
      return undefined;
    }
    return opened;
  }

  #sessionOptions(
    n: Pick<Negotiated, "rtcpMux" | "telephoneEventPt"> & {
      codec: { name: string; payloadType: number };
      remote?: Negotiated["remote"];
    },
  ): Omit<RtpOpenOptions, "port"> {
    return {
      bindHost: this.#addr.bindHost,
      rtcpMux: n.rtcpMux,
      codec: { name: n.codec.name, payloadType: n.codec.payloadType },
      telephoneEventPt: n.telephoneEventPt,
      remote: n.remote ? remoteOf(n as Negotiated) : undefined,
      jitter: this.#media.jitter,
    };
  }

  /** `leg.command_failed` for a 202 command whose work failed afterwards. */
  #commandFailed(command: string, err: unknown): void {
    this.publish("leg.command_failed", {
      command,
      error: err instanceof Error ? err.message : String(err),
    });
  }

  #connected(session: DialogSession): void {
    this.#session = session;
    session.onOffer = (offer) => this.#onOffer(offer);
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
