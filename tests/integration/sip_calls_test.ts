/**
 * SIP legs end to end: two in-process servers, A dialling B over UDP on loopback, the app on B
 * answering over REST, audio checked by tone content through both servers' mixers.
 */
import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { connect, find, inbound, serverFactory, waitEvent, wsUrl } from "../helpers/sip_pair.ts";
import { toneRatio } from "../../src/media/goertzel.ts";

const server = serverFactory(34000);

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

Deno.test("DTMF sent on A's SIP leg arrives on B's leg as dtmf.received in order", async () => {
  const a = await server();
  const b = await server();
  const recA = recordEvents(a);
  const recB = recordEvents(b);
  const ws = new PcmClient(wsUrl(a.url, "/v1/legs/websocket"), { rate: 16000, toneHz: 500 });
  try {
    const { out, inb } = await connect(a, b, recA, recB, { codecs: ["PCMU"] });
    let r = await call(a.url, "POST", `/v1/legs/${out}/dtmf`, { digits: "12#" });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, "sent");
    await waitFor(
      () => recB.events.filter((e) => e.type === "dtmf.received").length >= 3,
      10_000,
      "three digits",
    );
    const got = recB.events.filter((e) => e.type === "dtmf.received").map((e) => e.envelope);
    assert.deepEqual(got.map((e) => e.digit), ["1", "2", "#"]);
    assert.deepEqual(got.map((e) => e.seq), [1, 2, 3]);
    assert.ok(got.every((e) => e.leg_id === inb));

    r = await call(a.url, "POST", `/v1/legs/${out}/dtmf`, { digits: "" });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "invalid digits: must not be empty");
    r = await call(a.url, "POST", `/v1/legs/${out}/dtmf`, { digits: "12a" });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "invalid digits: only 0-9, * and # are allowed");
    r = await call(a.url, "POST", `/v1/legs/nope/dtmf`, { digits: "1" });
    assert.equal(r.status, 404);
    await ws.opened;
    const wsLegOf = () =>
      recA.events.find((e) => e.type === "leg.connected" && e.envelope.leg_type === "websocket_in")
        ?.envelope.leg_id;
    await waitFor(() => wsLegOf() !== undefined, 5000, "ws leg");
    const wsId = wsLegOf();
    r = await call(a.url, "POST", `/v1/legs/${wsId}/dtmf`, { digits: "1" });
    assert.equal(r.status, 500);
    assert.equal(r.json.error, "DTMF is not supported on websocket_in legs");

    r = await call(b.url, "POST", `/v1/legs/${inb}/dtmf/reject`);
    assert.deepEqual([r.status, r.json.status], [200, "dtmf_rejecting"]);
    assert.equal((await call(b.url, "GET", `/v1/legs/${inb}`)).json.accept_dtmf, false);
    r = await call(b.url, "POST", `/v1/legs/${inb}/dtmf/accept`);
    assert.deepEqual([r.status, r.json.status], [200, "dtmf_accepting"]);
    assert.equal((await call(b.url, "GET", `/v1/legs/${inb}`)).json.accept_dtmf, true);
  } finally {
    recA.stop();
    recB.stop();
    await ws.close();
    await a.shutdown();
    await b.shutdown();
  }
});

