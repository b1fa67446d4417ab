import assert from "node:assert/strict";
import { join } from "node:path";
import wavefile from "wavefile";
import { MediaEngine } from "../../../src/media/engine.ts";
import { createRecordingFeature } from "../../../src/media/recording_feature.ts";
import type { RecordingCommand, RecordingEvent } from "../../../src/media/recording_protocol.ts";
import { frameBytes, type LegRate, type WorkerEvent } from "../../../src/media/protocol.ts";
import { PcmRing } from "../../../src/media/pcm_ring.ts";
import { rms, toneRatio } from "../../../src/media/goertzel.ts";
import { attachPeer, joinPeer } from "./_engine_rig.ts";

/** A peer that sends a tone into its ingress ring, one frame per tick. */
class Peer {
  readonly ingress: SharedArrayBuffer;
  readonly egress: SharedArrayBuffer;
  readonly #in: PcmRing;
  readonly #out: PcmRing;
  readonly #scratch: Uint8Array;
  #phase = 0;
  /** Send nothing while false (the leg is silent on the wire). */
  sending = true;

  constructor(readonly id: string, readonly rate: LegRate, readonly toneHz: number) {
    const fb = frameBytes(rate);
    this.ingress = PcmRing.allocate(fb * 50);
    this.egress = PcmRing.allocate(fb * 10);
    this.#in = new PcmRing(this.ingress);
    this.#out = new PcmRing(this.egress);
    this.#scratch = new Uint8Array(fb);
  }

