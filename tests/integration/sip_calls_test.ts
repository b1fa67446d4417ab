/**
 * SIP legs end to end: two in-process servers, A dialling B over UDP on loopback, the app on B
 * answering over REST, audio checked by tone content through both servers' mixers.
 */
import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { waitFor } from "../helpers/pcm_client.ts";
import {
  connect,
  find,
  hearEachOther,
  openInRoom,
  roomToRoomCall,
  serverFactory,
  waitEvent,
  waitInbound,
  withPair,
} from "../helpers/sip_pair.ts";
import { toneRatio } from "../../src/media/goertzel.ts";

const server = serverFactory(34000);

for (const codec of ["PCMU", "PCMA", "G722"]) {
  Deno.test(`a SIP call between two servers carries audio both ways in ${codec} and ends with a BYE`, () =>
    withPair(server, {}, async (p) => {
      const { a, recA, recB } = p;
      const { out, inb, wsA, wsB } = await roomToRoomCall(p, { codecs: [codec] });
      const ringing = find(recB, "leg.ringing", inb);
      assert.equal(ringing.leg_type, "sip_inbound");
      assert.equal(ringing.from, "voiceblender");
      assert.equal(ringing.to, "bob");
      assert.deepEqual(ringing.offered_codecs.map((c: { name: string }) => c.name), [codec]);
      assert.equal(ringing.offered_codecs[0].priority, 1);
      assert.match(ringing.source_address, /^127\.0\.0\.1:\d+$/);
      await hearEachOther(wsA, wsB, {
        aHears: "A's WebSocket leg hears B's",
        bHears: "B's WebSocket leg hears A's",
      });

      const del = await call(a.url, "DELETE", `/v1/legs/${out}`);
      assert.equal(del.status, 202);
      const endA = await waitEvent(recA, "leg.disconnected", out);
      const endB = await waitEvent(recB, "leg.disconnected", inb);
      assert.equal(endA.cdr.reason, "api_hangup");
      assert.equal(endB.cdr.reason, "remote_bye");
      assert.ok(endA.quality?.rtp_packets_received > 0, JSON.stringify(endA));
      assert.ok(endB.quality?.rtp_packets_received > 0, JSON.stringify(endB));
    }));
}

Deno.test("a SIP call rejected with reason busy ends the caller's leg with busy", () =>
  withPair(server, {}, async ({ a, b, recA, recB }) => {
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
  }));

Deno.test("a SIP call with no codec in common fails with not_acceptable", () =>
  withPair(server, { b: { SIP_CODECS: "PCMU" } }, async ({ a, b, recA, recB }) => {
    const created = await call(a.url, "POST", "/v1/legs", {
      type: "sip",
      to: `sip:bob@127.0.0.1:${b.sipPort}`,
      codecs: ["PCMA"],
    });
    assert.equal(created.status, 201);
    const end = await waitEvent(recA, "leg.disconnected", created.json.id);
    assert.equal(end.cdr.reason, "not_acceptable");
    assert.equal(find(recB, "leg.ringing"), undefined, "B never saw the call");
  }));

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

Deno.test("SIP leg requests are validated: to, codecs, answer on a non-SIP leg, answer twice", () =>
  withPair(server, {}, async (p) => {
    const { a, b, recA, recB } = p;
    const ws = p.peer(b, undefined, 500);
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
    const inb = await waitInbound(recB);
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
  }));

Deno.test("DTMF sent on A's SIP leg arrives on B's leg as dtmf.received in order", () =>
  withPair(server, {}, async (p) => {
    const { a, b, recA, recB } = p;
    const ws = p.peer(a, undefined, 500);
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
  }));

Deno.test("hold and unhold by re-INVITE: both sides see held, unhold restores audio", () =>
  withPair(server, {}, async (p) => {
    const { a, b, recA, recB } = p;
    const wsA = p.peer(a, "ra", 700);
    await openInRoom(a, wsA, "ra");
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
    const wsB = p.peer(b, "rb", 1100);
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

    // Only frames received after the unhold count: no minimum first, 60 fresh ones each.
    await hearEachOther(wsA, wsB, {
      frames: 0,
      more: 60,
      moreMs: 10_000,
      what: "audio after unhold",
      aHears: "A hears B after unhold",
      bHears: "B hears A after unhold",
    });
  }));

Deno.test("early media: B's 183 opens media, A joins its room and hears B's ringback before the answer", () =>
  withPair(server, {}, async (p) => {
    const { a, b, recA, recB } = p;
    const wsA = p.peer(a, "ra", 700);
    await openInRoom(a, wsA, "ra");
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
  }));

Deno.test("a received digit is re-sent to the other SIP legs of the room that accept DTMF", () =>
  withPair(server, {}, async ({ a, b, recA, recB }) => {
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
  }));

Deno.test("an answer choosing the offer's second codec restarts the caller's RTP with it and audio flows", () =>
  withPair(server, { b: { SIP_CODECS: "G722" } }, async (p) => {
    const { a, recB } = p;
    const { out, inb, wsA, wsB } = await roomToRoomCall(p, { codecs: ["PCMU", "G722"] }, {
      bHz: 5200,
    });
    assert.deepEqual(
      find(recB, "leg.ringing", inb).offered_codecs.map((c: { name: string }) => c.name),
      ["PCMU", "G722"],
      "A offered both; B (SIP_CODECS=G722) can only answer the second",
    );
    // 5.2 kHz only survives a wideband path: A hears it, so A's session really runs G.722.
    await hearEachOther(wsA, wsB, { aHears: "A hears B's wideband tone", bHears: "B hears A's" });
    assert.equal((await call(a.url, "DELETE", `/v1/legs/${out}`)).status, 202);
    await waitEvent(recB, "leg.disconnected", inb);
  }));
