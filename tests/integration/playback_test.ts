import assert from "node:assert/strict";
import wavefile from "wavefile";
import { Mp3Encoder } from "lamejs";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { addFakeLeg } from "../helpers/fake_leg.ts";
import { rms, toneRatio } from "../../src/media/goertzel.ts";
import type { RunningServer } from "../../src/server.ts";
import type { PublishedEvent } from "../../src/events/event.ts";

// ── fixtures, generated in-test ──────────────────────────────────────────────

function sine(rate: number, freq: number, ms: number, amp = 12000): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  return Int16Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / rate));
}

/** A 44.1 kHz stereo 16-bit WAV with the same tone on both channels. */
function stereoWav(freq: number, ms: number, amp?: number): Uint8Array<ArrayBuffer> {
  const ch = sine(44100, freq, ms, amp);
  const wav = new wavefile.WaveFile();
  wav.fromScratch(2, 44100, "16", [Array.from(ch), Array.from(ch)]);
  return new Uint8Array(wav.toBuffer());
}

/** A 44.1 kHz mono MP3 (128 kbit/s) of a tone. */
function mp3(freq: number, ms: number): Uint8Array<ArrayBuffer> {
  const enc = new Mp3Encoder(1, 44100, 128);
  const pcm = sine(44100, freq, ms);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < pcm.length; i += 1152) {
    parts.push(new Uint8Array(enc.encodeBuffer(pcm.subarray(i, i + 1152))));
  }
  parts.push(new Uint8Array(enc.flush()));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A local file server for playback sources. */
function fileServer(files: Record<string, { body: Uint8Array<ArrayBuffer>; type: string }>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const f = files[new URL(req.url).pathname];
    return f
      ? new Response(f.body, { headers: { "content-type": f.type } })
      : new Response("missing", { status: 404 });
  });
  return {
    url: (path: string) => `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}${path}`,
    close: () => server.shutdown(),
  };
}

// ── server, participants and events ─────────────────────────────────────────

interface Peer {
  readonly client: PcmClient;
  readonly legId: string;
}

async function withRoom(
  n: number,
  fn: (srv: RunningServer, peers: Peer[], events: PublishedEvent[]) => Promise<void>,
  env: Record<string, string> = { MEDIA_WORKERS: "1" },
): Promise<void> {
  const srv = await startTestServer(env);
  const rec = recordEvents(srv);
  const peers: Peer[] = [];
  try {
    assert.equal(
      (await call(srv.url, "POST", "/v1/rooms", { id: "r", sample_rate: 16000 })).status,
      201,
    );
    for (let i = 0; i < n; i++) {
      const url = srv.url.replace(/^http/, "ws") + "/v1/legs/websocket?room_id=r&sample_rate=16000";
      const client = new PcmClient(url, { rate: 16000 });
      await client.opened;
      await waitFor(() => client.texts.length > 0, 3000, "the connected frame");
      peers.push({ client, legId: (client.texts[0] as { leg_id: string }).leg_id });
    }
    await waitFor(() => count(rec.events, "leg.joined_room") === n, 3000, "joins");
    // Workers start lazily (and type-check first): wait for audio to flow before measuring.
    await waitFor(() => peers.every((p) => p.client.received.length >= 10), 15_000, "audio");
    await fn(srv, peers, rec.events);
  } finally {
    for (const p of peers) await p.client.close();
    rec.stop();
    await srv.shutdown();
  }
}

function count(events: PublishedEvent[], type: string): number {
  return events.filter((e) => e.type === type).length;
}

/** The envelope of the first `type` event of `playbackId`, once it arrives. */
async function eventOf(
  events: PublishedEvent[],
  type: string,
  playbackId: string,
  timeoutMs = 5000,
): Promise<Record<string, unknown>> {
  const find = () => events.find((e) => e.type === type && e.envelope.playback_id === playbackId);
  await waitFor(() => find() !== undefined, timeoutMs, `${type} of ${playbackId}`);
  return find()!.envelope;
}

/** Waits for `frames` more 20 ms frames, then returns the last `ms` heard. */
async function listen(c: PcmClient, frames: number, ms: number): Promise<Int16Array> {
  const mark = c.received.length;
  await waitFor(() => c.received.length >= mark + frames, 5000, `${frames} frames`);
  return c.tail(ms);
}

/** Frames heard since `mark` that carry sound, joined. */
function audibleSince(c: PcmClient, mark: number): Int16Array {
  const frames = c.received.slice(mark).filter((f) => rms(f) > 50);
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  frames.forEach((f, i) => out.set(f, i * f.length));
  return out;
}

