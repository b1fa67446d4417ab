/**
 * SIP legs (compat-notes §1 "SIP inbound"/"SIP outbound"): signalling through the dialog layer's
 * `IncomingCall`/`OutgoingCall`/`DialogSession`, media through an RTP session that a media worker
 * owns (`RtpEndpoints`). The RTP endpoint id is the leg id.
 */
import { BaseLeg, type BaseLegInit, type LegDeps } from "./base_leg.ts";
import type { CallQuality, LegView } from "./leg.ts";
import type { RtpEndpoints, RtpOpened } from "../media_plane/rtp_endpoints.ts";
import { type SessionPlan, SipLegMedia, type SipMediaSettings } from "./sip_leg_media.ts";
import { endReason, REJECT_STATUS } from "./sip_leg_reasons.ts";
export type { SipMediaSettings } from "./sip_leg_media.ts";
import {
  type AudioCodecName,
  buildOffer,
  holdOffer,
  type LocalOffer,
  type Negotiated,
  offeredCodecs,
  parseAnswer,
  parseSdp,
  resumeOffer,
} from "../sdp/mod.ts";
import {
  CallFailedError,
  type DialogSession,
  type IncomingCall,
  type OfferReply,
  type OutgoingCall,
  type RemoteOffer,
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

/** How long teardown waits for the worker's final RTP statistics. */
const RTP_CLOSE_WAIT_MS = 1000;
/** How long teardown waits for the BYE transaction before the leg is reported gone. */
const BYE_WAIT_MS = 2000;

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
  readonly #m: SipLegMedia;
  readonly #heldLimitMs: number;
  #heldTimer: ReturnType<typeof setTimeout> | undefined;
  #ending = false;
  #answering = false;
  #incoming: IncomingCall | undefined;
  #allowed: readonly AudioCodecName[] = [];
  #outgoing: OutgoingCall | undefined;
  #session: DialogSession | undefined;
  #ringTimer: ReturnType<typeof setTimeout> | undefined;
  #maxTimer: ReturnType<typeof setTimeout> | undefined;
  #ringTimedOut = false;
  /** Who put the call on hold, while it is held. */
  #heldBy: "local" | "remote" | undefined;
  #holdBusy = false;
  /** The inbound answer (RTP open, SDP built), shared by early media and the final answer. */
  #prepared: Promise<Negotiated | undefined> | undefined;

  constructor(init: BaseLegInit, deps: LegDeps, rtp: RtpEndpoints, media: SipMediaSettings) {
    super(init, deps);
    this.#m = new SipLegMedia(this.id, rtp, media);
    this.#heldLimitMs = media.heldLimitMs;
  }

  /** The media endpoint id (the leg id) once the RTP session is open. */
  get mediaEndpoint(): string | undefined {
    return this.#m.isOpen ? this.id : undefined;
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
    return this.#m.isOpen && !this.#ending;
  }

  /** Queues RFC 4733 digits; a failure the worker reports becomes `leg.command_failed`. */
  sendDtmf(digits: string): void {
    if (!this.canSendDtmf) throw new Error("leg has no RTP session");
    this.#m.sendDtmf(digits, (message) => {
      this.publish("leg.command_failed", { command: "dtmf", error: message });
    });
  }

  // ---- worker RTP events (routed here by the server) ----

  /** The worker closed the RTP session; `quality` is null when nothing arrived. */
  rtpClosed(quality: CallQuality | null): void {
    this.#m.closedByWorker(quality);
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
    if (call.offer === undefined) return await this.#answerWithOffer(call);
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

  /**
   * RFC 3261 §13.2.1 / RFC 3264 §5: the INVITE carried no offer, so our 200 carries one (every
   * allowed codec) and the caller's ACK the answer; RTP restarts if it picked a later codec.
   */
  async #answerWithOffer(call: IncomingCall): Promise<void> {
    this.#m.useFamilyOf(call.transaction.source.host);
    let made: { offer: LocalOffer; first: AudioCodecName } | undefined;
    try {
      made = await this.#openForOffer(this.#allowed);
    } catch (err) {
      this.#commandFailed("answer", err);
      void this.hangup("server_error");
      return;
    }
    if (!made) return;
    let session: DialogSession;
    try {
      session = await call.answer(made.offer.sdp);
    } catch (err) {
      this.#commandFailed("answer", err);
      void this.hangup("connect_failed");
      return;
    }
    await this.#accepted(session, made.offer, made.first, undefined);
  }

  /** Whether the INVITE carried an SDP offer (early media needs one). */
  get hasOffer(): boolean {
    return this.#incoming?.offer !== undefined;
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
    const probe = this.#m.answer(call.offer ?? "", { ...base, port: 9 });
    // Answer in the offer's address family: our c= must be reachable by the caller.
    this.#m.useFamilyOf(probe.remote.address);
    const opened = await this.#openRtp(probe);
    if (!opened) return undefined;
    const answer = this.#m.answer(call.offer ?? "", {
      ...base,
      preferred: probe.codec.name,
      port: opened.localPort,
    });
    this.#m.codec = answer.codec.name;
    return answer;
  }

  // ---- outbound ----

  /**
   * Places the call: opens RTP (to learn our port), offers, and on a 2xx points RTP at the
   * answer and reports `leg.connected`; a failure ends the leg with the INVITE's CDR reason.
   */
  async dial(ua: UserAgent, o: SipDialOptions): Promise<void> {
    this.#m.useFamilyOf((o.outboundProxy ?? o.uri).host);
    const made = await this.#openForOffer(o.codecs, o.roomId).catch((err) => {
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
        onEarlyMedia: (sdp) => this.#outboundEarlyMedia(offer, first, sdp),
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
    await this.#accepted(session, offer, first, o.roomId);
  }

  /**
   * Opens RTP with the first of `codecs` (to learn our port) and builds our SDP offer on it;
   * undefined when the leg ended meanwhile. Throws when RTP cannot be opened.
   */
  async #openForOffer(
    codecs: readonly AudioCodecName[],
    roomId?: string,
  ): Promise<{ offer: LocalOffer; first: AudioCodecName } | undefined> {
    const base = {
      address: this.#m.sdpAddress,
      codecs,
      rtcpMux: false,
      sessionId: Date.now(),
      sessionVersion: 1,
    };
    // The payload types do not depend on the port: learn them, open RTP, then offer for real.
    const probe = buildOffer({ ...base, port: 9 });
    const first = probe.codecs[0];
    const opened = await this.#openRtp({
      codec: { name: first.name, payloadType: first.payloadType },
      telephoneEventPt: probe.telephoneEvents.find((t) => t.clockRate === 8000)?.payloadType,
      rtcpMux: false,
    }, roomId);
    if (!opened) return undefined;
    return { offer: buildOffer({ ...base, port: opened.localPort }), first: first.name };
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
    this.#m.pointAt(answer);
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
    this.#m.codec = answer.codec.name;
    this.#m.pointAt(answer);
    this.#connected(session);
  }

  /** Restarts the RTP session with the answer's codec; false when that failed. */
  async #reopenRtp(answer: Negotiated, roomId: string | undefined): Promise<boolean> {
    if (this.#ending) return false;
    return await this.#m.restart(answer, roomId) && !this.#ending;
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
        this.#m.setDirection("sendonly");
        this.#markHeld("local");
      } else {
        this.#m.setDirection("sendrecv");
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
    if (!was) {
      this.#heldTimer = setTimeout(() => void this.hangup("rtp_timeout"), this.#heldLimitMs);
    }
    this.#heldBy = by;
    this.held = true;
    this.setState("held");
    if (!was) this.publish("leg.hold", {});
  }

  #markResumed(): void {
    const was = this.held;
    clearTimeout(this.#heldTimer);
    this.#heldBy = undefined;
    this.held = false;
    this.setState("connected");
    if (was) this.publish("leg.unhold", {});
  }

  /** The peer's re-INVITE/UPDATE offer: answer with our codec and apply its direction. */
  #onOffer(offer: RemoteOffer): OfferReply {
    const localSdp = this.#session?.localSdp;
    if (localSdp === undefined || this.#m.codec === undefined) return { status: 488 };
    const result = this.#m.answerReoffer(
      offer.sdp,
      localSdp,
      this.#heldBy === "local" ? "sendonly" : "sendrecv",
    );
    if (!result.ok) return { status: result.sipStatus ?? 488 };
    if (result.remoteHold) {
      if (this.#heldBy !== "local") this.#markHeld("remote");
    } else if (this.#heldBy === "remote") {
      this.#markResumed();
    }
    return { sdp: result.sdp };
  }

  // ---- shared ----

  /** Opens the RTP session; undefined (and closed again) when the leg ended meanwhile. */
  async #openRtp(plan: SessionPlan, roomId?: string): Promise<RtpOpened | undefined> {
    if (this.#ending) return undefined;
    const opened = await this.#m.start(plan, roomId);
    if (this.#ending) {
      void this.#m.stop();
      return undefined;
    }
    return opened;
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
    // A BYE that overtook a lost ACK still ends an answered call: it is reported connected
    // first, then `ended` above hangs it up as remote_bye.
    if (this.#ending) return;
    this.setState("connected");
    this.publish("leg.connected", { leg_type: this.type });
    this.onConnected?.(this);
  }

  protected override async terminate(reason: string): Promise<void> {
    this.#ending = true;
    clearTimeout(this.#ringTimer);
    clearTimeout(this.#maxTimer);
    clearTimeout(this.#heldTimer);
    const waits: Promise<unknown>[] = [];
    if (this.#session) {
      waits.push(this.#session.bye());
    } else if (this.#outgoing) {
      this.#outgoing.cancel();
    } else if (this.#incoming && this.#incoming.state !== "answered") {
      // An unanswered inbound call gets a final response (480 when no reason maps).
      this.#incoming.reject(REJECT_STATUS[reason] ?? 480);
    }
    const closed = this.#m.stop();
    const hadMedia = closed !== undefined;
    if (closed) waits.push(closed);
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
    return this.#m.quality;
  }
}
