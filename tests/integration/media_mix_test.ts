import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { toneRatio } from "../../src/media/goertzel.ts";

const TONES = [500, 900, 1400];

function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

/** Asserts `samples` contain each `present` tone and none of the `absent` ones. */
function assertTones(
  samples: Int16Array,
  rate: number,
  present: number[],
  absent: number[],
  who: string,
) {
  for (const f of present) {
    const r = toneRatio(samples, rate, f);
    assert.ok(r > 0.1, `${who}: expected ${f} Hz, ratio ${r.toFixed(4)}`);
  }
  for (const f of absent) {
    const r = toneRatio(samples, rate, f);
    assert.ok(r < 0.01, `${who}: unexpected ${f} Hz, ratio ${r.toFixed(4)}`);
  }
}

async function threeInRoom(roomRate: number, clientRates: number[]) {
  const srv = await startTestServer({ MEDIA_WORKERS: "2" });
  const rec = recordEvents(srv);
  const clients: PcmClient[] = [];
  try {
    const created = await call(srv.url, "POST", "/v1/rooms", { id: "mix", sample_rate: roomRate });
    assert.equal(created.status, 201);
    for (let i = 0; i < 3; i++) {
      const c = new PcmClient(
        wsUrl(
          srv.url,
          `/v1/legs/websocket?room_id=mix&sample_rate=${clientRates[i]}${
            i === 2 ? "&wire_format=json_base64" : ""
          }`,
        ),
        { rate: clientRates[i], toneHz: TONES[i], format: i === 2 ? "json_base64" : "binary" },
      );
      clients.push(c);
    }
    // json_base64 must be requested in the query for the third client.
    await Promise.all(clients.map((c) => c.opened));
    await waitFor(
      () => rec.events.filter((e) => e.type === "leg.joined_room").length === 3,
      3000,
      "3 joins",
    );
    for (const c of clients) c.startSending();
    // Workers start lazily (and `deno test` type-checks their module first): wait for audio to
    // flow, then for the tones to fill the analysis window.
    await waitFor(() => clients.every((c) => c.received.length >= 10), 15_000, "audio to flow");
    const mark = clients.map((c) => c.received.length);
    await waitFor(
      () => clients.every((c, i) => c.received.length >= mark[i] + 40),
      5000,
      "800 ms of audio",
    );
    for (let i = 0; i < 3; i++) {
      const heard = clients[i].tail(500);
      assert.ok(
        heard.length >= clientRates[i] * 0.4,
        `client ${i} received ${heard.length} samples; frames per client ${
          clients.map((c) => c.received.length)
        }; ${JSON.stringify(srv.ctx.media.stats())}`,
      );
      assertTones(
        heard,
        clientRates[i],
        TONES.filter((_, j) => j !== i),
        [TONES[i]],
        `client ${i} (${clientRates[i]} Hz in ${roomRate} Hz room)`,
      );
    }
    const room = await call(srv.url, "GET", "/v1/rooms/mix");
    assert.equal(room.json.participants.length, 3);
  } finally {
    for (const c of clients) await c.close();
    rec.stop();
    await srv.shutdown();
  }
}

Deno.test("three WebSocket legs in a 16 kHz room each hear the other two tones and not their own", async () => {
  await threeInRoom(16000, [16000, 16000, 16000]);
});

Deno.test("an 8 kHz room mixes clients at 16, 48 and 8 kHz with frequencies preserved", async () => {
  await threeInRoom(8000, [16000, 48000, 8000]);
});

Deno.test("a 48 kHz room mixes clients at 8, 16 and 24 kHz with frequencies preserved", async () => {
  await threeInRoom(48000, [8000, 16000, 24000]);
});