const db = (ratio: number) => 20 * Math.log10(ratio);

// ── tests ───────────────────────────────────────────────────────────────────

Deno.test("a 44.1 kHz stereo WAV played twice into a 16 kHz room is heard at its pitch by everyone", async () => {
  const files = fileServer({ "/tone.wav": { body: stereoWav(1200, 400), type: "audio/wav" } });
  try {
    await withRoom(2, async (srv, peers, events) => {
      const marks = peers.map((p) => p.client.received.length);
      const r = await call(srv.url, "POST", "/v1/rooms/r/play", {
        url: files.url("/tone.wav"),
        repeat: 2,
      });
      assert.equal(r.status, 200);
      assert.match(r.json.playback_id, /^pb-[0-9a-f]{8}$/);
      assert.equal(r.json.status, "playing");
      const id = r.json.playback_id;
      const started = await eventOf(events, "playback.started", id);
      assert.equal(started.room_id, "r");
      assert.equal(started.leg_id, undefined);
      const done = await eventOf(events, "playback.finished", id);
      assert.equal(done.reason, "completed");
      assert.equal(done.played_ms, 800);
      await listen(peers[0].client, 5, 100);
      for (const [i, p] of peers.entries()) {
        const heard = audibleSince(p.client, marks[i]);
        assert.ok(
          Math.abs(heard.length / 16 - 800) <= 40,
          `peer ${i} heard ${heard.length / 16} ms`,
        );
        assert.ok(toneRatio(heard, 16000, 1200) > 0.9, `peer ${i} hears 1200 Hz`);
      }
    });
  } finally {
    await files.close();
  }
});

Deno.test("an MP3 played into a 16 kHz room is heard at its pitch", async () => {
  const files = fileServer({ "/tone.mp3": { body: mp3(700, 1000), type: "audio/mpeg" } });
  try {
    await withRoom(1, async (srv, [peer], events) => {
      const mark = peer.client.received.length;
      const r = await call(srv.url, "POST", "/v1/rooms/r/play", { url: files.url("/tone.mp3") });
      assert.equal(r.status, 200);
      const done = await eventOf(events, "playback.finished", r.json.playback_id);
      assert.equal(done.reason, "completed");
      // The encoder adds up to two frames of padding around the 1 s of audio.
      assert.ok((done.played_ms as number) >= 1000 && (done.played_ms as number) < 1120);
      await listen(peer.client, 5, 100);
      assert.ok(toneRatio(audibleSince(peer.client, mark), 16000, 700) > 0.9);
    });
  } finally {
    await files.close();
  }
});

Deno.test("a leg playback of us_ringback is heard by that leg only, and stops on DELETE", async () => {
  await withRoom(2, async (srv, [a, b], events) => {
    const r = await call(srv.url, "POST", `/v1/legs/${b.legId}/play`, { tone: "us_ringback" });
    assert.equal(r.status, 200);
    const id = r.json.playback_id;
    const started = await eventOf(events, "playback.started", id);
    assert.equal(started.leg_id, b.legId);
    assert.equal(started.room_id, undefined);
    const hb = await listen(b.client, 25, 400);
    assert.ok(toneRatio(hb, 16000, 440) > 0.3 && toneRatio(hb, 16000, 480) > 0.3);
    const ha = a.client.tail(400);
    assert.ok(toneRatio(ha, 16000, 440) < 0.01 && toneRatio(ha, 16000, 480) < 0.01);

    const stop = await call(srv.url, "DELETE", `/v1/legs/${b.legId}/play/${id}`);
    assert.equal(stop.status, 200);
    assert.equal(stop.json.status, "stopped");
    const done = await eventOf(events, "playback.finished", id);
    assert.equal(done.reason, "stopped");
    assert.equal(done.leg_id, b.legId);
    assert.ok((done.played_ms as number) >= 400);
    const again = await call(srv.url, "DELETE", `/v1/legs/${b.legId}/play/${id}`);
    assert.equal(again.status, 404);
    assert.equal(again.json.error, "playback not found");
    assert.equal(rms(await listen(b.client, 10, 100)), 0, "silence after the stop");
  });
});

