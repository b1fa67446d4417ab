import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { PcmClient, sleep, waitFor } from "../helpers/pcm_client.ts";

function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

Deno.test("speaking.started/stopped follow a leg's talk spurt; muted legs and opted-out legs emit none", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "1", SPEECH_DETECTION_ENABLED: "true" });
  const rec = recordEvents(srv);
  const talker = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=talk"), {
    rate: 16000,
    toneHz: 300,
  });
  const optedOut = new PcmClient(
    wsUrl(srv.url, "/v1/legs/websocket?room_id=talk&speech_detection=false"),
    {
      rate: 16000,
      toneHz: 700,
    },
  );
  try {
    await Promise.all([talker.opened, optedOut.opened]);
    await waitFor(() => talker.texts.length > 0 && optedOut.texts.length > 0, 3000, "connected");
    const talkerId = (talker.texts[0] as { leg_id: string }).leg_id;
    const optedId = (optedOut.texts[0] as { leg_id: string }).leg_id;
    talker.startSending();
    optedOut.startSending();
    const speaking = () => rec.events.filter((e) => e.type.startsWith("speaking."));
    await waitFor(() => speaking().length >= 1, 15_000, "speaking.started");
    const started = speaking()[0].envelope;
    assert.equal(started.type, "speaking.started");
    assert.equal(started.leg_id, talkerId);
    assert.equal(started.room_id, "talk");
    // Muting suppresses speech: the detector sees silence and ends the spurt after its hold time.
    await call(srv.url, "POST", `/v1/legs/${talkerId}/mute`);
    await waitFor(() => speaking().length >= 2, 3000, "speaking.stopped after mute");
    assert.equal(speaking()[1].type, "speaking.stopped");
    await sleep(300);
    assert.equal(speaking().length, 2, "no events while muted");
    assert.equal(
      speaking().some((e) => e.envelope.leg_id === optedId),
      false,
      "opted-out leg is silent",
    );
  } finally {
    await talker.close();
    await optedOut.close();
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("without SPEECH_DETECTION_ENABLED no speaking events are published", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "1" });
  const rec = recordEvents(srv);
  const c = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=quiet"), {
    rate: 16000,
    toneHz: 300,
  });
  try {
    await c.opened;
    c.startSending();
    await waitFor(() => c.received.length >= 40, 15_000, "audio");
    assert.equal(rec.events.some((e) => e.type.startsWith("speaking.")), false);
  } finally {
    await c.close();
    rec.stop();
    await srv.shutdown();
  }
});
