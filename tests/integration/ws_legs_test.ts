import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { PcmClient, sleep, waitFor } from "../helpers/pcm_client.ts";
import { toneRatio } from "../../src/media/goertzel.ts";

function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

const UPGRADE = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

Deno.test("GET /v1/legs/websocket rejects bad query parameters with 400 JSON before upgrading", async () => {
  const srv = await startTestServer();
  try {
    const cases: [string, string][] = [
      ["sample_rate=11025", "invalid sample_rate: must be 8000, 16000, 24000 or 48000"],
      ["wire_format=xml", "invalid wire_format: must be binary or json_base64"],
      ["sample_format=f32le", "invalid sample_format: must be s16le"],
      [
        "room_id=a%20b",
        "invalid room_id: must be 1-128 characters without whitespace, '/', '?', '#', '%' or '\\'",
      ],
      ["rtt=maybe", "invalid rtt: must be true or false"],
      ["webhook_url=ftp://x", "invalid webhook_url: must be an absolute http:// or https:// URL"],
    ];
    for (const [q, message] of cases) {
      const r = await call(srv.url, "GET", `/v1/legs/websocket?${q}`, undefined, UPGRADE);
      assert.equal(r.status, 400, q);
      assert.equal(r.json.error, message, q);
    }
    const plain = await call(srv.url, "GET", "/v1/legs/websocket");
    assert.equal(plain.status, 400);
    assert.equal(plain.json.error, "expected a WebSocket upgrade request");
    assert.deepEqual((await call(srv.url, "GET", "/v1/legs")).json, []);
  } finally {
    await srv.shutdown();
  }
});

Deno.test("an inbound WebSocket leg sends connected, captures X-/P- headers, publishes ringing then connected", async () => {
  const srv = await startTestServer();
  const rec = recordEvents(srv);
  const c = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?app_id=acme&sample_rate=8000"), {
    rate: 8000,
    headers: { "X-Customer": "42", "P-Asserted-Identity": "<sip:a@b>", "Other": "no" },
  });
  try {
    await c.opened;
    await waitFor(
      () => c.texts.length > 0 && rec.events.some((e) => e.type === "leg.connected"),
      3000,
      "connected",
    );
    const hello = c.texts[0] as Record<string, unknown>;
    assert.equal(hello.type, "connected");
    assert.equal(hello.participant_id, hello.leg_id);
    assert.equal(hello.sample_rate, 8000);
    const types = rec.events.map((e) => e.type);
    assert.deepEqual(types.slice(0, 2), ["leg.ringing", "leg.connected"]);
    const ringing = rec.events[0].envelope;
    assert.equal(ringing.leg_type, "websocket_in");
    assert.equal(ringing.app_id, "acme");
    const leg = await call(srv.url, "GET", `/v1/legs/${hello.leg_id}`);
    assert.equal(leg.json.type, "websocket_in");
    assert.equal(leg.json.state, "connected");
    assert.deepEqual(leg.json.headers, { "X-Customer": "42", "P-Asserted-Identity": "<sip:a@b>" });
    // A leg outside any room still receives one 20 ms frame per tick.
    await waitFor(() => c.received.length >= 5, 15_000, "frames");
    assert.equal(c.received[0].length, 160);
  } finally {
    await c.close();
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("a peer hangup frame ends the leg with reason hangup; a server DELETE just closes the socket", async () => {
  const srv = await startTestServer();
  const rec = recordEvents(srv);
  const a = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket"), { rate: 16000 });
  const b = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket"), { rate: 16000 });
  try {
    await Promise.all([a.opened, b.opened]);
    await waitFor(() => a.texts.length > 0 && b.texts.length > 0, 3000, "connected frames");
    a.ws.send(JSON.stringify({ type: "hangup" }));
    await a.closed;
    const bLeg = (b.texts[0] as { leg_id: string }).leg_id;
    assert.equal((await call(srv.url, "DELETE", `/v1/legs/${bLeg}`)).status, 202);
    const closeEv = await b.closed;
    assert.equal(closeEv.code, 1000);
    assert.equal(
      b.texts.filter((t) =>
        (t as { type: string }).type !== "connected" && (t as { type: string }).type !== "ping"
      ).length,
      0,
      "no JSON frame on server hangup",
    );
    await waitFor(
      () => rec.events.filter((e) => e.type === "leg.disconnected").length === 2,
      3000,
      "disconnects",
    );
    const reasons = rec.events.filter((e) => e.type === "leg.disconnected").map((e) =>
      (e.envelope.cdr as { reason: string }).reason
    );
    assert.deepEqual(reasons, ["hangup", "api_hangup"]);
  } finally {
    await a.close();
    await b.close();
    rec.stop();
    await srv.shutdown();
  }
});

Deno.test("malformed, odd-length and oversized frames are dropped without disturbing the call or others", async () => {
  const srv = await startTestServer({ MEDIA_WORKERS: "1" });
  const good = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=robust"), {
    rate: 16000,
    toneHz: 600,
  });
  const bad = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=robust"), {
    rate: 16000,
    toneHz: 1100,
  });
  try {
    await Promise.all([good.opened, bad.opened]);
    good.startSending();
    bad.startSending();
    await waitFor(() => good.received.length >= 10 && bad.received.length >= 10, 15_000, "audio");
    bad.ws.send(new Uint8Array(641)); // odd length
    bad.ws.send("{not json");
    bad.ws.send(JSON.stringify({ type: "audio", audio: "!!!not base64!!!" })); // JSON audio in binary mode
    bad.ws.send(JSON.stringify({ type: "whatever" }));
    bad.ws.send("x".repeat(300 * 1024)); // oversized text
    bad.ws.send(JSON.stringify([1, 2, 3]));
    await sleep(300);
    const mark = good.received.length;
    await waitFor(() => good.received.length >= mark + 30, 5000, "audio after garbage");
    assert.ok(toneRatio(good.tail(400), 16000, 1100) > 0.3, "the bad client is still heard");
    assert.ok(toneRatio(bad.tail(400), 16000, 600) > 0.3, "the bad client still hears");
    assert.equal((await call(srv.url, "GET", "/v1/legs")).json.length, 2);
  } finally {
    await good.close();
    await bad.close();
    await srv.shutdown();
  }
});

