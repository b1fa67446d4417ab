import assert from "node:assert/strict";
import { basename, join } from "node:path";
import wavefile from "wavefile";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { addFakeLeg } from "../helpers/fake_leg.ts";
import { rms, toneRatio } from "../../src/media/goertzel.ts";
import type { RunningServer } from "../../src/server.ts";
import type { PublishedEvent } from "../../src/events/event.ts";

const TONES = [500, 900, 1400];
const DEFAULT_NAME = /^\d{8}_\d{6}_[0-9a-f]{8}\.wav$/;

interface Rig {
  srv: RunningServer;
  dir: string;
  events: PublishedEvent[];
  clients: PcmClient[];
  /** Leg id of each client. */
  legs: string[];
}

/** A server recording into a temp dir; cleans everything up after `fn`. */
async function withRig(
  fn: (rig: Rig) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vb-rec-" });
  const srv = await startTestServer({ RECORDING_DIR: dir, MEDIA_WORKERS: "2", ...env });
  const rec = recordEvents(srv);
  const rig: Rig = { srv, dir, events: rec.events, clients: [], legs: [] };
  try {
    await fn(rig);
  } finally {
    for (const c of rig.clients) await c.close();
    rec.stop();
    await srv.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Connects WebSocket legs into `roomId`, each sending its tone; waits for audio to flow. */
async function addPeers(
  rig: Rig,
  roomId: string,
  tones: number[],
  rate = 16000,
): Promise<string[]> {
  const base = rig.srv.url.replace(/^http/, "ws");
  const before = rig.events.filter((e) => e.type === "leg.joined_room").length;
  const fresh = tones.map((toneHz) =>
    new PcmClient(`${base}/v1/legs/websocket?room_id=${roomId}&sample_rate=${rate}`, {
      rate,
      toneHz,
    })
  );
  await Promise.all(fresh.map((c) => c.opened));
  await waitFor(
    () => rig.events.filter((e) => e.type === "leg.joined_room").length === before + tones.length,
    5000,
    "joins",
  );
  await waitFor(() => fresh.every((c) => c.texts.length > 0), 3000, "connected frames");
  const ids = fresh.map((c) =>
    (c.texts.find((t) => (t as { type: string }).type === "connected") as { leg_id: string })
      .leg_id
  );
  for (const c of fresh) c.startSending();
  rig.clients.push(...fresh);
  rig.legs.push(...ids);
  // Workers start lazily and `deno test` type-checks their module first: wait for audio.
  await waitFor(() => fresh.every((c) => c.received.length >= 10), 15_000, "audio to flow");
  return ids;
}

function readWav(bytes: Uint8Array): { rate: number; channels: Int16Array[] } {
  const wav = new wavefile.WaveFile(bytes);
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number };
  assert.equal(fmt.bitsPerSample, 16);
  const raw = wav.getSamples(false, Int16Array) as unknown as Int16Array[] | Int16Array;
  return {
    rate: fmt.sampleRate,
    channels: fmt.numChannels === 1 ? [raw as Int16Array] : raw as Int16Array[],
  };
}

function assertTones(
  x: Int16Array,
  rate: number,
  present: number[],
  absent: number[],
  who: string,
) {
  for (const f of present) {
    const r = toneRatio(x, rate, f);
    assert.ok(r > 0.1, `${who}: expected ${f} Hz, ratio ${r.toFixed(4)}`);
  }
  for (const f of absent) {
    const r = toneRatio(x, rate, f);
    assert.ok(r < 0.01, `${who}: unexpected ${f} Hz, ratio ${r.toFixed(4)}`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function visibleFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (!e.name.startsWith(".")) names.push(e.name);
  return names.sort();
}

function eventsOf(rig: Rig, type: string): Record<string, unknown>[] {
  return rig.events.filter((e) => e.type === type).map((e) => e.envelope);
}

/** Waits until the client has heard `frames` more frames. */
async function hear(c: PcmClient, frames: number): Promise<void> {
  const mark = c.received.length;
  await waitFor(() => c.received.length >= mark + frames, 5000, `${frames} frames`);
}

Deno.test("a leg recording holds the leg's own voice on the left and the others on the right, for as long as it ran", async () => {
  await withRig(async (rig) => {
    const [a] = await addPeers(rig, "talk", TONES);
    const listener = rig.clients[0];
    const startMark = listener.received.length;
    const start = await call(rig.srv.url, "POST", `/v1/legs/${a}/record`);
    assert.equal(start.status, 200, start.text);
    assert.equal(start.json.status, "recording");
    const file = start.json.file as string;
    assert.equal(join(rig.dir, basename(file)), file);
    assert.match(basename(file), DEFAULT_NAME);
    await hear(listener, 25);
    assert.equal(await exists(file), false, "nothing at the final path before stop");
    await hear(listener, 25);
    const stopMark = listener.received.length;
    const stop = await call(rig.srv.url, "DELETE", `/v1/legs/${a}/record`);
    assert.equal(stop.status, 200, stop.text);
    assert.deepEqual(stop.json, { instance_id: stop.json.instance_id, status: "stopped", file });

    const wav = readWav(await Deno.readFile(file));
    assert.equal(wav.rate, 16000);
    assert.equal(wav.channels.length, 2);
    const frames = wav.channels[0].length / 320;
    const heardFrames = stopMark - startMark;
    assert.ok(
      Math.abs(frames - heardFrames) <= 1,
      `recorded ${frames} frames, the leg heard ${heardFrames} between start and stop`,
    );
    const [left, right] = wav.channels.map((ch) => ch.subarray(5 * 320));
    assertTones(left, 16000, [500], [900, 1400], "left");
    assertTones(right, 16000, [900, 1400], [500], "right");

    const started = eventsOf(rig, "recording.started");
    assert.deepEqual(started.map((e) => [e.leg_id, e.file, e.room_id]), [[a, file, undefined]]);
    const finished = eventsOf(rig, "recording.finished");
    assert.equal(finished.length, 1);
    assert.equal(finished[0].leg_id, a);
    assert.equal(finished[0].file, file);
    assert.equal(finished[0].duration_ms, frames * 20);
    assert.equal(finished[0].error, undefined);
    assert.deepEqual(await visibleFiles(rig.dir), [basename(file)]);
  });
});

Deno.test("pausing a leg recording leaves a silent stretch as long as the pause", async () => {
  await withRig(async (rig) => {
    const [a] = await addPeers(rig, "pause", [500, 900]);
    const c = rig.clients[0];
    const start = await call(rig.srv.url, "POST", `/v1/legs/${a}/record`, { filename: "paused" });
    assert.equal(start.json.file, join(rig.dir, "paused.wav"));
    await hear(c, 25);
    const pauseMark = c.received.length;
    const p = await call(rig.srv.url, "POST", `/v1/legs/${a}/record/pause`);
    assert.deepEqual([p.status, p.json.status], [200, "paused"]);
    const again = await call(rig.srv.url, "POST", `/v1/legs/${a}/record/pause`);
    assert.deepEqual([again.status, again.json.status], [200, "already_paused"]);
    await hear(c, 30);
    const resumeMark = c.received.length;
    const r = await call(rig.srv.url, "POST", `/v1/legs/${a}/record/resume`);
    assert.deepEqual([r.status, r.json.status], [200, "resumed"]);
    const r2 = await call(rig.srv.url, "POST", `/v1/legs/${a}/record/resume`);
    assert.deepEqual([r2.status, r2.json.status], [200, "not_paused"]);
    await hear(c, 25);
    const stop = await call(rig.srv.url, "DELETE", `/v1/legs/${a}/record`);
    assert.equal(stop.status, 200);

    const [left, right] = readWav(await Deno.readFile(start.json.file)).channels;
    const frames = left.length / 320;
    // The longest run of frames silent on both channels is the pause (a peer's late frame may
    // leave a lone silent frame elsewhere: its sender runs on the test's own timers).
    let first = -1;
    let len = 0;
    for (let f = 0, run = 0; f < frames; f++) {
      const silent = rms(left, f * 320, 320) === 0 && rms(right, f * 320, 320) === 0;
      run = silent ? run + 1 : 0;
      if (run > len) {
        len = run;
        first = f - run + 1;
      }
    }
    const last = first + len - 1;
    assert.ok(
      first >= 20 && frames - last >= 20,
      `the stretch is in the middle (${first}..${last})`,
    );
    const pausedFrames = resumeMark - pauseMark;
    assert.ok(
      Math.abs(len - pausedFrames) <= 2,
      `silence of ${len} frames for a pause of ${pausedFrames}`,
    );
    assert.deepEqual(
      rig.events.filter((e) => e.type.startsWith("recording.")).map((e) => e.type),
      ["recording.started", "recording.paused", "recording.resumed", "recording.finished"],
    );
    assert.equal(eventsOf(rig, "recording.paused")[0].leg_id, a);
  });
});

Deno.test("a room recording holds every tone, and multi_channel gives each participant its own channel", async () => {
  await withRig(async (rig) => {
    const legs = await addPeers(rig, "conf", TONES);
    const joinOrder = eventsOf(rig, "leg.joined_room").map((e) => e.leg_id as string);
    // Room playback is part of the room's mix, not of any participant's channel.
    const play = await call(rig.srv.url, "POST", "/v1/rooms/conf/play", { tone: "fr_dial" });
    assert.equal(play.status, 200, play.text);
    await waitFor(() => eventsOf(rig, "playback.started").length === 1, 3000, "playback");
    const start = await call(rig.srv.url, "POST", "/v1/rooms/conf/record", { multi_channel: true });
    assert.equal(start.status, 200, start.text);
    const file = start.json.file as string;
    const multiFile = start.json.multi_channel_file as string;
    assert.equal(multiFile, file.replace(/\.wav$/, "_multichannel.wav"));
    assert.equal(await exists(multiFile), false);
    await hear(rig.clients[0], 50);
    const stop = await call(rig.srv.url, "DELETE", "/v1/rooms/conf/record");
    assert.equal(stop.status, 200, stop.text);
    assert.equal(stop.json.file, file);
    assert.equal(stop.json.multi_channel_file, multiFile);
    assert.equal(stop.json.omitted_legs, undefined);
    const channels = stop.json.channels as Record<string, { channel: number; end_ms: number }>;
    assert.deepEqual(Object.keys(channels).sort(), [...legs].sort());
    joinOrder.forEach((id, i) => assert.equal(channels[id].channel, i, `channel of ${id}`));

    const mono = readWav(await Deno.readFile(file));
    assert.equal(mono.channels.length, 1);
    assertTones(mono.channels[0].subarray(320 * 5), 16000, [...TONES, 440], [], "room mix");
    const multi = readWav(await Deno.readFile(multiFile));
    assert.equal(multi.channels.length, 3);
    assert.equal(multi.channels[0].length, mono.channels[0].length);
    for (const [i, id] of legs.entries()) {
      const ch = multi.channels[channels[id].channel].subarray(320 * 5);
      const absent = [...TONES.filter((_, j) => j !== i), 440];
      assertTones(ch, 16000, [TONES[i]], absent, `channel of leg ${i}`);
      assert.equal(channels[id].end_ms, (mono.channels[0].length / 320) * 20);
    }
    const fin = eventsOf(rig, "recording.finished");
    assert.equal(fin.length, 1);
    assert.equal(fin[0].room_id, "conf");
    assert.equal(fin[0].leg_id, undefined);
    assert.equal(fin[0].multi_channel_file, multiFile);
    assert.deepEqual(fin[0].channels, stop.json.channels);
  });
});

Deno.test("record requests with bad input or in the wrong state get the documented errors", async () => {
  await withRig(async (rig) => {
    const [a, b] = await addPeers(rig, "errs", [500, 900]);
    const url = rig.srv.url;
    const cases: [string, string, unknown, number, string][] = [
      [
        "POST",
        `/v1/legs/${a}/record`,
        { filename: "../x" },
        400,
        "filename must not contain path separators",
      ],
      ["POST", `/v1/legs/${a}/record`, { filename: "..x" }, 400, "filename must not contain '..'"],
      [
        "POST",
        `/v1/legs/${a}/record`,
        { filename: ".hidden" },
        400,
        "filename must not start with '.'",
      ],
      [
        "POST",
        `/v1/legs/${a}/record`,
        { storage: "gcs" },
        400,
        "storage gcs is not supported by this server",
      ],
      [
        "POST",
        `/v1/legs/${a}/record`,
        { storage: "tape" },
        400,
        "invalid storage: must be file, s3 or gcs",
      ],
      ["POST", `/v1/legs/${a}/record`, { storage: "s3" }, 400, "s3 bucket is required"],
      [
        "POST",
        `/v1/legs/${a}/record`,
        { storage: "s3", s3_bucket: "b", s3_endpoint: "http://s3.example.com" },
        400,
        "insecure http S3 endpoint on a public host",
      ],
      ["POST", "/v1/legs/nope/record", {}, 404, "leg not found"],
      ["DELETE", "/v1/legs/nope/record", undefined, 404, "leg not found"],
      ["POST", "/v1/legs/nope/record/pause", undefined, 404, "leg not found"],
      ["DELETE", `/v1/legs/${a}/record`, undefined, 404, "no recording in progress"],
      ["POST", `/v1/legs/${a}/record/pause`, undefined, 404, "no recording in progress"],
      ["POST", `/v1/legs/${a}/record/resume`, undefined, 404, "no recording in progress"],
      ["POST", "/v1/rooms/nope/record", {}, 404, "room not found"],
      ["DELETE", "/v1/rooms/errs/record", undefined, 404, "no recording in progress"],
      ["POST", "/v1/rooms/errs/record/resume", undefined, 404, "no recording in progress"],
    ];
    for (const [method, path, body, status, error] of cases) {
      const r = await call(url, method, path, body);
      assert.deepEqual(
        [r.status, r.json?.error],
        [status, error],
        `${method} ${path} ${JSON.stringify(body)}`,
      );
    }

    assert.equal((await call(url, "POST", "/v1/rooms", { id: "empty" })).status, 201);
    const empty = await call(url, "POST", "/v1/rooms/empty/record");
    assert.deepEqual([empty.status, empty.json.error], [409, "room has no participants"]);
    const fake = addFakeLeg(rig.srv.ctx);
    const noMedia = await call(url, "POST", `/v1/legs/${fake.id}/record`);
    assert.deepEqual([noMedia.status, noMedia.json.error], [409, "leg has no media"]);

    const first = await call(url, "POST", `/v1/legs/${a}/record`, { filename: "call1" });
    assert.deepEqual([first.status, first.json.file], [200, join(rig.dir, "call1.wav")]);
    const twice = await call(url, "POST", `/v1/legs/${a}/record`);
    assert.deepEqual([twice.status, twice.json.error], [409, "recording already in progress"]);
    const reserved = await call(url, "POST", `/v1/legs/${b}/record`, { filename: "call1.wav" });
    assert.deepEqual([reserved.status, reserved.json.error], [
      409,
      "recording file call1.wav already exists",
    ]);
    assert.equal((await call(url, "DELETE", `/v1/legs/${a}/record`)).status, 200);
    const reused = await call(url, "POST", `/v1/legs/${b}/record`, { filename: "call1" });
    assert.deepEqual([reused.status, reused.json.error], [
      409,
      "recording file call1.wav already exists",
    ]);
    assert.deepEqual(await visibleFiles(rig.dir), ["call1.wav"], "failed starts leave no file");
  });
});

Deno.test("a room recording finishes by itself when its last leg leaves, and when the room is deleted", async () => {
  await withRig(async (rig) => {
    const url = rig.srv.url;
    const [a, b] = await addPeers(rig, "solo", [500, 900]);
    const start = await call(url, "POST", "/v1/rooms/solo/record", { filename: "solo" });
    assert.equal(start.status, 200);
    await hear(rig.clients[0], 20);
    assert.equal((await call(url, "DELETE", `/v1/rooms/solo/legs/${a}`)).status, 200);
    assert.equal(eventsOf(rig, "recording.finished").length, 0, "one leg is still there");
    // Moved away: the room is empty now.
    assert.equal((await call(url, "POST", "/v1/rooms/other/legs", { leg_id: b })).status, 200);
    await waitFor(() => eventsOf(rig, "recording.finished").length === 1, 5000, "auto finish");
    const fin = eventsOf(rig, "recording.finished")[0];
    assert.equal(fin.room_id, "solo");
    assert.equal(fin.file, join(rig.dir, "solo.wav"));
    assert.ok(await exists(join(rig.dir, "solo.wav")));
    const stop = await call(url, "DELETE", "/v1/rooms/solo/record");
    assert.deepEqual([stop.status, stop.json.error], [404, "no recording in progress"]);

    const other = await call(url, "POST", "/v1/rooms/other/record", { filename: "other" });
    assert.equal(other.status, 200);
    await hear(rig.clients[1], 10);
    assert.equal((await call(url, "DELETE", "/v1/rooms/other")).status, 200);
    const types = rig.events.map((e) => e.type);
    const finished = types.lastIndexOf("recording.finished");
    assert.ok(finished >= 0 && finished < types.indexOf("room.deleted"), types.join(" "));
    assert.equal(eventsOf(rig, "recording.finished")[1].room_id, "other");
    assert.ok(await exists(join(rig.dir, "other.wav")));
  });
});

Deno.test("a leg recording follows its leg to a room mixed on another worker and ends when it hangs up", async () => {
  await withRig(async (rig) => {
    const url = rig.srv.url;
    const [a] = await addPeers(rig, "here", [500]);
    await addPeers(rig, "there", [1400]);
    const media = rig.srv.ctx.media;
    assert.notEqual(media.roomWorkerIndex("here"), media.roomWorkerIndex("there"));
    const start = await call(url, "POST", `/v1/legs/${a}/record`, { filename: "mover" });
    assert.equal(start.status, 200);
    const c = rig.clients[0];
    await hear(c, 25);
    assert.equal((await call(url, "POST", "/v1/rooms/there/legs", { leg_id: a })).status, 200);
    await hear(c, 40);
    await c.close();
    await waitFor(() => eventsOf(rig, "recording.finished").length === 1, 5000, "finish on hangup");
    const fin = eventsOf(rig, "recording.finished")[0];
    assert.equal(fin.leg_id, a);
    assert.equal(fin.file, join(rig.dir, "mover.wav"));
    const [left, right] = readWav(await Deno.readFile(fin.file as string)).channels;
    const frames = left.length / 320;
    assert.ok(frames >= 60, `${frames} frames across both rooms`);
    assert.equal(fin.duration_ms, frames * 20);
    // Before the move the leg was alone; after it, it hears the other room's tone.
    assertTones(left.subarray(320 * 2, 320 * 20), 16000, [500], [1400], "left before");
    assert.ok(rms(right, 320 * 2, 320 * 18) < 1, "right before the move is silent");
    const after = (x: Int16Array) => x.subarray((frames - 30) * 320);
    assertTones(after(left), 16000, [500], [1400], "left after");
    assertTones(after(right), 16000, [1400], [500], "right after");
    assert.deepEqual(await visibleFiles(rig.dir), ["mover.wav"], "segments are gone");
    const stop = await call(url, "DELETE", `/v1/legs/${a}/record`);
    assert.deepEqual([stop.status, stop.json.error], [404, "leg not found"]);
  });
});

/** A real S3-compatible server (s3rver) on an ephemeral loopback port with bucket "rec". */
async function startS3(directory: string): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory,
    configureBuckets: [{ name: "rec" }],
  });
  const { port } = await server.run() as { port: number };
  return { endpoint: `http://127.0.0.1:${port}`, close: () => server.close() };
}

