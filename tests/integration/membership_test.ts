import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";

function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

Deno.test("POST /v1/rooms/{id}/legs adds, auto-creates, moves; DELETE removes; errors are 400", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "2" });
  const rec = recordEvents(srv);
  const c = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?app_id=t1"), { rate: 16000 });
  try {
    await c.opened;
    await waitFor(() => c.texts.length > 0, 3000, "connected");
    const legId = (c.texts[0] as { leg_id: string }).leg_id;
    const add = await call(srv.url, "POST", "/v1/rooms/auto-room/legs", {
      leg_id: legId,
      role: "agent",
    });
    assert.equal(add.status, 200);
    assert.deepEqual(add.json, { instance_id: srv.ctx.config.instanceId, status: "added" });
    const room = await call(srv.url, "GET", "/v1/rooms/auto-room");
    assert.equal(room.json.app_id, "t1", "auto-created room inherits the leg's app_id");
    assert.equal(room.json.participants[0].role, "agent");
    const again = await call(srv.url, "POST", "/v1/rooms/auto-room/legs", { leg_id: legId });
    assert.equal(again.status, 400);
    assert.equal(again.json.error, "leg is already in room auto-room");
    await call(srv.url, "POST", "/v1/rooms", { id: "other", sample_rate: 48000 });
    const move = await call(srv.url, "POST", "/v1/rooms/other/legs", { leg_id: legId, mute: true });
    assert.deepEqual([move.json.status, move.json.from, move.json.to], [
      "moved",
      "auto-room",
      "other",
    ]);
    assert.equal((await call(srv.url, "GET", `/v1/legs/${legId}`)).json.muted, true);
    assert.equal((await call(srv.url, "GET", "/v1/rooms/auto-room")).json.participants.length, 0);
    const unknownLeg = await call(srv.url, "POST", "/v1/rooms/other/legs", { leg_id: "nope" });
    assert.equal(unknownLeg.status, 400);
    assert.equal(unknownLeg.json.error, "leg not found");
    const noBody = await call(srv.url, "POST", "/v1/rooms/other/legs");
    assert.equal(noBody.status, 400);
    const wrongRoom = await call(srv.url, "DELETE", `/v1/rooms/auto-room/legs/${legId}`);
    assert.equal(wrongRoom.json.error, "leg is not in room auto-room");
    assert.equal(
      (await call(srv.url, "DELETE", `/v1/rooms/ghost/legs/${legId}`)).json.error,
      "room not found",
    );
    const removed = await call(srv.url, "DELETE", `/v1/rooms/other/legs/${legId}`);
    assert.equal(removed.status, 200);
    assert.equal(removed.json.status, "removed");
    const seq = rec.events.filter((e) => e.type.startsWith("leg.") && e.type.endsWith("_room"))
      .map((e) => `${e.type}:${e.envelope.room_id}`);
    assert.deepEqual(seq, [
      "leg.joined_room:auto-room",
      "leg.left_room:auto-room",
      "leg.joined_room:other",
      "leg.left_room:other",
    ]);
    assert.equal((await call(srv.url, "POST", "/v1/legs/nope/mute")).status, 404);
  } finally {
    await c.close();
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("VSI-style payload keys work through the shared operation (add_leg_to_room)", async () => {
  const srv = await startTestServer();
  try {
    const { runCommand } = await import("../../src/ops/commands.ts");
    await assert.rejects(
      () => runCommand(srv.ctx, "add_leg_to_room", { room_id: "r", leg_id: "missing" }),
      (e: Error & { status?: number }) => e.status === 400 && e.message === "leg not found",
    );
    await assert.rejects(
      () => runCommand(srv.ctx, "add_leg_to_room", { room_id: "bad room", leg_id: "x" }),
      (e: Error & { status?: number }) =>
        e.status === 400 && e.message.startsWith("invalid payload: invalid room_id"),
    );
  } finally {
    await srv.shutdown();
  }
});
