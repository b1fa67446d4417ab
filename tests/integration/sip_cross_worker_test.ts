/**
 * A SIP leg's RTP socket lives in the media worker that opened it; when the leg joins a room mixed
 * on another worker, its frames cross between the two workers through shared rings. Audio is
 * checked by tone content both ways, before and after the leg moves back to a room on its own
 * worker.
 */
import assert from "node:assert/strict";
import { call, recordEvents } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { connect, serverFactory, waitEvent, wsUrl } from "../helpers/sip_pair.ts";
import { toneRatio } from "../../src/media/goertzel.ts";

const server = serverFactory(42000);

/** Waits until `client` has heard `frames` more frames, then returns its last 400 ms. */
async function hears(client: PcmClient, frames: number, what: string): Promise<Int16Array> {
  const mark = client.received.length;
  await waitFor(() => client.received.length >= mark + frames, 10_000, what);
  return client.tail(400);
}

Deno.test("a SIP leg joins a room mixed on another media worker and hears and is heard there", async () => {
  const a = await server();
  const b = await server({ MEDIA_WORKERS: "2" });
  const recA = recordEvents(a);
  const recB = recordEvents(b);
  const wsA = new PcmClient(wsUrl(a.url, "/v1/legs/websocket?room_id=ra&sample_rate=16000"), {
    rate: 16000,
    toneHz: 700,
  });
  let wsB: PcmClient | undefined;
  let wsC: PcmClient | undefined;
  try {
    await wsA.opened;
    await waitFor(() => a.ctx.media.roomWorkerIndex("ra") !== undefined, 5000, "room ra");
    const { out, inb } = await connect(a, b, recA, recB, { codecs: ["PCMU"], room_id: "ra" });
    // B's SIP leg took the first worker; a WebSocket leg now starts the second one with room rb.
    wsB = new PcmClient(wsUrl(b.url, "/v1/legs/websocket?room_id=rb&sample_rate=16000"), {
      rate: 16000,
      toneHz: 1100,
    });
    await wsB.opened;
    await waitFor(() => b.ctx.media.roomWorkerIndex("rb") !== undefined, 5000, "room rb");
    assert.equal(b.ctx.media.workerCount, 2);
    const added = await call(b.url, "POST", "/v1/rooms/rb/legs", { leg_id: inb });
    assert.equal(added.status, 200, added.text);
    assert.equal(b.ctx.media.crossingCount, 1, "the SIP leg is mixed on the other worker");

    wsA.startSending();
    wsB.startSending();
    const bClient = wsB;
    await waitFor(
      () => wsA.received.length >= 100 && bClient.received.length >= 100,
      15_000,
      "audio both ways",
    );
    assert.ok(toneRatio(await hears(wsA, 25, "A"), 16000, 1100) > 0.3, "A hears B's room");
    assert.ok(toneRatio(await hears(bClient, 25, "B"), 16000, 700) > 0.3, "B's room hears A");

    // Back to a room on the socket's own worker: the crossing stops and audio keeps flowing.
    const moved = await call(b.url, "DELETE", `/v1/rooms/rb/legs/${inb}`);
    assert.equal(moved.status, 200, moved.text);
    const home = await call(b.url, "POST", "/v1/rooms/rc/legs", { leg_id: inb });
    assert.equal(home.status, 200, home.text);
    assert.equal(b.ctx.media.crossingCount, 0, "rc was created next to the leg's socket");
    wsC = new PcmClient(wsUrl(b.url, "/v1/legs/websocket?room_id=rc&sample_rate=16000"), {
      rate: 16000,
      toneHz: 1500,
    });
    await wsC.opened;
    wsC.startSending();
    const cClient = wsC;
    await waitFor(() => cClient.received.length >= 50, 10_000, "audio in rc");
    assert.ok(toneRatio(await hears(wsA, 25, "A again"), 16000, 1500) > 0.3, "A hears rc");
    assert.ok(toneRatio(await hears(cClient, 25, "C"), 16000, 700) > 0.3, "rc hears A");

    const del = await call(b.url, "DELETE", `/v1/legs/${inb}`);
    assert.equal(del.status, 202);
    const end = await waitEvent(recB, "leg.disconnected", inb);
    assert.ok(end.quality?.rtp_packets_received > 0, JSON.stringify(end));
    await waitEvent(recA, "leg.disconnected", out);
  } finally {
    recA.stop();
    recB.stop();
    await wsA.close();
    await wsB?.close();
    await wsC?.close();
    await a.shutdown();
    await b.shutdown();
  }
});
