/**
 * SIP leg operations (compat-notes §1 "SIP inbound"/"SIP outbound"): the inbound INVITE handler
 * (`leg.ringing`, then the app decides), `answer_leg` and `leg_ring`, and the outbound dial behind
 * `POST /v1/legs {"type":"sip"}`.
 */
import { z } from "@hono/zod-openapi";
import { BadRequest, Conflict, NotFound } from "../errors.ts";
import type { WebhookTarget } from "../events/event.ts";
import type { SipLeg, SipMediaSettings } from "../legs/sip_leg.ts";
import { SipInboundLeg } from "../legs/sip_inbound_leg.ts";
import { SipOutboundLeg } from "../legs/sip_outbound_leg.ts";
import { HELD_LIMIT_MS } from "../legs/sip_leg_media.ts";
import { joinRoom } from "../rooms/membership.ts";
import { answerOffer, type AudioCodecName, audioCodecName, offeredCodecs } from "../sdp/mod.ts";
import type { IncomingCall } from "../sip/dialog/mod.ts";
import { formatUri, type Uri } from "../sip/message/mod.ts";
import { legDeps } from "./leg_deps.ts";
import { enabledCodecs, parseSipDial, type SipDialInput } from "./sip_dial_input.ts";
import { defineOperation, type OpContext, type OpResult } from "./operation.ts";
import { LegIdParam } from "./schemas.ts";

/** The media settings of every SIP leg. */
function mediaSettings(ctx: OpContext): SipMediaSettings {
  const { config, sip } = ctx;
  return {
    bindHost: config.sipBindIp,
    // SIP_EXTERNAL_IP, else SIP_BIND_IP (the host's address when that is 0.0.0.0).
    sdpAddress: config.sipExternalIp || sip.advertisedIp,
    jitter: { targetMs: config.sipJitterBufferMs, maxMs: config.sipJitterBufferMaxMs },
    heldLimitMs: sip.heldLimitMs ?? HELD_LIMIT_MS,
    v6: config.sipBindIpv6
      ? { bindHost: config.sipBindIpv6, sdpAddress: sip.advertisedIpv6 }
      : undefined,
  };
}

/** The user part of a URI (the number or name the contract's `from`/`to` carry). */
function userOf(uri: Uri): string {
  if (uri.kind === "sip") return uri.user ?? "";
  if (uri.kind === "tel") return uri.number;
  return uri.value;
}

