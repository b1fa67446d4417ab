/**
 * SIP legs end to end: two in-process servers, A dialling B over UDP on loopback, the app on B
 * answering over REST, audio checked by tone content through both servers' mixers.
 */
import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { toneRatio } from "../../src/media/goertzel.ts";
import type { RunningServer } from "../../src/server.ts";
import type { PublishedEvent } from "../../src/events/event.ts";

let nextRange = 34000;

/** Starts a server with its own RTP range, one media worker and the three SIP codecs. */
function server(env: Record<string, string> = {}): Promise<RunningServer> {
  const min = nextRange;
  nextRange += 400;
  return startTestServer({
    MEDIA_WORKERS: "1",
    SIP_CODECS: "PCMU,PCMA,G722",
    RTP_PORT_MIN: String(min),
    RTP_PORT_MAX: String(min + 399),
    ...env,
  });
}

function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

type Rec = { events: PublishedEvent[]; stop: () => void };

// deno-lint-ignore no-explicit-any
function find(rec: Rec, type: string, legId?: string): any {
  return rec.events.find((e) =>
    e.type === type && (legId === undefined || e.envelope.leg_id === legId)
  )?.envelope;
}

async function waitEvent(rec: Rec, type: string, legId?: string, ms = 10_000) {
  await waitFor(() => find(rec, type, legId) !== undefined, ms, `${type} ${legId ?? ""}`);
  return find(rec, type, legId);
}

/** A dials B; B's app answers. Returns both leg ids once both sides are connected. */
async function connect(
  a: RunningServer,
  b: RunningServer,
  recA: Rec,
  recB: Rec,
  body: Record<string, unknown>,
): Promise<{ out: string; inb: string }> {
  const created = await call(a.url, "POST", "/v1/legs", {
    type: "sip",
    to: `sip:bob@127.0.0.1:${b.sipPort}`,
    ...body,
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.type, "sip_outbound");
  assert.equal(created.json.state, "ringing");
  const ringing = await waitEvent(recB, "leg.ringing");
  const inb = ringing.leg_id as string;
  const answered = await call(b.url, "POST", `/v1/legs/${inb}/answer`);
  assert.equal(answered.status, 202, answered.text);
  assert.equal(answered.json.status, "answering");
  await waitEvent(recA, "leg.connected", created.json.id);
  await waitEvent(recB, "leg.connected", inb);
  return { out: created.json.id, inb };
}

/** The `leg.ringing` of the first SIP inbound leg. */
function inbound(rec: Rec): { leg_id: string } | undefined {
  return rec.events.find((e) => e.type === "leg.ringing" && e.envelope.leg_type === "sip_inbound")
    ?.envelope as { leg_id: string } | undefined;
}

for (const codec of ["PCMU", "PCMA", "G722"]) {
  Deno.test(`a SIP call between two servers carries audio both ways in ${codec} and ends with a BYE`, async () => {
    const a = await server();
    const b = await server();
    const recA = recordEvents(a);
    const recB = recordEvents(b);
    const wsA = new PcmClient(wsUrl(a.url, "/v1/legs/websocket?room_id=ra&sample_rate=16000"), {
      rate: 16000,
      toneHz: 700,
    });
    let wsB: PcmClient | undefined;
    try {
      await wsA.opened;
      await waitFor(() => a.ctx.media.roomWorkerIndex("ra") !== undefined, 5000, "room ra");
      const { out, inb } = await connect(a, b, recA, recB, { codecs: [codec], room_id: "ra" });
      const ringing = find(recB, "leg.ringing", inb);
      assert.equal(ringing.leg_type, "sip_inbound");
      assert.equal(ringing.from, "voiceblender");
      assert.equal(ringing.to, "bob");
      assert.deepEqual(ringing.offered_codecs.map((c: { name: string }) => c.name), [codec]);
      assert.equal(ringing.offered_codecs[0].priority, 1);
      assert.match(ringing.source_address, /^127\.0\.0\.1:\d+$/);

      const added = await call(b.url, "POST", "/v1/rooms/rb/legs", { leg_id: inb });
      assert.equal(added.status, 200, added.text);
      wsB = new PcmClient(wsUrl(b.url, "/v1/legs/websocket?room_id=rb&sample_rate=16000"), {
        rate: 16000,
        toneHz: 1100,
      });
      await wsB.opened;
      wsA.startSending();
      wsB.startSending();
      const bClient = wsB;
      await waitFor(
        () => wsA.received.length >= 100 && bClient.received.length >= 100,
        15_000,
        "audio both ways",
      );
      const mark = [wsA.received.length, bClient.received.length];
      await waitFor(
        () => wsA.received.length >= mark[0] + 25 && bClient.received.length >= mark[1] + 25,
        5000,
        "more audio",
      );
      assert.ok(toneRatio(wsA.tail(400), 16000, 1100) > 0.3, "A's WebSocket leg hears B's");
      assert.ok(toneRatio(bClient.tail(400), 16000, 700) > 0.3, "B's WebSocket leg hears A's");

      const del = await call(a.url, "DELETE", `/v1/legs/${out}`);
      assert.equal(del.status, 202);
      const endA = await waitEvent(recA, "leg.disconnected", out);
      const endB = await waitEvent(recB, "leg.disconnected", inb);
      assert.equal(endA.cdr.reason, "api_hangup");
      assert.equal(endB.cdr.reason, "remote_bye");
      assert.ok(endA.quality?.rtp_packets_received > 0, JSON.stringify(endA));
      assert.ok(endB.quality?.rtp_packets_received > 0, JSON.stringify(endB));
    } finally {
      recA.stop();
      recB.stop();
      await wsA.close();
      await wsB?.close();
      await a.shutdown();
      await b.shutdown();
    }
  });
}

Deno.test("a SIP call rejected with reason busy ends the caller's leg with busy", async () => {
  const a = await server();
  const b = await server();
  const recA = recordEvents(a);
  const recB = recordEvents(b);
  try {
    const created = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      to: `sip:bob@127.0.0.1:${b.sipPort}`,
    });
    assert.equal(created.status, 201);
    const ringing = await waitEvent(recB, "leg.ringing");
    const rejected = await call(b.url, "DELETE", `/v1/legs/${ringing.leg_id}`, { reason: "busy" });
    assert.equal(rejected.status, 202);
    const end = await waitEvent(recA, "leg.disconnected", created.json.id);
    assert.equal(end.cdr.reason, "busy");
    assert.equal((await waitEvent(recB, "leg.disconnected", ringing.leg_id)).cdr.reason, "busy");
  } finally {
    recA.stop();
    recB.stop();
    await a.shutdown();
    await b.shutdown();
  }
});