Deno.test("storage s3 uploads the finished recording byte for byte and reports its s3:// URL", async () => {
  const s3dir = await Deno.makeTempDir({ prefix: "vb-s3-" });
  const s3 = await startS3(s3dir);
  try {
    await withRig(async (rig) => {
      const [a] = await addPeers(rig, "cloud", [500, 900]);
      const creds = { s3_access_key: "S3RVER", s3_secret_key: "S3RVER" };
      const missing = await call(rig.srv.url, "POST", `/v1/legs/${a}/record`, {
        storage: "s3",
        s3_bucket: "missing",
        s3_endpoint: s3.endpoint,
        ...creds,
      });
      assert.deepEqual([missing.status, missing.json.error], [400, "s3 bucket missing not found"]);
      const start = await call(rig.srv.url, "POST", `/v1/legs/${a}/record`, {
        storage: "s3",
        s3_bucket: "rec",
        s3_endpoint: s3.endpoint,
        s3_prefix: "calls",
        filename: "up",
        ...creds,
      });
      assert.equal(start.status, 200, start.text);
      assert.ok(!start.text.includes("S3RVER"), "credentials never come back");
      await hear(rig.clients[0], 25);
      const stop = await call(rig.srv.url, "DELETE", `/v1/legs/${a}/record`);
      assert.equal(stop.json.file, join(rig.dir, "up.wav"));
      await waitFor(() => eventsOf(rig, "recording.finished").length === 1, 10_000, "upload");
      const fin = eventsOf(rig, "recording.finished")[0];
      assert.equal(fin.file, "s3://rec/calls/up.wav");
      assert.equal(fin.error, undefined);
      assert.ok(!rig.events.some((e) => e.json.includes("S3RVER")), "no credentials in events");
      const client = new S3Client({
        region: "us-east-1",
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      });
      try {
        const got = await client.send(new GetObjectCommand({ Bucket: "rec", Key: "calls/up.wav" }));
        const body = await got.Body!.transformToByteArray();
        assert.deepEqual(body, await Deno.readFile(join(rig.dir, "up.wav")));
      } finally {
        client.destroy();
      }
    });
  } finally {
    await s3.close();
    await Deno.remove(s3dir, { recursive: true });
  }
});

