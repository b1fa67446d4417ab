/**
 * A SIP inbound leg (compat-notes §1 "SIP inbound"): an INVITE the application decides on —
 * `ring` (180), `earlyMedia` (183 with our answer), `answer` (200), or a rejection with a final
 * response for the hangup reason. An INVITE without SDP (RFC 3264 §5) is answered with our offer.
 */
import { SipLeg } from "./sip_leg.ts";
import { REJECT_STATUS } from "./sip_leg_reasons.ts";
import {
  type AudioCodecName,
  type LocalOffer,
  type Negotiated,
  offeredCodecs,
} from "../sdp/mod.ts";
import type { DialogSession, IncomingCall } from "../sip/dialog/mod.ts";

/** A `sip_inbound` leg. */
export class SipInboundLeg extends SipLeg {
  #incoming: IncomingCall | undefined;
  #allowed: readonly AudioCodecName[] = [];
  #answering = false;
  /** The answer (RTP open, SDP built), shared by early media and the final answer. */
  #prepared: Promise<Negotiated | undefined> | undefined;

  /** Takes the incoming call; `allowed` are the codecs this server accepts (SIP_CODECS). */
  attachIncoming(call: IncomingCall, allowed: readonly AudioCodecName[]): void {
    this.#incoming = call;
    this.#allowed = allowed;
    call.onCancelled = () => void this.hangup("caller_cancel");
  }

  /** Whether `answer()` was called (a second answer is a conflict). */
  get answering(): boolean {
    return this.#answering;
  }

  /** Codecs of the caller's offer that we accept (an answer's `codec` must be one). */
  offeredCodecNames(): AudioCodecName[] {
    const offer = this.#incoming?.offer;
    return offer ? offeredCodecs(offer, this.#allowed).map((c) => c.name) : [];
  }

  /** Whether the INVITE carried an SDP offer (early media needs one). */
  get hasOffer(): boolean {
    return this.#incoming?.offer !== undefined;
  }

  /** Whether early media was requested on this call. */
  get earlyMediaStarted(): boolean {
    return this.#prepared !== undefined;
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
      this.commandFailed("answer", err);
      void this.hangup("server_error");
      return;
    }
    if (!answer) return;
    const session = await this.#sendAnswer(call, answer.sdp);
    if (session) this.connected(session);
  }

  /**
   * RFC 3261 §13.2.1 / RFC 3264 §5: the INVITE carried no offer, so our 200 carries one (every
   * allowed codec) and the caller's ACK the answer; RTP restarts if it picked a later codec.
   */
  async #answerWithOffer(call: IncomingCall): Promise<void> {
    this.media.useFamilyOf(call.transaction.source.host);
    let made: { offer: LocalOffer; first: AudioCodecName } | undefined;
    try {
      made = await this.openForOffer(this.#allowed);
    } catch (err) {
      this.commandFailed("answer", err);
      void this.hangup("server_error");
      return;
    }
    if (!made) return;
    const session = await this.#sendAnswer(call, made.offer.sdp);
    if (session) await this.offerAnswered(session, made.offer, made.first, undefined);
  }

  /** Sends the 200 and waits for its ACK; undefined (and the leg ended) when that failed. */
  async #sendAnswer(call: IncomingCall, sdp: string): Promise<DialogSession | undefined> {
    try {
      return await call.answer(sdp);
    } catch (err) {
      this.deps.logger.warn("SIP answer failed", { leg_id: this.id, error: err });
      this.commandFailed("answer", err);
      void this.hangup("connect_failed");
      return undefined;
    }
  }

  /**
   * Early media: opens RTP toward the caller and sends 183 with the SDP answer that a later
   * `answer()` reuses; state `early_media` and `leg.early_media`. Failures become
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
      this.commandFailed("early_media", err);
      return;
    }
    // An answer requested meanwhile sends the 200 itself.
    if (!answer || this.ending || this.#answering) return;
    if (!call.progress(answer.sdp)) {
      this.commandFailed("early_media", `the call is ${call.state}`);
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
    const probe = this.media.answer(call.offer ?? "", { ...base, port: 9 });
    // Answer in the offer's address family: our c= must be reachable by the caller.
    this.media.useFamilyOf(probe.remote.address);
    const opened = await this.openRtp(probe);
    if (!opened) return undefined;
    const answer = this.media.answer(call.offer ?? "", {
      ...base,
      preferred: probe.codec.name,
      port: opened.localPort,
    });
    this.media.codec = answer.codec.name;
    return answer;
  }

  /** An unanswered call gets a final response for `reason` (480 when none maps). */
  protected endUnestablished(reason: string): void {
    const call = this.#incoming;
    if (call && call.state !== "answered") call.reject(REJECT_STATUS[reason] ?? 480);
  }
}
