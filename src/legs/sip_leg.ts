/**
 * SIP legs (compat-notes §1 "SIP inbound"/"SIP outbound"): what both directions share once a
 * call has media — the RTP session (`SipLegMedia`, in a media worker; the endpoint id is the leg
 * id), the established dialog session, hold and re-offers, DTMF, max duration and teardown with
 * the CDR. `SipInboundLeg` and `SipOutboundLeg` add how a call starts.
 */
import { BaseLeg, type BaseLegInit, type LegDeps } from "./base_leg.ts";
import type { CallQuality, LegView } from "./leg.ts";
import type { RtpEndpoints, RtpOpened } from "../media_plane/rtp_endpoints.ts";
import { type SessionPlan, SipLegMedia, type SipMediaSettings } from "./sip_leg_media.ts";
import { endReason } from "./sip_leg_reasons.ts";
import {
  type AudioCodecName,
  buildOffer,
  holdOffer,
  type LocalOffer,
  type Negotiated,
  parseAnswer,
  parseSdp,
  resumeOffer,
} from "../sdp/mod.ts";
import type { DialogSession, OfferReply, RemoteOffer } from "../sip/dialog/mod.ts";
export type { SipMediaSettings } from "./sip_leg_media.ts";

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
export abstract class SipLeg extends BaseLeg {
  /** Called once the leg is connected (joins `room_id`, starts max-duration). */
  onConnected: ((leg: SipLeg) => void) | undefined;
  /** The leg's RTP session. */
  protected readonly media: SipLegMedia;
  /** Set once teardown began: no new media or session work starts after it. */
  protected ending = false;
  /** The established dialog session (after the 2xx/ACK). */
  protected session: DialogSession | undefined;
  readonly #heldLimitMs: number;
  #heldTimer: ReturnType<typeof setTimeout> | undefined;
  #maxTimer: ReturnType<typeof setTimeout> | undefined;
  /** Who put the call on hold, while it is held. */
  #heldBy: "local" | "remote" | undefined;
  #holdBusy = false;

  constructor(init: BaseLegInit, deps: LegDeps, rtp: RtpEndpoints, media: SipMediaSettings) {
    super(init, deps);
    this.media = new SipLegMedia(this.id, rtp, media);
    this.#heldLimitMs = media.heldLimitMs;
  }

  /** The media endpoint id (the leg id) once the RTP session is open. */
  get mediaEndpoint(): string | undefined {
    return this.media.isOpen ? this.id : undefined;
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
    return this.media.isOpen && !this.ending;
  }

  /** Queues RFC 4733 digits; a failure the worker reports becomes `leg.command_failed`. */
  sendDtmf(digits: string): void {
    if (!this.canSendDtmf) throw new Error("leg has no RTP session");
    this.media.sendDtmf(digits, (message) => {
      this.publish("leg.command_failed", { command: "dtmf", error: message });
    });
  }

  // ---- worker RTP events (routed here by the server) ----

  /** The worker closed the RTP session; `quality` is null when nothing arrived. */
  rtpClosed(quality: CallQuality | null): void {
    this.media.closedByWorker(quality);
  }

