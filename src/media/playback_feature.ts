/**
 * Worker side of playback. A room playback is a mixer external fed from a `RoomHooks.pre`, so
 * every participant hears it and room recordings include it; a leg playback is an
 * `EndpointHooks.output` that adds into what that one leg hears. Fetching and decoding run here,
 * asynchronously, never on the main thread and never inside the tick; the hooks only copy
 * prepared samples. Any number of playbacks may run at once on the same target.
 */
import { fetchAudio } from "./audio_fetch.ts";
import { decodeAudio } from "./audio_decode.ts";
import type { EndpointHooks, Feature, FeatureHost, RoomHooks } from "./feature_host.ts";
import type { MixerExternal } from "./mixer.ts";
import type { PlaybackCommand, PlaybackEvent, PlaybackResume } from "./playback_protocol.ts";
import { addScaled, FileVoice, ToneVoice, type Voice, volumeGain } from "./player_voice.ts";
import { lookupTone } from "./tones.ts";

/** Samples in the largest 20 ms frame the engine mixes (48 kHz). */
const MAX_FRAME = 960;
/** Mixer external ids of playbacks start here, clear of small ids other features pick. */
const EXTERNAL_BASE = 0x5000_0000;
let nextExternal = EXTERNAL_BASE;

type StartCommand = Extract<PlaybackCommand, { t: "play.start" }>;

/** One playback in this worker. */
class Active {
  readonly id: string;
  readonly cmd: StartCommand;
  readonly hookKey: string;
  readonly abort = new AbortController();
  gain: number;
  voice: Voice | undefined;
  /** Set once the voice ended; the hooks go at the end of the tick. */
  ending = false;
  startedSent = false;
  external: MixerExternal | undefined;

  constructor(cmd: StartCommand) {
    this.id = cmd.playbackId;
    this.cmd = cmd;
    this.hookKey = `play:${cmd.playbackId}`;
    this.gain = volumeGain(cmd.volume);
  }

  get playedMs(): number {
    return Math.round(this.voice?.playedMs ?? this.cmd.resume?.playedMs ?? 0);
  }

  resumeState(): PlaybackResume {
    return this.voice?.resumeState() ??
      this.cmd.resume ?? { iteration: 0, positionMs: 0, playedMs: 0 };
  }
}

/** The playback feature of one worker (a fresh instance per engine in tests). */
export class PlaybackFeature implements Feature {
  readonly prefix = "play.";
  readonly #active = new Map<string, Active>();

  /** Playbacks currently known to this worker (tests and diagnostics). */
  get size(): number {
    return this.#active.size;
  }

  handle(cmd: { readonly t: string }, host: FeatureHost): void {
    const c = cmd as PlaybackCommand;
    switch (c.t) {
      case "play.start":
        this.#start(c, host);
        return;
      case "play.stop": {
        const pb = this.#active.get(c.playbackId);
        if (pb) this.#end(pb, host, { t: "play.finished", reason: "stopped" });
        return;
      }
      case "play.volume": {
        // Read by the hooks every frame: applies from the next frame, across iterations too.
        const pb = this.#active.get(c.playbackId);
        if (pb) pb.gain = volumeGain(c.volume);
        return;
      }
      default:
        throw new Error(`Unknown media command ${(cmd as { t: string }).t}`);
    }
  }

