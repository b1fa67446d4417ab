import assert from "node:assert/strict";
import wavefile from "wavefile";
import { MediaEngine } from "../../../src/media/engine.ts";
import { PlaybackFeature } from "../../../src/media/playback_feature.ts";
import type { PlaybackCommand, PlaybackEvent } from "../../../src/media/playback_protocol.ts";
import { frameBytes, type LegRate, type WorkerEvent } from "../../../src/media/protocol.ts";
import { PcmRing } from "../../../src/media/pcm_ring.ts";
import { rms, toneRatio } from "../../../src/media/goertzel.ts";
import { attachPeer } from "./_engine_rig.ts";

/** One endpoint's rings, drained after every tick. */
class Peer {
  readonly ingress: SharedArrayBuffer;
  readonly egress: SharedArrayBuffer;
  readonly heard: Int16Array[] = [];
  readonly #ring: PcmRing;
  readonly #bytes: Uint8Array;

  constructor(readonly id: string, readonly rate: LegRate) {
    const fb = frameBytes(rate);
    this.ingress = PcmRing.allocate(fb * 50);
    this.egress = PcmRing.allocate(fb * 10);
    this.#ring = new PcmRing(this.egress);
    this.#bytes = new Uint8Array(fb);
  }

  drain(): void {
    while (this.#ring.read(this.#bytes, this.#bytes.length)) {
      this.heard.push(new Int16Array(this.#bytes.slice().buffer));
    }
  }

  /** The last `frames` frames heard, as one buffer. */
  last(frames: number): Int16Array {
    const parts = this.heard.slice(-frames);
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    parts.forEach((p, i) => out.set(p, i * p.length));
    return out;
  }
}

/** An engine driven by hand (its own clock never fires) with a fresh playback feature. */
function rig() {
  const events: WorkerEvent[] = [];
  const feature = new PlaybackFeature();
  const engine = new MediaEngine((ev) => {
    if (ev.t !== "tick" && ev.t !== "load") events.push(ev);
  }, { periodMs: 1_000_000, features: [feature] });
  const peers: Peer[] = [];
  return {
    events,
    feature,
    engine,
    play: (ev: string) => events.filter((e) => e.t === ev) as PlaybackEvent[],
    room(id: string, rate: number) {
      engine.handle({ t: "room.create", roomId: id, rate });
    },
    peer(id: string, rate: LegRate, roomId?: string): Peer {
      const p = new Peer(id, rate);
      peers.push(p);
      attachPeer(engine, id, rate, p, roomId);
      return p;
    },
    cmd(c: PlaybackCommand) {
      engine.handle(c);
    },
    tick(n: number) {
      for (let i = 0; i < n; i++) {
        engine.tick();
        for (const p of peers) p.drain();
      }
    },
    close() {
      engine.handle({ t: "stop" });
    },
  };
}

function start(
  playbackId: string,
  target: { roomId: string } | { endpointId: string },
  source: { tone: string } | { url: string },
  extra: { repeat?: number; volume?: number } = {},
): PlaybackCommand {
  return {
    t: "play.start",
    playbackId,
    target: "roomId" in target
      ? { kind: "room", roomId: target.roomId }
      : { kind: "endpoint", endpointId: target.endpointId },
    source: "tone" in source
      ? { kind: "tone", name: source.tone }
      : { kind: "url", url: source.url },
    repeat: extra.repeat ?? 1,
    volume: extra.volume ?? 0,
    allowFile: true,
  };
}

async function until(cond: () => boolean, what: string, step?: () => void): Promise<void> {
  const end = performance.now() + 5000;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    step?.();
    await new Promise((r) => setTimeout(r, 2));
  }
}

Deno.test("a room tone is heard by every member and reported started once", () => {
  const r = rig();
  try {
    r.room("r", 16000);
    const a = r.peer("a", 16000, "r");
    const b = r.peer("b", 8000, "r");
    r.cmd(start("pb-1", { roomId: "r" }, { tone: "us_dial" }));
    r.tick(30);
    for (const p of [a, b]) {
      const heard = p.last(20);
      assert.ok(toneRatio(heard, p.rate, 350) > 0.3, `${p.id} hears 350 Hz`);
      assert.ok(toneRatio(heard, p.rate, 440) > 0.3, `${p.id} hears 440 Hz`);
    }
    assert.deepEqual(r.play("play.started"), [{ t: "play.started", playbackId: "pb-1" }]);
  } finally {
    r.close();
  }
});

Deno.test("a leg playback is heard only by its leg, in a room and outside any room", () => {
  const r = rig();
  try {
    r.room("r", 16000);
    const a = r.peer("a", 16000, "r");
    const b = r.peer("b", 16000, "r");
    const c = r.peer("c", 8000);
    r.cmd(start("pb-b", { endpointId: "b" }, { tone: "us_ringback" }));
    r.cmd(start("pb-c", { endpointId: "c" }, { tone: "gb_busy" }));
    r.tick(20);
    const hb = b.last(15);
    assert.ok(toneRatio(hb, 16000, 440) > 0.3 && toneRatio(hb, 16000, 480) > 0.3);
    assert.equal(rms(a.last(15)), 0, "the other participant hears nothing");
    assert.ok(toneRatio(c.last(15), 8000, 400) > 0.8, "a leg outside a room hears its tone");
  } finally {
    r.close();
  }
});

Deno.test("stop reports finished stopped with played_ms and removes the mixer external", () => {
  const r = rig();
  try {
    r.room("r", 16000);
    const a = r.peer("a", 16000, "r");
    r.cmd(start("pb-1", { roomId: "r" }, { tone: "dial" }));
    r.tick(10);
    r.cmd({ t: "play.stop", playbackId: "pb-1" });
    assert.deepEqual(r.play("play.finished"), [
      { t: "play.finished", playbackId: "pb-1", reason: "stopped", playedMs: 200 },
    ]);
    assert.equal(r.engine.room("r")!.hooks.size, 0);
    assert.equal(r.feature.size, 0);
    r.tick(5);
    assert.equal(rms(a.last(4)), 0);
    r.cmd({ t: "play.stop", playbackId: "pb-1" }); // unknown now: ignored
    assert.equal(r.play("play.finished").length, 1);
  } finally {
    r.close();
  }
});

Deno.test("a volume change applies from the next frame (-4 steps ≈ -12 dB)", () => {
  const r = rig();
  try {
    r.room("r", 16000);
    const a = r.peer("a", 16000, "r");
    const b = r.peer("b", 16000);
    r.cmd(start("pb-r", { roomId: "r" }, { tone: "us_dial" }, { volume: 2 }));
    r.cmd(start("pb-b", { endpointId: "b" }, { tone: "us_dial" }, { volume: 2 }));
    r.tick(10);
    const before = [rms(a.last(5)), rms(b.last(5))];
    r.cmd({ t: "play.volume", playbackId: "pb-r", volume: -2 });
    r.cmd({ t: "play.volume", playbackId: "pb-b", volume: -2 });
    r.tick(5);
    const after = [rms(a.last(5)), rms(b.last(5))];
    for (let i = 0; i < 2; i++) {
      const db = 20 * Math.log10(after[i] / before[i]);
      assert.ok(Math.abs(db + 12) < 0.3, `target ${i}: ${db.toFixed(2)} dB`);
    }
  } finally {
    r.close();
  }
});

Deno.test("an unknown tone is reported as play.error", () => {
  const r = rig();
  try {
    r.room("r", 16000);
    r.cmd(start("pb-x", { roomId: "r" }, { tone: "xx_siren" }));
    assert.deepEqual(r.play("play.error"), [
      { t: "play.error", playbackId: "pb-x", error: "unknown tone: xx_siren", playedMs: 0 },
    ]);
    assert.equal(r.feature.size, 0);
  } finally {
    r.close();
  }
});

Deno.test("a local WAV plays N times and finishes completed with played_ms of all iterations", async () => {
  const dir = await Deno.makeTempDir();
  const r = rig();
  try {
    const samples = Array.from(
      { length: 4410 }, // 100 ms at 44.1 kHz
      (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 44100)),
    );
    const wav = new wavefile.WaveFile();
    wav.fromScratch(1, 44100, "16", samples);
    await Deno.writeFile(`${dir}/tone.wav`, wav.toBuffer());
    r.room("r", 16000);
    const a = r.peer("a", 16000, "r");
    r.cmd(start("pb-f", { roomId: "r" }, { url: `${dir}/tone.wav` }, { repeat: 3 }));
    await until(() => r.play("play.finished").length > 0, "the end", () => r.tick(1));
    assert.deepEqual(r.play("play.finished"), [
      { t: "play.finished", playbackId: "pb-f", reason: "completed", playedMs: 300 },
    ]);
    assert.equal(r.play("play.started").length, 1);
    const audible = a.heard.filter((f) => rms(f) > 0);
    assert.equal(audible.length, 15, "300 ms of audio");
    const all = new Int16Array(audible.length * 320);
    audible.forEach((f, i) => all.set(f, i * 320));
    assert.ok(toneRatio(all, 16000, 1000) > 0.9);
  } finally {
    r.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("undecodable bytes and a missing file are reported as play.error", async () => {
  const dir = await Deno.makeTempDir();
  const r = rig();
  try {
    await Deno.writeFile(`${dir}/junk.bin`, new Uint8Array(5000).map((_, i) => (i * 37) & 0x7f));
    r.room("r", 16000);
    r.peer("a", 16000, "r");
    r.cmd(start("pb-j", { roomId: "r" }, { url: `${dir}/junk.bin` }));
    r.cmd(start("pb-m", { roomId: "r" }, { url: `${dir}/missing.wav` }));
    await until(() => r.play("play.error").length === 2, "two errors", () => r.tick(1));
    const byId = Object.fromEntries(
      r.play("play.error").map((e) => [e.playbackId, (e as { error: string }).error]),
    );
    assert.equal(byId["pb-j"], "Cannot decode audio: unrecognized format");
    assert.equal(byId["pb-m"], "Cannot read audio file: not found");
    assert.equal(r.engine.room("r")!.hooks.size, 0);
  } finally {
    r.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a detached endpoint reports where to resume; a deleted room stops its playbacks", () => {
  const r = rig();
  try {
    r.room("r", 16000);
    r.peer("a", 16000, "r");
    r.cmd(start("pb-l", { endpointId: "a" }, { tone: "us_busy" }));
    r.cmd(start("pb-r", { roomId: "r" }, { tone: "us_busy" }));
    r.tick(5);
    r.engine.handle({ t: "endpoint.detach", endpointId: "a" });
    assert.deepEqual(r.play("play.detached"), [
      {
        t: "play.detached",
        playbackId: "pb-l",
        resume: { iteration: 0, positionMs: 0, playedMs: 100 },
      },
    ]);
    r.engine.handle({ t: "room.delete", roomId: "r" });
    assert.deepEqual(r.play("play.finished"), [
      { t: "play.finished", playbackId: "pb-r", reason: "stopped", playedMs: 100 },
    ]);
    r.cmd(start("pb-z", { endpointId: "nowhere" }, { tone: "us_busy" }));
    assert.equal(r.play("play.detached").at(-1)?.playbackId, "pb-z");
    assert.equal(r.feature.size, 0);
  } finally {
    r.close();
  }
});

Deno.test("a volume change holds across the iterations of a looping file", async () => {
  const dir = await Deno.makeTempDir();
  const r = rig();
  try {
    const wav = new wavefile.WaveFile();
    // 60 ms at 16 kHz: the loop point moves through the 20 ms frames.
    const loop = Array.from({ length: 960 }, (_, i) => Math.round(6000 * Math.sin(i * 0.25)));
    wav.fromScratch(1, 16000, "16", loop);
    await Deno.writeFile(`${dir}/loop.wav`, wav.toBuffer());
    r.room("r", 16000);
    const a = r.peer("a", 16000, "r");
    r.cmd(start("pb-v", { roomId: "r" }, { url: `${dir}/loop.wav` }, { repeat: -1 }));
    await until(() => a.heard.some((f) => rms(f) > 0), "audio", () => r.tick(1));
    r.tick(9);
    const before = rms(a.last(6));
    r.cmd({ t: "play.volume", playbackId: "pb-v", volume: -4 });
    r.tick(30);
    const after = a.last(30);
    for (let k = 0; k < 5; k++) {
      // Each 120 ms window holds two whole iterations, wherever it starts.
      const db = 20 * Math.log10(rms(after, k * 1920, 1920) / before);
      assert.ok(Math.abs(db + 12) < 0.3, `iteration window ${k}: ${db.toFixed(2)} dB`);
    }
  } finally {
    r.close();
    await Deno.remove(dir, { recursive: true });
  }
});