Deno.test("hold and unhold by re-INVITE: both sides see held, unhold restores audio", async () => {
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
    const wsLeg = (await waitEvent(recA, "leg.connected")).leg_id as string;
    let r = await call(a.url, "POST", `/v1/legs/${wsLeg}/hold`);
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "leg is not a SIP leg");
    r = await call(a.url, "POST", `/v1/legs/nope/hold`);
    assert.equal(r.status, 404);
    assert.equal(r.json.error, "leg not found");

    const created = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      to: `sip:bob@127.0.0.1:${b.sipPort}`,
      codecs: ["PCMU"],
      room_id: "ra",
    });
    r = await call(a.url, "POST", `/v1/legs/${created.json.id}/hold`);
    assert.equal(r.status, 409);
    assert.equal(r.json.error, "leg is not connected (state ringing)");
    const inb = (await waitEvent(recB, "leg.ringing")).leg_id as string;
    assert.equal((await call(b.url, "POST", `/v1/legs/${inb}/answer`)).status, 202);
    const out = created.json.id as string;
    await waitEvent(recA, "leg.connected", out);
    await waitEvent(recB, "leg.connected", inb);
    assert.equal((await call(b.url, "POST", "/v1/rooms/rb/legs", { leg_id: inb })).status, 200);
    wsB = new PcmClient(wsUrl(b.url, "/v1/legs/websocket?room_id=rb&sample_rate=16000"), {
      rate: 16000,
      toneHz: 1100,
    });
    await wsB.opened;
    wsA.startSending();
    wsB.startSending();

    r = await call(a.url, "POST", `/v1/legs/${out}/hold`);
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.status, "holding");
    await waitEvent(recA, "leg.hold", out);
    await waitEvent(recB, "leg.hold", inb);
    let v = (await call(a.url, "GET", `/v1/legs/${out}`)).json;
    assert.equal(v.state, "held");
    assert.equal(v.held, true);
    v = (await call(b.url, "GET", `/v1/legs/${inb}`)).json;
    assert.equal(v.held, true);
    assert.equal(v.state, "held");

    r = await call(a.url, "DELETE", `/v1/legs/${out}/hold`);
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.status, "unholding");
    await waitEvent(recA, "leg.unhold", out);
    await waitEvent(recB, "leg.unhold", inb);
    v = (await call(a.url, "GET", `/v1/legs/${out}`)).json;
    assert.equal(v.state, "connected");
    assert.equal(v.held, false);
    assert.equal((await call(b.url, "GET", `/v1/legs/${inb}`)).json.held, false);

    const bClient = wsB;
    const mark = [wsA.received.length, bClient.received.length];
    await waitFor(
      () => wsA.received.length >= mark[0] + 60 && bClient.received.length >= mark[1] + 60,
      10_000,
      "audio after unhold",
    );
    assert.ok(toneRatio(wsA.tail(400), 16000, 1100) > 0.3, "A hears B after unhold");
    assert.ok(toneRatio(bClient.tail(400), 16000, 700) > 0.3, "B hears A after unhold");
  } finally {
    recA.stop();
    recB.stop();
    await wsA.close();
    await wsB?.close();
    await a.shutdown();
    await b.shutdown();
  }
});

Deno.test("early media: B's 183 opens media, A joins its room and hears B's ringback before the answer", async () => {
  const a = await server();
  const b = await server();
  const recA = recordEvents(a);
  const recB = recordEvents(b);
  const wsA = new PcmClient(wsUrl(a.url, "/v1/legs/websocket?room_id=ra&sample_rate=16000"), {
    rate: 16000,
    toneHz: 700,
  });
  try {
    await wsA.opened;
    await waitFor(() => a.ctx.media.roomWorkerIndex("ra") !== undefined, 5000, "room ra");
    let r = await call(b.url, "POST", "/v1/legs/nope/early-media");
    assert.equal(r.status, 404);
    const created = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      to: `sip:bob@127.0.0.1:${b.sipPort}`,
      codecs: ["PCMU", "PCMA"],
      room_id: "ra",
    });
    const out = created.json.id as string;
    const inb = (await waitEvent(recB, "leg.ringing")).leg_id as string;
    r = await call(b.url, "POST", `/v1/legs/${inb}/early-media`, { codec: "G722" });
    assert.equal(r.status, 400);
    assert.equal(r.json.error, "invalid codec: G722 was not offered");
    r = await call(b.url, "POST", `/v1/legs/${inb}/early-media`, { codec: "PCMU" });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.status, "early_media");
    r = await call(b.url, "POST", `/v1/legs/${inb}/early-media`);
    assert.equal(r.status, 409);
    assert.equal(r.json.error, "leg is not ringing (state early_media)");
    assert.equal((await waitEvent(recB, "leg.early_media", inb)).leg_type, "sip_inbound");
    assert.equal((await waitEvent(recA, "leg.early_media", out)).leg_type, "sip_outbound");
    await waitEvent(recA, "leg.joined_room", out);
    assert.equal((await call(a.url, "GET", `/v1/legs/${out}`)).json.state, "early_media");
    assert.equal((await call(b.url, "GET", `/v1/legs/${inb}`)).json.state, "early_media");

    r = await call(b.url, "POST", `/v1/legs/${inb}/play`, { tone: "us_ringback" });
    assert.equal(r.status, 200, r.text);
    await waitFor(
      () => {
        const heard = wsA.tail(400);
        return heard.length >= 400 && toneRatio(heard, 16000, 440) > 0.2 &&
          toneRatio(heard, 16000, 480) > 0.2;
      },
      8000,
      "A's room hears 440+480 Hz",
    );
    assert.equal(find(recA, "leg.connected", out), undefined, "not answered yet");

    r = await call(b.url, "POST", `/v1/legs/${inb}/answer`);
    assert.equal(r.status, 202, r.text);
    await waitEvent(recA, "leg.connected", out);
    await waitEvent(recB, "leg.connected", inb);
    const joins = recA.events.filter((e) =>
      e.type === "leg.joined_room" && e.envelope.leg_id === out
    );
    assert.equal(joins.length, 1, "joined once");
    assert.equal(find(recA, "leg.command_failed", out), undefined);
  } finally {
    recA.stop();
    recB.stop();
    await wsA.close();
    await a.shutdown();
    await b.shutdown();
  }
});