Deno.test("a failed S3 upload still finishes the recording, with the local file and an error", async () => {
  const s3dir = await Deno.makeTempDir({ prefix: "vb-s3-" });
  const s3 = await startS3(s3dir);
  let s3Open = true;
  try {
    await withRig(async (rig) => {
      const [a] = await addPeers(rig, "flaky", [500]);
      const start = await call(rig.srv.url, "POST", `/v1/legs/${a}/record`, {
        storage: "s3",
        s3_bucket: "rec",
        s3_endpoint: s3.endpoint,
        s3_access_key: "S3RVER",
        s3_secret_key: "S3RVER",
        filename: "kept",
      });
      assert.equal(start.status, 200, start.text);
      await hear(rig.clients[0], 10);
      await s3.close();
      s3Open = false;
      const stop = await call(rig.srv.url, "DELETE", `/v1/legs/${a}/record`);
      assert.equal(stop.json.file, join(rig.dir, "kept.wav"));
      await waitFor(() => eventsOf(rig, "recording.finished").length === 1, 15_000, "finish");
      const fin = eventsOf(rig, "recording.finished")[0];
      assert.equal(fin.file, join(rig.dir, "kept.wav"));
      assert.match(fin.error as string, /^Cannot upload recording to s3:\/\/rec\/kept\.wav: /);
      assert.ok(!(fin.error as string).includes("S3RVER"));
      assert.ok(await exists(join(rig.dir, "kept.wav")), "the local file is kept");
    });
  } finally {
    if (s3Open) await s3.close();
    await Deno.remove(s3dir, { recursive: true });
  }
});