Deno.test("PATCH volume changes the level by about 3 dB per step, from the next frames on", async () => {
  await withRoom(1, async (srv, [peer], events) => {
    const r = await call(srv.url, "POST", "/v1/rooms/r/play", { tone: "us_dial", volume: 2 });
    const id = r.json.playback_id;
    await eventOf(events, "playback.started", id);
    const before = rms(await listen(peer.client, 30, 400));
    const patch = await call(srv.url, "PATCH", `/v1/rooms/r/play/${id}`, { volume: -2 });
    assert.equal(patch.status, 200);
    assert.equal(patch.json.status, "ok");
    const after = rms(await listen(peer.client, 30, 400));
    const change = db(after / before);
    assert.ok(Math.abs(change + 12) <= 1.5, `level changed by ${change.toFixed(2)} dB`);
  });
});

Deno.test("unreachable, missing and undecodable sources report playback.error and the call goes on", async () => {
  const files = fileServer({
    "/junk.wav": { body: new Uint8Array(4000).map((_, i) => (i * 31) & 0x7f), type: "audio/wav" },
    "/junk.bin": { body: new Uint8Array(4000).map((_, i) => (i * 31) & 0x7f), type: "text/plain" },
  });
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  try {
    await withRoom(1, async (srv, [peer], events) => {
      const cases: [string, string][] = [
        [
          `http://127.0.0.1:${deadPort}/x.wav`,
          `Cannot fetch audio: connection failed (127.0.0.1:${deadPort})`,
        ],
        [files.url("/missing.wav"), "Cannot fetch audio: HTTP 404"],
        [files.url("/junk.wav"), "Cannot decode WAV: malformed header"],
        [files.url("/junk.bin"), "Cannot decode audio: unrecognized format (text/plain)"],
      ];
      for (const [url, error] of cases) {
        const r = await call(srv.url, "POST", `/v1/legs/${peer.legId}/play`, { url });
        assert.equal(r.status, 200, url);
        const ev = await eventOf(events, "playback.error", r.json.playback_id);
        assert.equal(ev.error, error);
        assert.equal(ev.leg_id, peer.legId);
        const stop = await call(
          srv.url,
          "DELETE",
          `/v1/legs/${peer.legId}/play/${r.json.playback_id}`,
        );
        assert.equal(stop.status, 404, "an errored playback is forgotten");
      }
      assert.equal((await call(srv.url, "GET", `/v1/legs/${peer.legId}`)).json.state, "connected");
      const tone = await call(srv.url, "POST", `/v1/legs/${peer.legId}/play`, { tone: "fr_dial" });
      await eventOf(events, "playback.started", tone.json.playback_id);
      assert.ok(toneRatio(await listen(peer.client, 20, 300), 16000, 440) > 0.9);
    });
  } finally {
    await files.close();
  }
});