Deno.test("a SIP call with no codec in common fails with not_acceptable", async () => {
  const a = await server();
  const b = await server({ SIP_CODECS: "PCMU" });
  const recA = recordEvents(a);
  const recB = recordEvents(b);
  try {
    const created = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      to: `sip:bob@127.0.0.1:${b.sipPort}`,
      codecs: ["PCMA"],
    });
    assert.equal(created.status, 201);
    const end = await waitEvent(recA, "leg.disconnected", created.json.id);
    assert.equal(end.cdr.reason, "not_acceptable");
    assert.equal(find(recB, "leg.ringing"), undefined, "B never saw the call");
  } finally {
    recA.stop();
    recB.stop();
    await a.shutdown();
    await b.shutdown();
  }
});

Deno.test("a SIP call to a port where nothing listens fails with timeout", async () => {
  const a = await startTestServer(
    { MEDIA_WORKERS: "1", RTP_PORT_MIN: "35600", RTP_PORT_MAX: "35699" },
    { sip: { timers: { t1: 20, t2: 80, t4: 100 } } },
  );
  const rec = recordEvents(a);
  const idle = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (idle.addr as Deno.NetAddr).port;
  idle.close();
  try {
    const created = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      to: `sip:nobody@127.0.0.1:${port}`,
    });
    assert.equal(created.status, 201);
    const end = await waitEvent(rec, "leg.disconnected", created.json.id);
    assert.ok(["timeout", "invite_failed"].includes(end.cdr.reason), end.cdr.reason);
  } finally {
    rec.stop();
    await a.shutdown();
  }
});

Deno.test("SIP leg requests are validated: to, codecs, answer on a non-SIP leg, answer twice", async () => {
  const a = await server();
  const b = await server();
  const recA = recordEvents(a);
  const recB = recordEvents(b);
  const ws = new PcmClient(wsUrl(b.url, "/v1/legs/websocket"), { rate: 16000, toneHz: 500 });
  try {
    let r = await call(a.url, "POST", "/v1/legs", { type: "sip" });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "invalid to: required for sip legs");
    r = await call(a.url, "POST", "/v1/legs", { type: "sip", to: "http://example.com" });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "invalid to: must be a sip: or sips: URI");
    r = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      to: "sip:x@127.0.0.1",
      codecs: ["GSM"],
    });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "invalid codec: GSM (supported: PCMU, PCMA, G722)");
    assert.equal(a.ctx.legs.size, 0, "nothing was created");

    r = await call(b.url, "POST", "/v1/legs/nope/answer");
    assert.equal(r.status, 404);
    await ws.opened;
    const wsLeg = await waitEvent(recB, "leg.connected");
    r = await call(b.url, "POST", `/v1/legs/${wsLeg.leg_id}/answer`);
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "leg is not a SIP inbound leg");

    const created = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      uri: `sip:bob@127.0.0.1:${b.sipPort}`,
      codecs: ["PCMU"],
    });
    assert.equal(created.status, 201);
    await waitFor(() => inbound(recB) !== undefined, 10_000, "inbound leg.ringing");
    const inb = inbound(recB)!;
    r = await call(b.url, "POST", `/v1/legs/${inb.leg_id}/answer`, { codec: "PCMA" });
    assert.equal(r.status, 400, "a codec that was not offered");
    r = await call(b.url, "POST", `/v1/legs/${inb.leg_id}/ring`);
    assert.equal(r.status, 202);
    assert.equal(r.json.status, "ringing");
    r = await call(b.url, "POST", `/v1/legs/${inb.leg_id}/answer`, { codec: "PCMU" });
    assert.equal(r.status, 202);
    r = await call(b.url, "POST", `/v1/legs/${inb.leg_id}/answer`);
    assert.equal(r.status, 409);
    await waitEvent(recA, "leg.connected", created.json.id);
  } finally {
    recA.stop();
    recB.stop();
    await ws.close();
    await a.shutdown();
    await b.shutdown();
  }
});