  feed(): void {
    if (!this.sending) return;
    const n = this.rate / 50;
    const f = new Int16Array(n);
    const step = (2 * Math.PI * this.toneHz) / this.rate;
    for (let i = 0; i < n; i++) {
      f[i] = Math.round(8000 * Math.sin(this.#phase));
      this.#phase += step;
    }
    this.#phase %= 2 * Math.PI;
    this.#in.write(new Uint8Array(f.buffer));
  }

  drain(): void {
    while (this.#out.read(this.#scratch, this.#scratch.length)) { /* discard */ }
  }
}

/** An engine driven by hand (its clock never fires) with a fresh recording feature. */
function rig() {
  const events: RecordingEvent[] = [];
  const engine = new MediaEngine((ev: WorkerEvent) => {
    if (ev.t.startsWith("record.")) events.push(ev as RecordingEvent);
  }, { periodMs: 1_000_000, features: [createRecordingFeature()] });
  const peers: Peer[] = [];
  return {
    events,
    engine,
    room(id: string, rate: number) {
      engine.handle({ t: "room.create", roomId: id, rate });
    },
    peer(id: string, rate: LegRate, toneHz: number, roomId?: string): Peer {
      const p = new Peer(id, rate, toneHz);
      peers.push(p);
      attachPeer(engine, id, rate, p, roomId);
      return p;
    },
    join(id: string, roomId: string) {
      joinPeer(engine, id, roomId);
    },
    cmd(c: RecordingCommand) {
      engine.handle(c);
    },
    tick(n: number) {
      for (let i = 0; i < n; i++) {
        for (const p of peers) p.feed();
        engine.tick();
        for (const p of peers) p.drain();
      }
    },
    async next(t: RecordingEvent["t"], recId: string): Promise<RecordingEvent> {
      for (let i = 0; i < 500; i++) {
        const ev = events.find((e) => e.t === t && e.recId === recId);
        if (ev) return ev;
        await new Promise((r) => setTimeout(r, 5));
      }
      throw new Error(`no ${t} for ${recId}`);
    },
    close() {
      engine.handle({ t: "stop" });
    },
  };
}

function readWav(bytes: Uint8Array): { rate: number; channels: Int16Array[] } {
  const wav = new wavefile.WaveFile(bytes);
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  const raw = wav.getSamples(false, Int16Array) as unknown as Int16Array[] | Int16Array;
  const channels = fmt.numChannels === 1 ? [raw as Int16Array] : (raw as Int16Array[]);
  return { rate: fmt.sampleRate, channels };
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

function assertTone(x: Int16Array, rate: number, present: number[], absent: number[], who: string) {
  for (const f of present) {
    const r = toneRatio(x, rate, f);
    assert.ok(r > 0.1, `${who}: expected ${f} Hz, ratio ${r.toFixed(4)}`);
  }
  for (const f of absent) {
    const r = toneRatio(x, rate, f);
    assert.ok(r < 0.01, `${who}: unexpected ${f} Hz, ratio ${r.toFixed(4)}`);
  }
}

Deno.test("a leg recorder writes left = the leg's input and right = its mix, one frame per tick", async () => {
  const dir = await Deno.makeTempDir();
  const r = rig();
  try {
    r.room("r", 16000);
    r.peer("a", 16000, 500, "r");
    r.peer("b", 16000, 900, "r");
    r.tick(3);
    const path = join(dir, "a.wav");
    r.cmd({ t: "record.leg.start", recId: "L", endpointId: "a", path, rate: 0, paused: false });
    r.tick(50);
    const started = await r.next("record.started", "L");
    assert.deepEqual(started, { t: "record.started", recId: "L", ok: true, rate: 16000 });
    assert.deepEqual(await listDir(dir).then((l) => l.filter((n) => !n.startsWith("."))), []);
    r.cmd({ t: "record.stop", recId: "L" });
    r.tick(5); // ticks after the stop are not recorded
    const done = await r.next("record.done", "L");
    assert.equal(done.t === "record.done" && done.ok && done.frames, 50);
    const wav = readWav(await Deno.readFile(path));
    assert.equal(wav.rate, 16000);
    assert.equal(wav.channels.length, 2);
    assert.equal(wav.channels[0].length, 50 * 320);
    // Skip the first frames: resampler-free but the mix needs one tick to reach the peer.
    assertTone(wav.channels[0].subarray(640), 16000, [500], [900], "left");
    assertTone(wav.channels[1].subarray(640), 16000, [900], [500], "right");
    assert.deepEqual(await listDir(dir), ["a.wav"], "no staging file is left");
  } finally {
    r.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a leg recorder keeps its rate when the leg joins a room at another rate, and records silence for missing input", async () => {
  const dir = await Deno.makeTempDir();
  const r = rig();
  try {
    r.room("r48", 48000);
    const a = r.peer("a", 16000, 500);
    r.peer("b", 48000, 1300, "r48");
    const path = join(dir, "a.wav");
    r.cmd({ t: "record.leg.start", recId: "L", endpointId: "a", path, rate: 0, paused: false });
    r.tick(30); // alone: left = its tone, right = silence (16 kHz transport rate)
    r.join("a", "r48");
    r.tick(30); // in the 48 kHz room: resampled back to 16 kHz
    a.sending = false;
    r.tick(20); // nothing sent: silence on the left, the room still on the right
    r.cmd({ t: "record.stop", recId: "L" });
    const done = await r.next("record.done", "L");
    assert.equal(done.t === "record.done" && done.frames, 80);
    const [left, right] = readWav(await Deno.readFile(path)).channels;
    assert.equal(left.length, 80 * 320);
    const seg = (x: Int16Array, from: number, to: number) => x.subarray(from * 320, to * 320);
    assertTone(seg(left, 2, 30), 16000, [500], [1300], "left alone");
    assert.equal(rms(seg(right, 0, 30)), 0, "right alone is silent");
    assertTone(seg(left, 33, 60), 16000, [500], [1300], "left in room");
    assertTone(seg(right, 33, 60), 16000, [1300], [500], "right in room");
    assert.ok(rms(seg(left, 62, 80)) < 1, "left is silent when the leg sends nothing");
    assertTone(seg(right, 62, 80), 16000, [1300], [500], "right while the leg is silent");
  } finally {
    r.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a paused leg recorder writes silence on both channels and keeps the timeline", async () => {
  const dir = await Deno.makeTempDir();
  const r = rig();
  try {
    r.room("r", 8000);
    r.peer("a", 8000, 500, "r");
    r.peer("b", 8000, 900, "r");
    const path = join(dir, "a.wav");
    r.cmd({ t: "record.leg.start", recId: "L", endpointId: "a", path, rate: 0, paused: false });
    r.tick(20);
    r.cmd({ t: "record.pause", recId: "L", paused: true });
    r.tick(15);
    r.cmd({ t: "record.pause", recId: "L", paused: false });
    r.tick(20);
    r.cmd({ t: "record.stop", recId: "L" });
    await r.next("record.done", "L");
    const [left, right] = readWav(await Deno.readFile(path)).channels;
    assert.equal(left.length, 55 * 160);
    for (let f = 0; f < 55; f++) {
      const paused = f >= 20 && f < 35;
      const l = rms(left, f * 160, 160);
      const rr = rms(right, f * 160, 160);
      if (paused) assert.ok(l === 0 && rr === 0, `frame ${f} silent while paused`);
      else if (f > 1) assert.ok(l > 1000 && rr > 1000, `frame ${f} has audio (${l}, ${rr})`);
    }
  } finally {
    r.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a leg recorder ends with endpoint_gone when its endpoint is detached; unknown endpoints and bad paths fail to start", async () => {
  const dir = await Deno.makeTempDir();
  const r = rig();
  try {
    r.peer("a", 16000, 500);
    const path = join(dir, "a.wav");
    r.cmd({ t: "record.leg.start", recId: "L", endpointId: "a", path, rate: 0, paused: false });
    r.tick(10);
    r.engine.handle({ t: "endpoint.detach", endpointId: "a" });
    const done = await r.next("record.done", "L");
    assert.equal(done.t === "record.done" && done.reason, "endpoint_gone");
    assert.equal(done.t === "record.done" && done.frames, 10);
    assert.equal(readWav(await Deno.readFile(path)).channels[0].length, 10 * 320);

    r.cmd({ t: "record.leg.start", recId: "X", endpointId: "nope", path, rate: 0, paused: false });
    assert.deepEqual(await r.next("record.started", "X"), {
      t: "record.started",
      recId: "X",
      ok: false,
      rate: 0,
      error: "media endpoint not found",
    });

    r.peer("b", 16000, 500);
    const bad = join(dir, "missing-dir", "b.wav");
    r.cmd({
      t: "record.leg.start",
      recId: "B",
      endpointId: "b",
      path: bad,
      rate: 0,
      paused: false,
    });
    const failed = await r.next("record.started", "B");
    assert.equal(failed.t === "record.started" && failed.ok, false);
    r.tick(3); // the failed recorder was uninstalled: ticking is harmless
    assert.equal(r.events.some((e) => e.t === "record.done" && e.recId === "B"), false);
  } finally {
    r.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a room recorder writes the mono mix and one channel per participant in join order, capped", async () => {
  const dir = await Deno.makeTempDir();
  const r = rig();
  try {
    r.room("r", 16000);
    r.peer("a", 16000, 500, "r");
    r.peer("b", 16000, 900, "r");
    r.tick(2);
    const path = join(dir, "room.wav");
    const multiPath = join(dir, "room_multichannel.wav");
    r.cmd({
      t: "record.room.start",
      recId: "R",
      roomId: "r",
      path,
      multiPath,
      maxChannels: 4,
      paused: false,
    });
    r.tick(10);
    r.peer("c", 8000, 1400, "r"); // joins 200 ms in
    r.tick(10);
    r.cmd({ t: "record.pause", recId: "R", paused: true });
    r.peer("d", 16000, 2000, "r"); // joins while paused: silent until the resume
    r.peer("e", 16000, 2600, "r"); // beyond the cap of 4: omitted
    r.tick(10);
    r.cmd({ t: "record.pause", recId: "R", paused: false });
    r.tick(10);
    r.engine.handle({ t: "endpoint.leave", endpointId: "b" }); // leaves 800 ms in
    r.tick(20);
    r.cmd({ t: "record.stop", recId: "R" });
    const done = await r.next("record.done", "R");
    assert.ok(done.t === "record.done");
    assert.equal(done.frames, 60);
    assert.deepEqual(done.multi, {
      ok: true,
      channels: {
        a: { channel: 0, start_ms: 0, end_ms: 1200 },
        b: { channel: 1, start_ms: 0, end_ms: 800 },
        c: { channel: 2, start_ms: 200, end_ms: 1200 },
        d: { channel: 3, start_ms: 400, end_ms: 1200 },
      },
      omitted: ["e"],
    });
    assert.deepEqual(await listDir(dir), ["room.wav", "room_multichannel.wav"], "no track left");

    const mono = readWav(await Deno.readFile(path));
    assert.equal(mono.channels.length, 1);
    assert.equal(mono.channels[0].length, 60 * 320);
    const frames = (x: Int16Array, a: number, b: number) => x.subarray(a * 320, b * 320);
    assertTone(frames(mono.channels[0], 42, 60), 16000, [500, 1400, 2000, 2600], [900], "mix");
    assert.equal(rms(frames(mono.channels[0], 20, 30)), 0, "paused mix is silent");

    const multi = readWav(await Deno.readFile(multiPath));
    assert.equal(multi.rate, 16000);
    assert.equal(multi.channels.length, 4);
    const [ca, cb, cc, cd] = multi.channels;
    for (const ch of multi.channels) assert.equal(ch.length, 60 * 320);
    const others = (f: number) => [500, 900, 1400, 2000, 2600].filter((x) => x !== f);
    assertTone(frames(ca, 1, 20), 16000, [500], others(500), "channel a");
    assertTone(frames(cb, 1, 20), 16000, [900], others(900), "channel b");
    assert.equal(rms(frames(cc, 0, 10)), 0, "channel c is silent before c joined");
    assertTone(frames(cc, 12, 20), 16000, [1400], others(1400), "channel c");
    for (const ch of multi.channels) assert.equal(rms(frames(ch, 20, 30)), 0, "paused channel");
    assert.equal(rms(frames(cd, 0, 30)), 0, "channel d: before joining, then paused");
    assertTone(frames(cd, 31, 60), 16000, [2000], others(2000), "channel d after the resume");
    assert.equal(rms(frames(cb, 40, 60)), 0, "channel b is silent after b left");
    assertTone(frames(ca, 42, 60), 16000, [500], others(500), "channel a at the end");
  } finally {
    r.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a room recorder keeps running without members and ends with room_gone when the room is deleted", async () => {
  const dir = await Deno.makeTempDir();
  const r = rig();
  try {
    r.room("r", 8000);
    r.peer("a", 8000, 500, "r");
    const path = join(dir, "room.wav");
    r.cmd({
      t: "record.room.start",
      recId: "R",
      roomId: "r",
      path,
      multiPath: null,
      maxChannels: 16,
      paused: false,
    });
    r.tick(5);
    r.engine.handle({ t: "endpoint.leave", endpointId: "a" });
    r.tick(5);
    r.engine.handle({ t: "room.delete", roomId: "r" });
    const done = await r.next("record.done", "R");
    assert.ok(done.t === "record.done");
    assert.equal(done.reason, "room_gone");
    assert.equal(done.frames, 10);
    assert.equal(done.multi, undefined);
    assert.equal(readWav(await Deno.readFile(path)).channels[0].length, 10 * 160);
  } finally {
    r.close();
    await Deno.remove(dir, { recursive: true });
  }
});