Deno.test("an outbound WebSocket leg dials with headers, connects, joins its room and carries audio", async () => {
  const got: { xCall?: string | null; frames: number } = { frames: 0 };
  const peer = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    got.xCall = req.headers.get("x-call"); // read before the upgrade closes the request
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    let phase = 0;
    const timer = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      const f = new Int16Array(160);
      for (let i = 0; i < 160; i++) {
        f[i] = Math.round(8000 * Math.sin(phase += (2 * Math.PI * 400) / 8000));
      }
      socket.send(f);
    }, 20);
    socket.onmessage = () => got.frames++;
    socket.onclose = () => clearInterval(timer);
    return response;
  });
  const srv = await startTestServer({ MEDIA_WORKERS: "1" });
  const rec = recordEvents(srv);
  const listener = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=out"), { rate: 16000 });
  try {
    await listener.opened;
    const r = await call(srv.url, "POST", "/v1/legs", {
      type: "websocket",
      url: `ws://127.0.0.1:${peer.addr.port}/bot`,
      sample_rate: 8000,
      room_id: "out",
      headers: { "X-Call": "7" },
      app_id: "dialer",
    });
    assert.equal(r.status, 201);
    assert.equal(r.json.type, "websocket_out");
    assert.equal(r.json.state, "ringing");
    await waitFor(
      () => rec.events.some((e) => e.type === "leg.connected" && e.envelope.leg_id === r.json.id),
      5000,
      "dial",
    );
    assert.equal(got.xCall, "7");
    await waitFor(
      () => listener.received.length >= 60 && got.frames >= 20,
      15_000,
      "audio both ways",
    );
    assert.ok(toneRatio(listener.tail(400), 16000, 400) > 0.3, "room hears the dialled bot");
    assert.equal((await call(srv.url, "GET", `/v1/legs/${r.json.id}`)).json.room_id, "out");
  } finally {
    await listener.close();
    rec.stop();
    await srv.shutdown();
    await peer.shutdown();
  }
});

Deno.test("an outbound WebSocket dial failure ends the leg with a reason from the HTTP status", async () => {
  const peer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("no", { status: 404 }),
  );
  const srv = await startTestServer();
  const rec = recordEvents(srv);
  try {
    const bad = await call(srv.url, "POST", "/v1/legs", { type: "websocket", url: "http://x" });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, "invalid url: must be a ws:// or wss:// URL");
    assert.equal(
      (await call(srv.url, "POST", "/v1/legs", { type: "fax" })).json.error,
      "unsupported leg type: fax",
    );
    assert.equal((await call(srv.url, "POST", "/v1/legs", { type: "websocket" })).status, 400);
    const r = await call(srv.url, "POST", "/v1/legs", {
      type: "websocket",
      url: `ws://127.0.0.1:${peer.addr.port}/`,
    });
    assert.equal(r.status, 201);
    await waitFor(() => rec.events.some((e) => e.type === "leg.disconnected"), 5000, "failure");
    const d = rec.events.find((e) => e.type === "leg.disconnected")!.envelope;
    assert.equal((d.cdr as { reason: string }).reason, "not_found");
    assert.equal((await call(srv.url, "GET", `/v1/legs/${r.json.id}`)).status, 404);
  } finally {
    rec.stop();
    await srv.shutdown();
    await peer.shutdown();
  }
});
