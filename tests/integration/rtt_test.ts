import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { PcmClient, sleep, waitFor } from "../helpers/pcm_client.ts";

function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

function texts(c: PcmClient): string[] {
  return c.texts.filter((t) => (t as { type: string }).type === "text").map((t) =>
    (t as { text: string }).text
  );
}

Deno.test("WebSocket text frames become rtt.received and reach the room's other RTT legs; POST /rtt sends", async () => {
  const srv = await startTestServer();
  const rec = recordEvents(srv);
  const a = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=chat&rtt=true"), {
    rate: 16000,
  });
  const b = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=chat&rtt=true"), {
    rate: 16000,
  });
  const noRtt = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=chat"), { rate: 16000 });
  try {
    await Promise.all([a.opened, b.opened, noRtt.opened]);
    await waitFor(
      () => rec.events.filter((e) => e.type === "leg.joined_room").length === 3,
      3000,
      "joins",
    );
    const idOf = (c: PcmClient) => (c.texts[0] as { leg_id: string }).leg_id;
    a.ws.send(JSON.stringify({ type: "text", text: "hello" }));
    a.ws.send(JSON.stringify({ type: "text", text: " world" }));
    await waitFor(() => texts(b).length === 2, 3000, "text at b");
    assert.deepEqual(texts(b), ["hello", " world"]);
    const got = rec.events.filter((e) => e.type === "rtt.received").map((e) => e.envelope);
    assert.deepEqual(got.map((e) => [e.leg_id, e.text, e.seq, e.loss_marker, e.room_id]), [
      [idOf(a), "hello", 1, false, "chat"],
      [idOf(a), " world", 2, false, "chat"],
    ]);
    assert.equal(texts(noRtt).length, 0, "a leg without RTT gets no text");

    const sent = await call(srv.url, "POST", `/v1/legs/${idOf(b)}/rtt`, { text: "from api" });
    assert.equal(sent.status, 200);
    assert.equal(sent.json.status, "sent");
    await waitFor(() => texts(b).includes("from api"), 3000, "api text");

    assert.equal(
      (await call(srv.url, "POST", `/v1/legs/${idOf(b)}/rtt/reject`)).json.status,
      "rtt_rejecting",
    );
    a.ws.send(JSON.stringify({ type: "text", text: "ignored" }));
    await sleep(200);
    assert.equal(texts(b).includes("ignored"), false, "a rejecting leg gets no room text");
    assert.equal(
      (await call(srv.url, "POST", `/v1/legs/${idOf(b)}/rtt/accept`)).json.status,
      "rtt_accepting",
    );

    const off = await call(srv.url, "POST", `/v1/legs/${idOf(noRtt)}/rtt`, { text: "x" });
    assert.equal(off.status, 409);
    assert.equal(off.json.error, "RTT is not enabled on this leg");
    const empty = await call(srv.url, "POST", `/v1/legs/${idOf(a)}/rtt`, { text: "" });
    assert.equal(empty.status, 400);
    assert.equal(empty.json.error, "invalid text: must not be empty");
    assert.equal((await call(srv.url, "POST", "/v1/legs/nope/rtt", { text: "x" })).status, 404);
    assert.equal((await call(srv.url, "POST", `/v1/legs/${idOf(a)}/rtt`)).status, 400);
  } finally {
    for (const c of [a, b, noRtt]) await c.close();
    rec.stop();
    await srv.shutdown();
  }
});