Deno.test("bad playback requests get the exact 400, 404 and 409 messages", async () => {
  await withRoom(1, async (srv, [peer], events) => {
    const leg = `/v1/legs/${peer.legId}/play`;
    const bad: [string, unknown, string][] = [
      [leg, { url: "http://x/a.wav", tone: "dial" }, "exactly one of url or tone is required"],
      [leg, { mime_type: "audio/wav" }, "exactly one of url or tone is required"],
      ["/v1/rooms/r/play", {}, "exactly one of url or tone is required"],
      [leg, { tone: "dial", volume: 9 }, "invalid volume: must be an integer -8..8"],
      [leg, { tone: "dial", volume: -9 }, "invalid volume: must be an integer -8..8"],
      [leg, { tone: "dial", volume: 1.5 }, "invalid volume: must be an integer -8..8"],
      [
        leg,
        { tone: "dial", repeat: -2 },
        "invalid repeat: must be -1 (forever) or a count of 0 or more",
      ],
      [leg, { url: "ftp://host/a.wav" }, "invalid url: unsupported URL scheme ftp"],
      [leg, { url: "not a url" }, "invalid url: invalid URL"],
      [leg, { url: "file:///etc/passwd" }, "invalid url: local files must be under RECORDING_DIR"],
      [
        leg,
        { url: "/tmp/recordings/../../etc/passwd" },
        "invalid url: local files must be under RECORDING_DIR",
      ],
      [leg, "{", "invalid JSON"],
      [leg, undefined, "request body is required"],
    ];
    for (const [path, body, error] of bad) {
      const r = await call(srv.url, "POST", path, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.error, error, JSON.stringify(body));
    }
    const play = await call(srv.url, "POST", leg, { tone: "dial" });
    const pb = play.json.playback_id;
    const other: [string, string, unknown, number, string][] = [
      ["POST", "/v1/legs/nope/play", { tone: "dial" }, 404, "leg not found"],
      ["POST", "/v1/rooms/nope/play", { tone: "dial" }, 404, "room not found"],
      ["DELETE", `/v1/legs/nope/play/${pb}`, undefined, 404, "leg not found"],
      ["DELETE", `/v1/legs/${peer.legId}/play/pb-00000000`, undefined, 404, "playback not found"],
      ["DELETE", `/v1/rooms/r/play/${pb}`, undefined, 404, "playback not found"],
      [
        "PATCH",
        `/v1/legs/${peer.legId}/play/pb-00000000`,
        { volume: 1 },
        404,
        "playback not found",
      ],
      ["PATCH", `/v1/rooms/nope/play/${pb}`, { volume: 1 }, 404, "room not found"],
      [
        "PATCH",
        `/v1/legs/${peer.legId}/play/${pb}`,
        { volume: 12 },
        400,
        "invalid volume: must be an integer -8..8",
      ],
      ["PATCH", `/v1/legs/${peer.legId}/play/${pb}`, undefined, 400, "request body is required"],
      [
        "PATCH",
        `/v1/legs/${peer.legId}/play/${pb}`,
        {},
        400,
        "invalid volume: must be an integer -8..8",
      ],
    ];
    for (const [method, path, body, status, error] of other) {
      const r = await call(srv.url, method, path, body);
      assert.equal(r.status, status, `${method} ${path}`);
      assert.equal(r.json.error, error, `${method} ${path}`);
    }
    // 409: an empty room, a leg without media, a leg still ringing.
    await call(srv.url, "POST", "/v1/rooms", { id: "empty" });
    const noMedia = addFakeLeg(srv.ctx);
    const ringing = addFakeLeg(srv.ctx, { state: "ringing" });
    const conflicts: [string, string][] = [
      ["/v1/rooms/empty/play", "room has no participants"],
      [`/v1/legs/${noMedia.id}/play`, "leg has no media"],
      [`/v1/legs/${ringing.id}/play`, "leg is not connected"],
    ];
    for (const [path, error] of conflicts) {
      const r = await call(srv.url, "POST", path, { tone: "dial" });
      assert.equal(r.status, 409, path);
      assert.equal(r.json.error, error, path);
    }
    // An unknown tone is accepted, then reported (compat "Playback").
    const unknown = await call(srv.url, "POST", leg, { tone: "xx_siren" });
    assert.equal(unknown.status, 200);
    const ev = await eventOf(events, "playback.error", unknown.json.playback_id);
    assert.equal(ev.error, "unknown tone: xx_siren");
  });
});

/** A minimal VSI client: sends commands and collects every frame. */
async function vsi(srv: RunningServer) {
  const ws = new WebSocket(srv.url.replace(/^http/, "ws") + "/v1/vsi");
  const frames: Record<string, unknown>[] = [];
  ws.onmessage = (e) => frames.push(JSON.parse(e.data as string));
  await waitFor(() => frames.length > 0, 3000, "VSI connected");
  let n = 0;
  return {
    async command(type: string, payload: unknown): Promise<Record<string, unknown>> {
      const request_id = `q${++n}`;
      ws.send(JSON.stringify({ type, request_id, payload }));
      await waitFor(() => frames.some((f) => f.request_id === request_id), 3000, type);
      return frames.find((f) => f.request_id === request_id)!;
    },
    async close() {
      const closed = new Promise((r) => ws.addEventListener("close", r, { once: true }));
      ws.close();
      await closed;
    },
  };
}

Deno.test("VSI room_play_start, room_play_volume and room_play_stop run the same operations", async () => {
  await withRoom(1, async (srv, [peer], events) => {
    const v = await vsi(srv);
    try {
      const start = await v.command("room_play_start", { id: "r", tone: "de_dial", volume: -1 });
      assert.equal(start.type, "room_play_start.result");
      const data = start.data as { playback_id: string; status: string };
      assert.equal(data.status, "playing");
      await eventOf(events, "playback.started", data.playback_id);
      assert.ok(toneRatio(await listen(peer.client, 20, 300), 16000, 425) > 0.9);
      const vol = await v.command("room_play_volume", {
        id: "r",
        playback_id: data.playback_id,
        volume: 3,
      });
      assert.deepEqual(vol.data, { status: "ok" });
      const bad = await v.command("room_play_start", { id: "r", url: "x", tone: "dial" });
      assert.deepEqual(bad.data, { code: 400, message: "exactly one of url or tone is required" });
      const stop = await v.command("room_play_stop", { id: "r", playback_id: data.playback_id });
      assert.deepEqual(stop.data, { status: "stopped" });
      const done = await eventOf(events, "playback.finished", data.playback_id);
      assert.equal(done.reason, "stopped");
      const gone = await v.command("room_play_stop", { id: "r", playback_id: data.playback_id });
      assert.deepEqual(gone.data, { code: 404, message: "playback not found" });
    } finally {
      await v.close();
    }
  });
});