  /** No RTP for the configured time (RTP_TIMEOUT). */
  rtpTimeout(): void {
    void this.hangup("rtp_timeout");
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
    const session = this.session;
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
      if (this.ending) return;
      if (hold) {
        this.media.setDirection("sendonly");
        this.#markHeld("local");
      } else {
        this.media.setDirection("sendrecv");
        this.#markResumed();
      }
    } catch (err) {
      this.commandFailed(command, err);
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
    const localSdp = this.session?.localSdp;
    if (localSdp === undefined || this.media.codec === undefined) return { status: 488 };
    const result = this.media.answerReoffer(
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

  // ---- shared by both directions ----

  /** Opens the RTP session; undefined (and closed again) when the leg ended meanwhile. */
  protected async openRtp(plan: SessionPlan, roomId?: string): Promise<RtpOpened | undefined> {
    if (this.ending) return undefined;
    const opened = await this.media.start(plan, roomId);
    if (this.ending) {
      void this.media.stop();
      return undefined;
    }
    return opened;
  }

  /**
   * Opens RTP with the first of `codecs` (to learn our port) and builds our SDP offer on it;
   * undefined when the leg ended meanwhile. Throws when RTP cannot be opened.
   */
  protected async openForOffer(
    codecs: readonly AudioCodecName[],
    roomId?: string,
  ): Promise<{ offer: LocalOffer; first: AudioCodecName } | undefined> {
    const base = {
      address: this.media.sdpAddress,
      codecs,
      rtcpMux: false,
      sessionId: Date.now(),
      sessionVersion: 1,
    };
    // The payload types do not depend on the port: learn them, open RTP, then offer for real.
    const probe = buildOffer({ ...base, port: 9 });
    const first = probe.codecs[0];
    const opened = await this.openRtp({
      codec: { name: first.name, payloadType: first.payloadType },
      telephoneEventPt: probe.telephoneEvents.find((t) => t.clockRate === 8000)?.payloadType,
      rtcpMux: false,
    }, roomId);
    if (!opened) return undefined;
    return { offer: buildOffer({ ...base, port: opened.localPort }), first: first.name };
  }

  /**
   * Our offer was answered (a 2xx to our INVITE, or the ACK to our 200 for a late offer): point
   * RTP at the answer — restarting it first when the answer picked a later codec of the offer —
   * and report the leg connected; an unusable answer ends it with `not_acceptable`.
   */
  protected async offerAnswered(
    session: DialogSession,
    offer: LocalOffer,
    opened: AudioCodecName,
    roomId: string | undefined,
  ): Promise<void> {
    const answer = parseAnswer(offer, session.remoteSdp ?? "");
    let usable = answer.ok;
    if (answer.ok && answer.codec.name !== opened) {
      // The session restarts on the same port (the SDP we sent stays true). Only before the leg
      // mixes anywhere (early media may already have put it in a room at the first codec's rate).
      usable = this.roomId === undefined && await this.#restartRtp(answer, roomId);
    }
    if (!answer.ok || !usable) {
      this.deps.logger.warn("SIP answer not usable", {
        leg_id: this.id,
        detail: answer.ok ? `answer chose ${answer.codec.name}` : answer.message,
      });
      this.session = session;
      void this.hangup("not_acceptable");
      return;
    }
    this.media.codec = answer.codec.name;
    this.media.pointAt(answer);
    this.connected(session);
  }

  /** Restarts the RTP session with the answer's codec; false when that failed. */
  async #restartRtp(answer: Negotiated, roomId: string | undefined): Promise<boolean> {
    if (this.ending) return false;
    return await this.media.restart(answer, roomId) && !this.ending;
  }

  /** `leg.command_failed` for a 202 command whose work failed afterwards. */
  protected commandFailed(command: string, err: unknown): void {
    this.publish("leg.command_failed", {
      command,
      error: err instanceof Error ? err.message : String(err),
    });
  }

  /** The session is established: follow its re-offers and its end, report `leg.connected`. */
  protected connected(session: DialogSession): void {
    this.session = session;
    session.onOffer = (offer) => this.#onOffer(offer);
    void session.ended.then((end) => {
      const reason = endReason(end);
      if (reason) void this.hangup(reason);
    });
    // A BYE that overtook a lost ACK still ends an answered call: it is reported connected
    // first, then `ended` above hangs it up as remote_bye.
    if (this.ending) return;
    this.setState("connected");
    this.publish("leg.connected", { leg_type: this.type });
    this.onConnected?.(this);
  }

  /** Ends a call that has no session yet (CANCEL, or a final response); called by teardown. */
  protected abstract endUnestablished(reason: string): void;

  protected override async terminate(reason: string): Promise<void> {
    this.ending = true;
    clearTimeout(this.#maxTimer);
    clearTimeout(this.#heldTimer);
    const waits: Promise<unknown>[] = [];
    if (this.session) waits.push(this.session.bye());
    else this.endUnestablished(reason);
    const closed = this.media.stop();
    const hadMedia = closed !== undefined;
    if (closed) waits.push(closed);
    if (waits.length === 0) return;
    // The CDR waits for the RTP statistics and the BYE's reply, each within a bound.
    const timeout = delay(hadMedia && !this.session ? RTP_CLOSE_WAIT_MS : BYE_WAIT_MS);
    try {
      await Promise.race([Promise.allSettled(waits), timeout.promise]);
    } finally {
      timeout.cancel();
    }
  }

  protected override quality(): CallQuality | undefined {
    return this.media.quality;
  }
}
