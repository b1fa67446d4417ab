/**
 * The media engine of one worker: its rooms (mixers), its endpoints and the 20 ms clock. Each
 * tick pulls one frame per member from its ingress ring, runs feature hooks (playback, bridges),
 * mixes every active room, runs the taps (recording, bridge-out), and pushes each member's
 * mixed-minus-self frame to its egress ring; then it tells the main thread to drain.
 * Rooms without members or hooks cost nothing, and a worker with no work stops its clock.
 */
import { MediaClock } from "./clock.ts";
import { RelayRings, RingIO, RtpIO } from "./endpoint_io.ts";
import { EngineEndpoint, type Member, RoomState } from "./engine_state.ts";
import { RtpSession } from "./rtp_session.ts";
import type { EndpointView, Feature, FeatureHost, RoomView } from "./feature_host.ts";
import {
  frameBytes,
  type LegRate,
  type ParticipantFlags,
  type RtpOpenOptions,
  type WorkerCommand,
  type WorkerEvent,
} from "./protocol.ts";
import { SpeakingChange, SpeakingDetector } from "./speaking.ts";

/** How often the engine reports its load (ticks). */
const LOAD_EVERY_TICKS = 50;
/** A SIP leg with no RTP for this long is reported (compat: `rtp_timeout`, paused on hold). */
const RTP_TIMEOUT_MS = 30_000;

/** Sends events to the main thread. */
export type EventSink = (ev: WorkerEvent) => void;

/** One worker's rooms, endpoints and clock. */
export class MediaEngine implements FeatureHost {
  readonly #emit: EventSink;
  readonly #rooms = new Map<string, RoomState>();
  readonly #endpoints = new Map<string, EngineEndpoint>();
  readonly #clock: MediaClock;
  readonly #features: Feature[];
  #nextSlot = 1;
  #seq = 0;

  constructor(emit: EventSink, options: { periodMs?: number; features?: Feature[] } = {}) {
    this.#emit = emit;
    this.#features = options.features ?? [];
    this.#clock = new MediaClock(() => this.tick(), { periodMs: options.periodMs });
  }

  // ── FeatureHost ──────────────────────────────────────────────────────────

  room(id: string): RoomView | undefined {
    return this.#rooms.get(id);
  }

  endpoint(id: string): EndpointView | undefined {
    return this.#endpoints.get(id);
  }

  emit(ev: WorkerEvent): void {
    this.#emit(ev);
  }

  wake(): void {
    let work = this.#endpoints.size > 0;
    if (!work) {
      for (const r of this.#rooms.values()) {
        if (r.hooks.size > 0) {
          work = true;
          break;
        }
      }
    }
    if (work) this.#clock.start();
    else this.#clock.stop();
  }

  // ── commands ─────────────────────────────────────────────────────────────