Deno.test("deleting a room and hanging up a leg end their playbacks as stopped", async () => {
  await withRoom(1, async (srv, [peer], events) => {
    const legPb =
      (await call(srv.url, "POST", `/v1/legs/${peer.legId}/play`, { tone: "busy" })).json
        .playback_id;
    const roomPb = (await call(srv.url, "POST", "/v1/rooms/r/play", { tone: "dial", repeat: -1 }))
      .json.playback_id;
    await eventOf(events, "playback.started", legPb);
    await eventOf(events, "playback.started", roomPb);
    assert.equal((await call(srv.url, "DELETE", "/v1/rooms/r")).status, 200);
    const roomDone = await eventOf(events, "playback.finished", roomPb);
    assert.equal(roomDone.reason, "stopped");
    const at = (type: string, pb?: string) =>
      events.findIndex((e) => e.type === type && (!pb || e.envelope.playback_id === pb));
    assert.ok(at("playback.finished", roomPb) < at("room.deleted"), "finished before room.deleted");
    const legDone = await eventOf(events, "playback.finished", legPb);
    assert.equal(legDone.reason, "stopped");
    assert.equal(legDone.leg_id, peer.legId);
  });
});

Deno.test("leg playbacks follow their leg to another worker and into an 8 kHz room", async () => {
  const files = fileServer({
    "/loop.wav": { body: stereoWav(900, 1000, 5000), type: "audio/wav" },
  });
  const srv = await startTestServer({ MEDIA_WORKERS: "2" });
  const rec = recordEvents(srv);
  const clients: PcmClient[] = [];
  try {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const c = new PcmClient(srv.url.replace(/^http/, "ws") + "/v1/legs/websocket", {
        rate: 16000,
      });
      clients.push(c);
      await c.opened;
      await waitFor(() => c.texts.length > 0, 3000, "connected");
      ids.push((c.texts[0] as { leg_id: string }).leg_id);
    }
    await waitFor(() => clients.every((c) => c.received.length >= 10), 15_000, "audio");
    assert.equal(srv.ctx.media.workerCount, 2, "each leg got its own worker");
    // Two playbacks at once on the second leg: a tone and a looping 44.1 kHz file.
    const pbs: string[] = [];
    for (const body of [{ tone: "us_dial" }, { url: files.url("/loop.wav"), repeat: -1 }]) {
      const r = await call(srv.url, "POST", `/v1/legs/${ids[1]}/play`, body);
      pbs.push(r.json.playback_id);
      await eventOf(rec.events, "playback.started", r.json.playback_id);
    }
    const alone = await listen(clients[1], 10, 150);
    for (const f of [350, 440, 900]) assert.ok(toneRatio(alone, 16000, f) > 0.1, `${f} Hz`);
    // The room is created next to the first leg at 8 kHz; the second leg moves to that worker
    // and its playbacks now render at the room rate.
    await call(srv.url, "POST", "/v1/rooms", { id: "m", sample_rate: 8000 });
    for (const leg of ids) {
      assert.equal((await call(srv.url, "POST", "/v1/rooms/m/legs", { leg_id: leg })).status, 200);
    }
    const heard = await listen(clients[1], 40, 400);
    for (const f of [350, 440, 900]) assert.ok(toneRatio(heard, 16000, f) > 0.1, `${f} Hz in m`);
    assert.ok(toneRatio(clients[0].tail(400), 16000, 900) < 0.01, "the first leg hears none");
    assert.equal(count(rec.events, "playback.started"), 2);
    assert.equal(count(rec.events, "playback.finished"), 0);
    for (const id of pbs) {
      assert.equal((await call(srv.url, "DELETE", `/v1/legs/${ids[1]}/play/${id}`)).status, 200);
      const done = await eventOf(rec.events, "playback.finished", id);
      assert.equal(done.reason, "stopped");
      assert.ok((done.played_ms as number) >= 600, `${id} played ${done.played_ms} ms`);
    }
  } finally {
    for (const c of clients) await c.close();
    rec.stop();
    await srv.shutdown();
    await files.close();
  }
});
