/**
 * A SIP leg's RTP socket lives in the media worker that opened it; when the leg joins a room mixed
 * on another worker, its frames cross between the two workers through shared rings. Audio is
 * checked by tone content both ways, before and after the leg moves back to a room on its own
 * worker.
 */
import assert from "node:assert/strict";
import { call } from "../helpers/server.ts";
import {
  connect,
  hearEachOther,
  openInRoom,
  serverFactory,
  waitEvent,
  withPair,
} from "../helpers/sip_pair.ts";

const server = serverFactory(42000);

Deno.test("a SIP leg joins a room mixed on another media worker and hears and is heard there", () =>
  withPair(server, { b: { MEDIA_WORKERS: "2" } }, async (p) => {
    const { a, b, recA, recB } = p;
    const wsA = p.peer(a, "ra", 700);
    await openInRoom(a, wsA, "ra");
    const { out, inb } = await connect(a, b, recA, recB, { codecs: ["PCMU"], room_id: "ra" });
    // B's SIP leg took the first worker; a WebSocket leg now starts the second one with room rb.
    const wsB = p.peer(b, "rb", 1100);
    await openInRoom(b, wsB, "rb");
    assert.equal(b.ctx.media.workerCount, 2);
    const added = await call(b.url, "POST", "/v1/rooms/rb/legs", { leg_id: inb });
    assert.equal(added.status, 200, added.text);
    assert.equal(b.ctx.media.crossingCount, 1, "the SIP leg is mixed on the other worker");

    wsA.startSending();
    wsB.startSending();
    await hearEachOther(wsA, wsB, {
      moreMs: 10_000,
      aHears: "A hears B's room",
      bHears: "B's room hears A",
    });

    // Back to a room on the socket's own worker: the crossing stops and audio keeps flowing.
    const moved = await call(b.url, "DELETE", `/v1/rooms/rb/legs/${inb}`);
    assert.equal(moved.status, 200, moved.text);
    const home = await call(b.url, "POST", "/v1/rooms/rc/legs", { leg_id: inb });
    assert.equal(home.status, 200, home.text);
    assert.equal(b.ctx.media.crossingCount, 0, "rc was created next to the leg's socket");
    const wsC = p.peer(b, "rc", 1500);
    await wsC.opened;
    wsC.startSending();
    await hearEachOther(wsA, wsC, {
      frames: 50,
      firstMs: 10_000,
      moreMs: 10_000,
      what: "audio in rc",
      aHears: "A hears rc",
      bHears: "rc hears A",
    });

    const del = await call(b.url, "DELETE", `/v1/legs/${inb}`);
    assert.equal(del.status, 202);
    const end = await waitEvent(recB, "leg.disconnected", inb);
    assert.ok(end.quality?.rtp_packets_received > 0, JSON.stringify(end));
    await waitEvent(recA, "leg.disconnected", out);
  }));