Deno.test("a received digit is re-sent to the other SIP legs of the room that accept DTMF", async () => {
  const a = await server();
  const b = await server();
  const recA = recordEvents(a);
  const recB = recordEvents(b);
  try {
    const first = await connect(a, b, recA, recB, { codecs: ["PCMU"] });
    recB.events.length = 0;
    const created = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      to: `sip:bob@127.0.0.1:${b.sipPort}`,
      codecs: ["PCMU"],
    });
    const inb2 = (await waitEvent(recB, "leg.ringing")).leg_id as string;
    assert.equal((await call(b.url, "POST", `/v1/legs/${inb2}/answer`)).status, 202);
    const out2 = created.json.id as string;
    await waitEvent(recA, "leg.connected", out2);
    for (const id of [first.inb, inb2]) {
      const r = await call(b.url, "POST", "/v1/rooms/rb/legs", { leg_id: id });
      assert.equal(r.status, 200, r.text);
    }
    let r = await call(a.url, "POST", `/v1/legs/${first.out}/dtmf`, { digits: "5" });
    assert.equal(r.status, 200);
    const relayed = await waitEvent(recA, "dtmf.received", out2);
    assert.equal(relayed.digit, "5");
    assert.equal((await waitEvent(recB, "dtmf.received", first.inb)).digit, "5");

    r = await call(b.url, "POST", `/v1/legs/${inb2}/dtmf/reject`);
    assert.equal(r.status, 200);
    r = await call(a.url, "POST", `/v1/legs/${first.out}/dtmf`, { digits: "7" });
    await waitFor(
      () => recB.events.some((e) => e.type === "dtmf.received" && e.envelope.digit === "7"),
      5000,
      "digit 7 on B",
    );
    await new Promise((res) => setTimeout(res, 500));
    const onOut2 = recA.events.filter((e) =>
      e.type === "dtmf.received" && e.envelope.leg_id === out2
    ).map((e) => e.envelope.digit);
    assert.deepEqual(onOut2, ["5"], "a leg rejecting DTMF gets no relayed digits");
  } finally {
    recA.stop();
    recB.stop();
    await a.shutdown();
    await b.shutdown();
  }
});

Deno.test("an answer choosing the offer's second codec restarts the caller's RTP with it and audio flows", async () => {
  const a = await server();
  const b = await server({ SIP_CODECS: "G722" });
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
    const { out, inb } = await connect(a, b, recA, recB, {
      codecs: ["PCMU", "G722"],
      room_id: "ra",
    });
    assert.deepEqual(
      find(recB, "leg.ringing", inb).offered_codecs.map((c: { name: string }) => c.name),
      ["PCMU", "G722"],
      "A offered both; B (SIP_CODECS=G722) can only answer the second",
    );
    assert.equal((await call(b.url, "POST", "/v1/rooms/rb/legs", { leg_id: inb })).status, 200);
    const bClient = wsB = new PcmClient(
      wsUrl(b.url, "/v1/legs/websocket?room_id=rb&sample_rate=16000"),
      { rate: 16000, toneHz: 5200 },
    );
    await wsB.opened;
    wsA.startSending();
    bClient.startSending();
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
    // 5.2 kHz only survives a wideband path: A hears it, so A's session really runs G.722.
    assert.ok(toneRatio(wsA.tail(400), 16000, 5200) > 0.3, "A hears B's wideband tone");
    assert.ok(toneRatio(bClient.tail(400), 16000, 700) > 0.3, "B hears A's");
    assert.equal((await call(a.url, "DELETE", `/v1/legs/${out}`)).status, 202);
    await waitEvent(recB, "leg.disconnected", inb);
  } finally {
    recA.stop();
    recB.stop();
    await wsA.close();
    await wsB?.close();
    await a.shutdown();
    await b.shutdown();
  }
});