Deno.test("VSI room_record_start and room_record_stop run the same operations as REST", async () => {
  await withRig(async (rig) => {
    await addPeers(rig, "vsi-room", [500, 900]);
    const ws = new WebSocket(rig.srv.url.replace(/^http/, "ws") + "/v1/vsi");
    const frames: Record<string, unknown>[] = [];
    ws.addEventListener("message", (e) => frames.push(JSON.parse(e.data as string)));
    const closed = new Promise((r) => ws.addEventListener("close", r, { once: true }));
    try {
      await waitFor(() => frames.length > 0, 3000, "connected");
      const reply = async (requestId: string) => {
        await waitFor(() => frames.some((f) => f.request_id === requestId), 5000, requestId);
        return frames.find((f) => f.request_id === requestId)!;
      };
      ws.send(JSON.stringify({
        type: "room_record_start",
        request_id: "1",
        payload: { id: "vsi-room", filename: "via-vsi" },
      }));
      const started = await reply("1");
      assert.deepEqual(started, {
        type: "room_record_start.result",
        request_id: "1",
        data: { status: "recording", file: join(rig.dir, "via-vsi.wav") },
      });
      ws.send(JSON.stringify({
        type: "room_record_start",
        request_id: "2",
        payload: { id: "vsi-room" },
      }));
      assert.deepEqual((await reply("2")).data, {
        code: 409,
        message: "recording already in progress",
      });
      await hear(rig.clients[0], 20);
      ws.send(
        JSON.stringify({ type: "room_record_stop", request_id: "3", payload: { id: "vsi-room" } }),
      );
      const stopped = await reply("3");
      assert.deepEqual(stopped.data, { status: "stopped", file: join(rig.dir, "via-vsi.wav") });
      const mono = readWav(await Deno.readFile(join(rig.dir, "via-vsi.wav")));
      assertTones(mono.channels[0].subarray(320 * 3), 16000, [500, 900], [], "room via VSI");
    } finally {
      ws.close();
      await closed;
    }
  });
});
