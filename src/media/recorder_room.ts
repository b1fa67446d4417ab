/**
 * The per-tick part of a room recording, installed as a room `post` hook: the mono room mix
 * (`mixer.tap`, so room playback and other externals are in it) at the room rate, and, for a
 * multi-channel recording, one mono track per participant in order of joining. A track starts
 * when its participant is first seen and from then on gets a frame every tick — the
 * participant's input while it is a member, silence while it is away or the recording is paused
 * (compat §1: pause silences every channel, including channels that join while paused) — so all
 * tracks share the recording's timeline and the merge only needs each track's start frame.
 * Participants beyond the channel cap get no track and are reported as omitted.
 */

import { join } from "node:path";
import type { RoomHooks, RoomView } from "./feature_host.ts";
import { mergeTracks, removeQuietly } from "./recorder_files.ts";
import { RecordingSink } from "./recorder_sink.ts";
import type { ChannelInfo, MultiChannelOutcome } from "./recording_protocol.ts";
import type { WavWriterResult } from "./wav_writer.ts";

/** Milliseconds per tick. */
const FRAME_MS = 20;

interface Track {
  readonly id: string;
  readonly path: string;
  readonly sink: RecordingSink;
  readonly startFrame: number;
  /** The last frame at which the participant was a member. */
  lastFrame: number;
}

/** Where a multi-channel recording goes. */
export interface MultiChannelTarget {
  /** Final path of the merged file; tracks are written beside it under hidden names. */
  readonly path: string;
  readonly dir: string;
  readonly name: string;
  readonly maxChannels: number;
}

/** What a finished room recorder produced. */
export interface RoomRecordingResult {
  readonly mono: WavWriterResult;
  readonly multi?: MultiChannelOutcome;
}

/** Recorder of one room's mix (and optionally each participant). */
export class RoomRecorder implements RoomHooks {
  readonly sink: RecordingSink;
  /** Silence on every channel while true. */
  paused: boolean;
  /** Frames written. */
  frames = 0;
  /** Wall-clock time of the first frame (0 until then). */
  startWallMs = 0;
  readonly #room: RoomView;
  readonly #n: number;
  readonly #mix: Int16Array;
  readonly #zeros: Int16Array;
  readonly #multi: MultiChannelTarget | null;
  readonly #tracks: Track[] = [];
  readonly #byId = new Map<string, Track>();
  readonly #omitted = new Set<string>();

  constructor(
    room: RoomView,
    sink: RecordingSink,
    multi: MultiChannelTarget | null,
    paused: boolean,
  ) {
    this.#room = room;
    this.sink = sink;
    this.#multi = multi;
    this.paused = paused;
    this.#n = room.rate / 50;
    this.#mix = new Int16Array(this.#n);
    this.#zeros = new Int16Array(this.#n);
  }

  /** Rejects when a file cannot be created (the mono file only: a track failure omits its leg). */
  get ready(): Promise<void> {
    return this.sink.ready;
  }

  post(): void {
    if (this.frames === 0) this.startWallMs = Date.now();
    const n = this.#n;
    if (this.paused) this.#mix.fill(0);
    else this.#room.mixer.tap(this.#mix);
    this.sink.append(this.#mix, n);
    if (this.#multi !== null) this.#tracksTick(this.frames);
    this.frames++;
  }

  #tracksTick(t: number): void {
    const room = this.#room;
    const n = this.#n;
    for (const id of room.memberIds()) {
      let tr = this.#byId.get(id);
      if (tr === undefined) {
        if (this.#omitted.has(id)) continue;
        tr = this.#addTrack(id, t);
        if (tr === undefined) continue;
      }
      tr.lastFrame = t;
      const input = this.paused ? undefined : room.memberInput(id);
      // Taps get a muted participant's own audio too (openapi: muted legs still reach taps).
      tr.sink.append(input ?? this.#zeros, n);
    }
    const tracks = this.#tracks;
    for (let i = 0; i < tracks.length; i++) {
      if (tracks[i].lastFrame !== t) tracks[i].sink.append(this.#zeros, n);
    }
  }

  #addTrack(id: string, t: number): Track | undefined {
    const multi = this.#multi!;
    if (this.#tracks.length >= multi.maxChannels) {
      this.#omitted.add(id);
      return undefined;
    }
    const path = join(multi.dir, `.${multi.name}.track${this.#tracks.length}.wav`);
    const tr: Track = {
      id,
      path,
      sink: new RecordingSink(path, this.#room.rate, 1),
      startFrame: t,
      lastFrame: t,
    };
    this.#tracks.push(tr);
    this.#byId.set(id, tr);
    return tr;
  }

  /**
   * Publishes the mono file, then merges the tracks into the multi-channel file and removes
   * them. The mono result rejects the promise; multi-channel problems are reported in `multi`.
   */
  async finish(): Promise<RoomRecordingResult> {
    const tracks = this.#tracks;
    const trackResults = await Promise.allSettled(tracks.map((t) => t.sink.finish()));
    const mono = await this.sink.finish().catch(async (err) => {
      await Promise.all(tracks.map((t) => removeQuietly(t.path)));
      throw err;
    });
    if (this.#multi === null) return { mono };
    const multi = await this.#merge(trackResults);
    return { mono, multi };
  }

  async #merge(results: PromiseSettledResult<WavWriterResult>[]): Promise<MultiChannelOutcome> {
    const target = this.#multi!;
    const omitted = [...this.#omitted];
    const merged: Track[] = [];
    this.#tracks.forEach((t, i) => {
      if (results[i].status === "fulfilled") merged.push(t);
      else omitted.push(t.id);
    });
    const channels: Record<string, ChannelInfo> = {};
    merged.forEach((t, channel) => {
      channels[t.id] = {
        channel,
        start_ms: t.startFrame * FRAME_MS,
        end_ms: (t.lastFrame + 1) * FRAME_MS,
      };
    });
    try {
      if (merged.length === 0) throw new Error("no participant track to merge");
      // Ticks → sample frames: the merge counts samples per channel.
      const n = this.#n;
      await mergeTracks(
        target.path,
        this.#room.rate,
        this.frames * n,
        merged.map((t) => ({ path: t.path, startFrame: t.startFrame * n })),
      );
      return { ok: true, channels, omitted };
    } catch (err) {
      return {
        ok: false,
        error: err instanceof Error ? err.message : String(err),
        channels: {},
        omitted: [...omitted, ...merged.map((t) => t.id)],
      };
    } finally {
      await Promise.all(this.#tracks.map((t) => removeQuietly(t.path)));
    }
  }

  /** Drops everything (worker shutdown without a stop). */
  async discard(): Promise<void> {
    await Promise.all([this.sink.discard(), ...this.#tracks.map((t) => t.sink.discard())]);
  }
}