  roomGone(roomId: string, host: FeatureHost): void {
    for (const pb of [...this.#active.values()]) {
      const t = pb.cmd.target;
      if (t.kind === "room" && t.roomId === roomId) {
        this.#end(pb, host, { t: "play.finished", reason: "stopped" });
      }
    }
  }

  endpointGone(endpointId: string, host: FeatureHost): void {
    for (const pb of [...this.#active.values()]) {
      const t = pb.cmd.target;
      if (t.kind === "endpoint" && t.endpointId === endpointId) {
        // The control plane knows whether the leg moved to another worker or ended.
        this.#end(pb, host, { t: "play.detached" });
      }
    }
  }

  close(): void {
    for (const pb of this.#active.values()) {
      pb.abort.abort();
      pb.voice?.close();
    }
    this.#active.clear();
  }

  #start(cmd: StartCommand, host: FeatureHost): void {
    if (this.#active.has(cmd.playbackId)) return;
    const pb = new Active(cmd);
    this.#active.set(pb.id, pb);
    const target = cmd.target;
    if (target.kind === "endpoint" && !host.endpoint(target.endpointId)) {
      this.#end(pb, host, { t: "play.detached" });
      return;
    }
    if (target.kind === "room" && !host.room(target.roomId)) {
      this.#end(pb, host, { t: "play.error", error: "room has no mixer" });
      return;
    }
    const source = cmd.source;
    if (source.kind === "tone") {
      // compat "Playback": an unknown tone is accepted by the API, then reported here.
      const spec = lookupTone(source.name);
      if (!spec) {
        this.#end(pb, host, { t: "play.error", error: `unknown tone: ${source.name}` });
        return;
      }
      pb.voice = new ToneVoice(spec, cmd.resume);
      this.#attach(pb, host);
      return;
    }
    void this.#load(pb, source.url, source.mimeType, host);
  }

  async #load(
    pb: Active,
    url: string,
    mimeType: string | undefined,
    host: FeatureHost,
  ): Promise<void> {
    try {
      const fetched = await fetchAudio({ url }, {
        signal: pb.abort.signal,
        allowFile: pb.cmd.allowFile,
      });
      pb.abort.signal.throwIfAborted();
      const decoded = await decodeAudio(fetched.bytes, {
        mimeType: mimeType ?? fetched.contentType ?? undefined,
        url,
      });
      if (pb.abort.signal.aborted || this.#active.get(pb.id) !== pb) return;
      const times = pb.cmd.repeat < 0 ? -1 : Math.max(1, pb.cmd.repeat);
      const voice = new FileVoice(decoded.samples, decoded.sampleRate, {
        times,
        resume: pb.cmd.resume,
      });
      pb.voice = voice;
      const rate = this.#targetRate(pb, host);
      if (rate !== undefined) voice.prepare(rate);
      this.#attach(pb, host);
    } catch (err) {
      // A stopped or detached playback was already reported.
      if (pb.abort.signal.aborted || this.#active.get(pb.id) !== pb) return;
      const error = err instanceof Error ? err.message : String(err);
      this.#end(pb, host, { t: "play.error", error });
    }
  }

  /** The rate the target mixes at now, to start resampling before the first tick. */
  #targetRate(pb: Active, host: FeatureHost): number | undefined {
    const t = pb.cmd.target;
    if (t.kind === "room") return host.room(t.roomId)?.rate;
    const ep = host.endpoint(t.endpointId);
    if (!ep) return undefined;
    const roomId = ep.roomId();
    return roomId !== undefined ? host.room(roomId)?.rate ?? ep.rate : ep.rate;
  }

  #attach(pb: Active, host: FeatureHost): void {
    const voice = pb.voice!;
    const t = pb.cmd.target;
    if (t.kind === "room") {
      const room = host.room(t.roomId);
      if (!room) {
        this.#end(pb, host, { t: "play.finished", reason: "stopped" });
        return;
      }
      const ext = addExternal(room.mixer);
      pb.external = ext;
      const n = room.mixer.frameSize;
      const rate = room.rate;
      const hooks: RoomHooks = {
        pre: () => {
          if (pb.ending) return;
          const more = voice.fill(ext.input, n, rate);
          ext.gain = pb.gain;
          ext.present = true;
          this.#afterFrame(pb, more, host);
        },
      };
      room.hooks.set(pb.hookKey, hooks);
    } else {
      const ep = host.endpoint(t.endpointId);
      if (!ep) {
        this.#end(pb, host, { t: "play.detached" });
        return;
      }
      const scratch = new Int16Array(MAX_FRAME);
      const hooks: EndpointHooks = {
        output: (out, rate) => {
          if (pb.ending) return;
          const n = Math.min(out.length, rate / 50);
          const more = voice.fill(scratch, n, rate);
          addScaled(out, scratch, n, pb.gain);
          this.#afterFrame(pb, more, host);
        },
      };
      ep.hooks.set(pb.hookKey, hooks);
    }
    host.wake();
  }

  /** Runs in the tick: reports the start once, and schedules the end after the last frame. */
  #afterFrame(pb: Active, more: boolean, host: FeatureHost): void {
    if (!pb.startedSent && pb.voice!.audible) {
      pb.startedSent = true;
      host.emit({ t: "play.started", playbackId: pb.id } satisfies PlaybackEvent);
    }
    if (more) return;
    pb.ending = true;
    // After this tick: the frame just filled still gets mixed.
    queueMicrotask(() => {
      if (this.#active.get(pb.id) !== pb) return;
      const error = pb.voice?.error;
      if (error !== undefined) this.#end(pb, host, { t: "play.error", error });
      else this.#end(pb, host, { t: "play.finished", reason: "completed" });
    });
  }

  /** Removes the playback and its hooks, then reports how it ended. */
  #end(
    pb: Active,
    host: FeatureHost,
    how:
      | { t: "play.finished"; reason: "completed" | "stopped" }
      | { t: "play.error"; error: string }
      | { t: "play.detached" },
  ): void {
    if (this.#active.get(pb.id) !== pb) return;
    this.#active.delete(pb.id);
    pb.ending = true;
    pb.abort.abort();
    const t = pb.cmd.target;
    if (t.kind === "room") {
      const room = host.room(t.roomId);
      room?.hooks.delete(pb.hookKey);
      if (pb.external) room?.mixer.removeExternal(pb.external.id);
    } else {
      host.endpoint(t.endpointId)?.hooks.delete(pb.hookKey);
    }
    const resume = pb.resumeState();
    const playedMs = pb.playedMs;
    pb.voice?.close();
    host.wake();
    let ev: PlaybackEvent;
    if (how.t === "play.finished") {
      ev = { t: how.t, playbackId: pb.id, reason: how.reason, playedMs };
    } else if (how.t === "play.error") {
      ev = { t: how.t, playbackId: pb.id, error: how.error, playedMs };
    } else {
      ev = { t: how.t, playbackId: pb.id, resume };
    }
    host.emit(ev);
  }
}

/** Adds an external with a fresh id; another feature may already hold a given id. */
function addExternal(mixer: { addExternal(id: number): MixerExternal }): MixerExternal {
  for (;;) {
    const id = nextExternal;
    nextExternal = nextExternal >= 0x5fff_ffff ? EXTERNAL_BASE : nextExternal + 1;
    try {
      return mixer.addExternal(id);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
    }
  }
}

/** Handles `play.*` commands inside a media worker. */
export const playbackFeature: Feature = new PlaybackFeature();