  /** Applies one command from the main thread. */
  handle(cmd: WorkerCommand): void {
    switch (cmd.t) {
      case "room.create":
        if (!this.#rooms.has(cmd.roomId)) {
          this.#rooms.set(cmd.roomId, new RoomState(cmd.roomId, cmd.rate));
        }
        return;
      case "room.delete": {
        const room = this.#rooms.get(cmd.roomId);
        if (!room) return;
        for (const id of [...room.members.keys()]) this.#leave(id);
        for (const f of this.#features) f.roomGone?.(cmd.roomId, this);
        this.#rooms.delete(cmd.roomId);
        this.wake();
        return;
      }
      case "room.routing":
        this.#rooms.get(cmd.roomId)?.setMatrix(cmd.matrix);
        return;
      case "endpoint.attach":
        this.#endpoints.set(
          cmd.endpointId,
          new EngineEndpoint(
            cmd.endpointId,
            cmd.rate,
            new RingIO(cmd.ingress, cmd.egress, frameBytes(cmd.rate)),
            cmd.speech,
          ),
        );
        this.wake();
        return;
      case "endpoint.detach":
        this.#detach(cmd.endpointId);
        return;
      case "endpoint.relay":
        this.#relay(cmd.endpointId, cmd.ingress, cmd.egress);
        return;
      case "endpoint.unrelay": {
        const ep = this.#endpoints.get(cmd.endpointId);
        if (ep) ep.relay = undefined;
        return;
      }
      case "rtp.open":
        void this.#openRtp(cmd.endpointId, cmd.session, cmd.speech);
        return;
      case "rtp.remote":
        this.#rtp(cmd.endpointId)?.session.updateRemote(cmd.remote);
        return;
      case "rtp.direction":
        this.#rtp(cmd.endpointId)?.session.setDirection(cmd.direction);
        return;
      case "rtp.dtmf": {
        const io = this.#rtp(cmd.endpointId);
        try {
          if (!io) throw new Error("leg has no RTP session");
          io.session.sendDtmf(cmd.digits);
        } catch (err) {
          this.#emit({
            t: "rtp.dtmf_failed",
            endpointId: cmd.endpointId,
            message: err instanceof Error ? err.message : String(err),
          });
        }
        return;
      }
      case "endpoint.join":
        this.#join(cmd.endpointId, cmd.roomId, cmd.flags);
        return;
      case "endpoint.leave":
        this.#leave(cmd.endpointId);
        return;
      case "endpoint.flags":
        this.#setFlags(cmd.endpointId, cmd.flags);
        return;
      case "stop":
        this.#clock.stop();
        for (const f of this.#features) void f.close?.();
        return;
    }
    const feature = this.#features.find((f) => (cmd as { t: string }).t.startsWith(f.prefix));
    if (!feature) throw new Error(`Unknown media command ${(cmd as { t: string }).t}`);
    feature.handle(cmd, this);
  }

  /** Endpoints attached to this worker. */
  get endpointCount(): number {
    return this.#endpoints.size;
  }

  #rtp(id: string): RtpIO | undefined {
    const io = this.#endpoints.get(id)?.io;
    return io instanceof RtpIO ? io : undefined;
  }

  #detach(id: string): void {
    this.#pendingRtp.delete(id);
    this.#leave(id);
    for (const f of this.#features) f.endpointGone?.(id, this);
    const ep = this.#endpoints.get(id);
    this.#endpoints.delete(id);
    this.wake();
    if (ep?.io instanceof RtpIO) {
      const io = ep.io;
      const quality = io.session.quality();
      io.close().finally(() => this.#emit({ t: "rtp.closed", endpointId: id, quality }));
    }
  }

  /** Endpoints whose RTP session is still opening (a detach meanwhile cancels them). */
  readonly #pendingRtp = new Set<string>();

  async #openRtp(id: string, options: RtpOpenOptions, speech: boolean): Promise<void> {
    this.#pendingRtp.add(id);
    let session: RtpSession;
    try {
      session = await RtpSession.open({
        ...options,
        onDtmf: (digit) => this.#emit({ t: "rtp.dtmf_received", endpointId: id, digit }),
        onEvent: (kind) => this.#emit({ t: "rtp.event", endpointId: id, kind }),
      });
    } catch (err) {
      this.#pendingRtp.delete(id);
      this.#emit({
        t: "rtp.failed",
        endpointId: id,
        message: err instanceof Error ? err.message : String(err),
        addrInUse: err instanceof Deno.errors.AddrInUse,
      });
      return;
    }
    if (!this.#pendingRtp.delete(id)) {
      // Detached while opening: nobody wants this session any more.
      await session.close();
      this.#emit({ t: "rtp.closed", endpointId: id, quality: null });
      return;
    }
    this.#endpoints.set(
      id,
      new EngineEndpoint(id, session.sampleRate as LegRate, new RtpIO(session), speech),
    );
    this.wake();
    this.#emit({
      t: "rtp.opened",
      endpointId: id,
      sampleRate: session.sampleRate as LegRate,
      localPort: session.localPort,
      localRtcpPort: session.localRtcpPort,
    });
  }

  #checkRtpTimeouts(): void {
    const now = performance.now();
    for (const ep of this.#endpoints.values()) {
      if (ep.io instanceof RtpIO && ep.io.checkTimeout(now, RTP_TIMEOUT_MS)) {
        this.#emit({ t: "rtp.timeout", endpointId: ep.id });
      }
    }
  }

  // ── the 20 ms loop ───────────────────────────────────────────────────────

  /** One 20 ms tick (public for tests and benchmarks that drive the engine directly). */
  tick(): void {
    for (const room of this.#rooms.values()) {
      if (!room.active) continue;
      for (const m of room.members.values()) {
        m.had = m.ep.pull();
        if (m.had) {
          m.ep.toRoom(m.slot.input);
          m.slot.present = true;
        }
      }
      for (const h of room.hooks.values()) h.pre?.();
      room.mixer.mix();
      for (const h of room.hooks.values()) h.post?.();
      for (const m of room.members.values()) {
        const out = m.slot.output;
        if (m.ep.hooks.size > 0) {
          this.#endpointHooks(m.ep, m.had ? m.slot.input : null, out, room.rate);
        }
        m.ep.sendFromRoom(out);
        if (m.detector) this.#detect(room, m);
      }
    }
    for (const ep of this.#endpoints.values()) {
      if (ep.room) continue;
      const relay = ep.relay;
      if (relay) {
        // Mixed on another worker: hand the leg's frame over and send it what that room made.
        if (ep.pull()) relay.forward();
        relay.receive(ep.legOut);
        ep.sendLegOut();
        continue;
      }
      // Outside any room: consume what the leg sends; it hears silence plus its own playback.
      const had = ep.pull();
      if (ep.hooks.size > 0) {
        ep.legOut.fill(0);
        this.#endpointHooks(ep, had ? ep.legIn : null, ep.legOut, ep.rate);
        ep.sendLegOut();
      } else {
        ep.sendSilence();
      }
    }
    this.#seq++;
    if (this.#endpoints.size > 0) this.#emit({ t: "tick", seq: this.#seq });
    if (this.#seq % LOAD_EVERY_TICKS === 0) {
      this.#reportLoad();
      this.#checkRtpTimeouts();
    }
  }

  #endpointHooks(
    ep: EngineEndpoint,
    input: Int16Array | null,
    out: Int16Array,
    rate: number,
  ): void {
    for (const h of ep.hooks.values()) h.output?.(out, rate);
    for (const h of ep.hooks.values()) h.tap?.(input, out, rate);
  }

  #reportLoad(): void {
    const s = this.#clock.stats;
    let participants = 0;
    for (const r of this.#rooms.values()) participants += r.members.size;
    const late = this.#clock.latenessPercentiles();
    this.#emit({
      t: "load",
      utilization: s.avgWorkMs / this.#clock.periodMs,
      participants,
      rooms: this.#rooms.size,
      ticks: s.ticks,
      skipped: s.skipped,
      lateMs: s.lastLateMs,
      lateP50: late.p50,
      lateP99: late.p99,
      lateMax: late.max,
    });
  }

  #detect(room: RoomState, m: Member): void {
    const change = m.detector!.update(m.slot.muted ? 0 : m.slot.level);
    if (change === SpeakingChange.None) return;
    this.#emit({
      t: "speaking",
      endpointId: m.ep.id,
      roomId: room.id,
      speaking: change === SpeakingChange.Started,
    });
  }

  #join(id: string, roomId: string, flags: ParticipantFlags): void {
    const ep = this.#endpoints.get(id);
    const room = this.#rooms.get(roomId);
    if (!ep || !room) {
      this.#emit({
        t: "error",
        message: `join: unknown endpoint or room ${roomId}`,
        endpointId: id,
      });
      return;
    }
    this.#leave(id);
    ep.setRoomRate(room.rate);
    const slotId = this.#nextSlot++;
    // Role, mute and deaf are set before the slot's first mix: no frame with stale routing.
    const slot = room.mixer.addSlot(slotId, {
      roleIndex: room.roleIndex(flags.role),
      muted: flags.muted,
      deaf: flags.deaf,
    });
    room.members.set(id, {
      ep,
      slot,
      slotId,
      detector: ep.speech ? new SpeakingDetector() : undefined,
      had: false,
      role: flags.role,
    });
    ep.room = room;
  }

  /** Starts relaying endpoint `id` to the worker that mixes its room (see `endpoint.relay`). */
  #relay(id: string, ingress: SharedArrayBuffer, egress: SharedArrayBuffer): void {
    const ep = this.#endpoints.get(id);
    if (!ep) {
      this.#emit({ t: "error", message: `relay: unknown endpoint ${id}`, endpointId: id });
      return;
    }
    this.#leave(id);
    // Playback or recording on the leg follow it to the mixing worker, as after a move.
    for (const f of this.#features) f.endpointGone?.(id, this);
    ep.relay = new RelayRings(ingress, egress, ep.legIn, ep.legOut);
    this.wake();
  }

  #leave(id: string): void {
    const ep = this.#endpoints.get(id);
    const room = ep?.room;
    if (!ep || !room) return;
    const m = room.members.get(id);
    if (m) {
      room.mixer.removeSlot(m.slotId);
      room.members.delete(id);
      if (m.detector?.speaking) {
        this.#emit({ t: "speaking", endpointId: id, roomId: room.id, speaking: false });
      }
    }
    ep.room = undefined;
  }

  #setFlags(id: string, flags: ParticipantFlags): void {
    const room = this.#endpoints.get(id)?.room;
    const m = room?.members.get(id);
    if (!room || !m) return;
    m.slot.muted = flags.muted;
    m.slot.deaf = flags.deaf;
    m.role = flags.role;
    room.mixer.setRole(m.slotId, room.roleIndex(flags.role));
  }
}