/** Joins `roomId` (created when missing) once the leg has media; failures become an event. */
function autoJoin(ctx: OpContext, leg: SipLeg, roomId: string): void {
  try {
    const room = ctx.rooms.get(roomId) ??
      ctx.rooms.create({ id: roomId, sampleRate: ctx.config.defaultSampleRate, appId: leg.appId });
    joinRoom(ctx, leg, room);
  } catch (err) {
    leg.publish("leg.command_failed", {
      command: "add_to_room",
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

// ---- inbound ----

/** Routes the user agent's new INVITEs into `sip_inbound` legs. */
export function attachSipInbound(ctx: OpContext): void {
  ctx.sip.ua.onInvite = (call) => receiveInvite(ctx, call);
}

function receiveInvite(ctx: OpContext, call: IncomingCall): void {
  const allowed = enabledCodecs(ctx.config);
  // The offer is checked now so a call we cannot take is refused before anyone sees it. An
  // INVITE without one (RFC 3264 §5 late offer) gets our offer in the 200 OK instead.
  if (call.offer !== undefined) {
    const probe = answerOffer(call.offer, {
      allowed,
      address: mediaSettings(ctx).sdpAddress,
      port: 9,
      sessionId: 1,
      sessionVersion: 1,
    });
    if (!probe.ok) {
      call.reject(probe.sipStatus ?? 488);
      return;
    }
  }
  const request = call.request;
  const headers: Record<string, string> = {};
  for (const h of request.headers) {
    if (h.name.toLowerCase().startsWith("x-")) headers[h.name] = h.value;
  }
  const find = (name: string) =>
    Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
  const hookUrl = find("x-webhook-url");
  const webhook: WebhookTarget | undefined = hookUrl
    ? { url: hookUrl, secret: find("x-webhook-secret") || undefined }
    : undefined;
  const leg = new SipInboundLeg(
    { type: "sip_inbound", state: "ringing", appId: find("x-app-id"), webhook, headers },
    legDeps(ctx),
    ctx.rtp,
    mediaSettings(ctx),
  );
  leg.attachIncoming(call, allowed);
  ctx.legs.add(leg);
  const source = call.transaction.source;
  leg.publish("leg.ringing", {
    leg_type: leg.type,
    from: userOf(request.from.uri),
    to: userOf(request.to.uri),
    sip_headers: Object.keys(headers).length > 0 ? headers : undefined,
    offered_codecs: call.offer === undefined ? [] : offeredCodecs(call.offer),
    // RFC 3986 host:port: an IPv6 address in brackets.
    source_address: source.host.includes(":")
      ? `[${source.host.replace(/^\[|\]$/g, "")}]:${source.port}`
      : `${source.host}:${source.port}`,
  });
  if (ctx.config.sipAutoRinging) call.ring();
}

/** The SIP inbound leg `id`: 404 when unknown, 400 when not SIP inbound. */
function inboundLeg(ctx: OpContext, id: string): SipInboundLeg {
  const leg = ctx.legs.get(id);
  if (!leg) throw new NotFound("leg not found");
  if (!(leg instanceof SipInboundLeg)) {
    throw new BadRequest("leg is not a SIP inbound leg");
  }
  return leg;
}

/** Body of `POST /v1/legs/{id}/answer` (optional). */
export const AnswerLegBody = z.object({
  codec: z.string().max(32).optional(),
  speech_detection: z.boolean().optional(),
}).openapi("AnswerLegRequest");

/** POST /v1/legs/{id}/answer · answer_leg — 202 at once; `leg.connected` follows. */
export const answerLeg = defineOperation({
  name: "answer_leg",
  summary: "Answer a ringing inbound leg",
  params: LegIdParam,
  body: AnswerLegBody,
  run(ctx, input): OpResult {
    const leg = inboundLeg(ctx, input.id);
    if ((leg.state !== "ringing" && leg.state !== "early_media") || leg.answering) {
      throw new Conflict(`leg is not ringing (state ${leg.answering ? "answering" : leg.state})`);
    }
    let codec: AudioCodecName | undefined;
    if (input.codec !== undefined) {
      codec = audioCodecName(input.codec);
      if (!codec || !leg.offeredCodecNames().includes(codec)) {
        throw new BadRequest(`invalid codec: ${input.codec} was not offered`);
      }
    }
    ctx.background(leg.answer(codec));
    return { status: 202, body: { status: "answering" } };
  },
});

/** POST /v1/legs/{id}/ring · leg_ring — sends 180 Ringing. */
export const ringLeg = defineOperation({
  name: "leg_ring",
  summary: "Send a 180 Ringing on a SIP inbound leg",
  params: LegIdParam,
  run(ctx, input): OpResult {
    const leg = inboundLeg(ctx, input.id);
    if (leg.state !== "ringing" || leg.answering || !leg.ring()) {
      throw new Conflict("leg is not ringing");
    }
    return { status: 202, body: { status: "ringing" } };
  },
});

/** Body of `POST /v1/legs/{id}/early-media` (optional). */
export const EarlyMediaBody = z.object({
  codec: z.string().max(32).optional(),
}).openapi("EarlyMediaRequest");

/** POST /v1/legs/{id}/early-media · leg_early_media — 202 at once; 183 and `leg.early_media` follow. */
export const earlyMediaLeg = defineOperation({
  name: "leg_early_media",
  summary: "Send 183 Session Progress with SDP and open media on a ringing inbound leg",
  params: LegIdParam,
  body: EarlyMediaBody,
  run(ctx, input): OpResult {
    const leg = inboundLeg(ctx, input.id);
    if (!leg.hasOffer) {
      // Early media answers the INVITE's offer; without one it would need reliable provisional
      // responses (RFC 3262), which we do not offer.
      throw new BadRequest("early media needs an SDP offer in the INVITE (this one had none)");
    }
    if (leg.state !== "ringing" || leg.answering || leg.earlyMediaStarted) {
      const state = leg.answering ? "answering" : leg.earlyMediaStarted ? "early_media" : leg.state;
      throw new Conflict(`leg is not ringing (state ${state})`);
    }
    let codec: AudioCodecName | undefined;
    if (input.codec !== undefined) {
      codec = audioCodecName(input.codec);
      if (!codec || !leg.offeredCodecNames().includes(codec)) {
        throw new BadRequest(`invalid codec: ${input.codec} was not offered`);
      }
    }
    ctx.background(leg.earlyMedia(codec));
    return { status: 202, body: { status: "early_media" } };
  },
});

/** The SIP inbound operations, for the VSI table. */
export const SIP_LEG_OPS = [answerLeg, ringLeg, earlyMediaLeg] as const;

// ---- outbound ----

/** The `POST /v1/legs` fields a SIP dial reads. */
export interface SipCreateInput extends SipDialInput {
  readonly room_id?: string;
  readonly ring_timeout?: number;
  readonly max_duration?: number;
  readonly app_id?: string;
  readonly webhook_url?: string;
  readonly webhook_secret?: string;
  readonly accept_dtmf?: boolean;
}

/** `POST /v1/legs {"type":"sip"}`: validates, answers 201 ringing, dials in the background. */
export function createSipLeg(ctx: OpContext, input: SipCreateInput): OpResult {
  const dial = parseSipDial(input, ctx.config, ctx.sip.advertisedIp);
  if (input.webhook_secret && !input.webhook_url) {
    throw new BadRequest("invalid webhook_secret: requires webhook_url");
  }
  const headers = dial.xHeaders;
  const leg = new SipOutboundLeg(
    {
      type: "sip_outbound",
      state: "ringing",
      appId: input.app_id,
      webhook: input.webhook_url
        ? { url: input.webhook_url, secret: input.webhook_secret || undefined }
        : undefined,
      headers,
    },
    legDeps(ctx),
    ctx.rtp,
    mediaSettings(ctx),
  );
  if (input.accept_dtmf !== undefined) leg.acceptDtmf = input.accept_dtmf;
  // compat §1: the leg joins room_id on early media or on connect, whichever comes first.
  let joined = false;
  const join = (l: SipLeg) => {
    if (!input.room_id || joined) return;
    joined = true;
    autoJoin(ctx, l, input.room_id);
  };
  leg.onEarlyMedia = join;
  leg.onConnected = (l) => {
    l.setMaxDuration(input.max_duration ?? 0);
    join(l);
  };
  ctx.legs.add(leg);
  leg.publish("leg.ringing", {
    leg_type: leg.type,
    uri: formatUri(dial.uri),
    from: formatUri(dial.from.uri),
    sip_headers: Object.keys(headers).length > 0 ? headers : undefined,
  });
  ctx.background(leg.dial(ctx.sip.ua, {
    ...dial,
    ringTimeoutMs: (input.ring_timeout ?? 0) * 1000,
    roomId: input.room_id,
  }));
  return { status: 201, body: leg.view() };
}