Deno.test("a deaf leg hears silence and a muted leg is not heard, and both undo", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "1" });
  const rec = recordEvents(srv);
  const clients: PcmClient[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      clients.push(
        new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=flags"), {
          rate: 16000,
          toneHz: TONES[i],
        }),
      );
    }
    await Promise.all(clients.map((c) => c.opened));
    await waitFor(
      () => rec.events.filter((e) => e.type === "leg.joined_room").length === 3,
      3000,
      "joins",
    );
    const ids = clients.map((_, i) =>
      rec.events.filter((e) => e.type === "leg.connected")[i].envelope.leg_id as string
    );
    // Map each client to its leg by the connected frame it received.
    const legOf = clients.map((c) =>
      (c.texts.find((t) => (t as { type: string }).type === "connected") as { leg_id: string })
        .leg_id
    );
    assert.deepEqual(new Set(legOf), new Set(ids));
    for (const c of clients) c.startSending();
    await waitFor(() => clients.every((c) => c.received.length >= 10), 15_000, "audio to flow");

    const deaf = await call(srv.url, "POST", `/v1/legs/${legOf[0]}/deaf`);
    assert.equal(deaf.status, 200);
    assert.equal(deaf.json.status, "deaf");
    const mute = await call(srv.url, "POST", `/v1/legs/${legOf[1]}/mute`);
    assert.equal(mute.json.status, "muted");
    assert.equal((await call(srv.url, "GET", `/v1/legs/${legOf[1]}`)).json.muted, true);
    let mark = clients.map((c) => c.received.length);
    await waitFor(() => clients.every((c, i) => c.received.length >= mark[i] + 40), 5000, "audio");
    const deafHeard = clients[0].tail(500);
    assert.equal(deafHeard.every((s) => s === 0), true, "deaf leg hears exact silence");
    assertTones(
      clients[2].tail(500),
      16000,
      [TONES[0]],
      [TONES[1], TONES[2]],
      "third hears only the first",
    );
    assertTones(
      clients[1].tail(500),
      16000,
      [TONES[0], TONES[2]],
      [TONES[1]],
      "muted leg still hears",
    );

    await call(srv.url, "DELETE", `/v1/legs/${legOf[0]}/deaf`);
    await call(srv.url, "DELETE", `/v1/legs/${legOf[1]}/mute`);
    mark = clients.map((c) => c.received.length);
    await waitFor(() => clients.every((c, i) => c.received.length >= mark[i] + 40), 5000, "audio");
    assertTones(clients[0].tail(500), 16000, [TONES[1], TONES[2]], [TONES[0]], "undeafened");
    assertTones(clients[2].tail(500), 16000, [TONES[0], TONES[1]], [TONES[2]], "unmuted heard");
    const types = rec.events.map((e) => e.type);
    for (const t of ["leg.deaf", "leg.muted", "leg.undeaf", "leg.unmuted"]) {
      assert.ok(types.includes(t), t);
    }
  } finally {
    for (const c of clients) await c.close();
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("a room WebSocket slot hears the mix at the room rate and is not a leg", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "1" });
  const clients: PcmClient[] = [];
  try {
    assert.equal(
      (await call(srv.url, "POST", "/v1/rooms", { id: "rws", sample_rate: 48000 })).status,
      201,
    );
    const leg = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=rws&sample_rate=16000"), {
      rate: 16000,
      toneHz: 700,
    });
    const slot = new PcmClient(wsUrl(srv.url, "/v1/rooms/rws/ws"), {
      rate: 48000,
      toneHz: 1800,
      format: "json_base64",
    });
    clients.push(leg, slot);
    await Promise.all(clients.map((c) => c.opened));
    for (const c of clients) c.startSending();
    await waitFor(() => clients.every((c) => c.received.length >= 50), 15_000, "audio");
    const welcome = slot.texts[0] as Record<string, unknown>;
    assert.equal(welcome.type, "connected");
    assert.match(welcome.participant_id as string, /^ws-[0-9a-f]{8}$/);
    assert.equal(welcome.sample_rate, 48000);
    assert.equal(welcome.format, "pcm_s16le");
    assert.equal(slot.received[slot.received.length - 1].length, 960, "20 ms at 48 kHz");
    assertTones(slot.tail(400), 48000, [700], [1800], "room slot");
    assertTones(leg.tail(400), 16000, [1800], [700], "leg hears the slot");
    const room = await call(srv.url, "GET", "/v1/rooms/rws");
    assert.equal(room.json.participants.length, 1, "the slot is not a participant");
    assert.equal((await call(srv.url, "GET", "/v1/legs")).json.length, 1);
    const missing = await call(srv.url, "GET", "/v1/rooms/nope/ws", undefined, {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error, "room not found");
  } finally {
    for (const c of clients) await c.close();
    await srv.shutdown();
  }
});
