/**
 * Interop with baresip (Debian's baresip-core 1.0.0) as an independent UA: it calls the server and
 * is called by it, holds and resumes, sends RFC 4733 digits. Audio is checked by tone content at
 * both ends: a WebSocket leg in the server's room hears baresip's microphone WAV (600 Hz) and
 * baresip's decode dump holds the WebSocket leg's tone (1000 Hz).
 */
import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "../helpers/server.ts";
import { PcmClient, sleep, waitFor } from "../helpers/pcm_client.ts";
import { Baresip, type Pcm } from "../helpers/baresip.ts";
import { toneRatio } from "../../src/media/goertzel.ts";
import type { RunningServer } from "../../src/server.ts";
import { findAll, type Rec, waitEvent, waitInbound } from "../helpers/sip_pair.ts";

const BARESIP_HZ = 600;
const CLIENT_HZ = 1000;

/** Codec spellings: the server's SIP_CODECS name, baresip's audio_codecs name, its clock rate. */
const CODECS = [
  { name: "PCMU", baresip: "PCMU/8000/1", rate: 8000 },
  { name: "G722", baresip: "G722/16000/1", rate: 16000 },
] as const;

let nextServerRange = 48000;
let nextBaresipRange = 50000;

/** A server with its own RTP range (48000-49999), one media worker and `codec` only. */
function server(codec: string): Promise<RunningServer> {
  const min = nextServerRange;
  nextServerRange += 100;
  return startTestServer({
    MEDIA_WORKERS: "1",
    SIP_CODECS: codec,
    RTP_PORT_MIN: String(min),
    RTP_PORT_MAX: String(min + 99),
  });
}

/** A baresip with its own RTP range (50000-50999) whose microphone plays BARESIP_HZ. */
function baresip(
  codec: (typeof CODECS)[number],
  answerMode: "manual" | "auto" = "manual",
): Promise<Baresip> {
  const min = nextBaresipRange;
  nextBaresipRange += 50;
  return Baresip.start({
    codecs: [codec.baresip],
    answerMode,
    toneHz: BARESIP_HZ,
    sourceRate: codec.rate,
    rtpPorts: [min, min + 49],
  });
}

function wsUrl(base: string, room: string): string {
  return `${base.replace(/^http/, "ws")}/v1/legs/websocket?room_id=${room}&sample_rate=16000`;
}

/** A server, its recorder, a WebSocket leg sending CLIENT_HZ in `room`, and a baresip. */
interface Rig {
  readonly srv: RunningServer;
  readonly rec: Rec;
  readonly ws: PcmClient;
  readonly b: Baresip;
}

/**
 * Starts a server for `codec`, a WebSocket leg in `room` (opened) and a baresip, runs `body`, and
 * closes all four whatever happened.
 */
async function withBaresip(
  codec: (typeof CODECS)[number],
  room: string,
  answerMode: "manual" | "auto",
  body: (rig: Rig) => Promise<void>,
): Promise<void> {
  const srv = await server(codec.name);
  const rec = recordEvents(srv);
  const ws = new PcmClient(wsUrl(srv.url, room), { rate: 16000, toneHz: CLIENT_HZ });
  let b: Baresip | undefined;
  try {
    await ws.opened;
    b = await baresip(codec, answerMode);
    await body({ srv, rec, ws, b });
  } finally {
    rec.stop();
    await ws.close();
    await b?.close();
    await srv.shutdown();
  }
}

/** Waits until the WebSocket leg's last 400 ms are mostly baresip's tone. */
async function waitHearsBaresip(ws: PcmClient, what: string): Promise<void> {
  await waitFor(
    () => ws.received.length >= 25 && toneRatio(ws.tail(400), 16000, BARESIP_HZ) > 0.5,
    15_000,
    what,
  );
}

/** Waits until baresip's tone is gone from the WebSocket leg's last 400 ms. */
async function waitBaresipQuiet(ws: PcmClient, what: string): Promise<void> {
  await waitFor(() => toneRatio(ws.tail(400), 16000, BARESIP_HZ) < 0.05, 10_000, what);
}

/**
 * The share of 200 ms windows of baresip's decode dump (after its first second) that are mostly
 * the WebSocket leg's tone.
 */
function clientToneShare(pcm: Pcm): number {
  const win = pcm.rate / 5;
  let hits = 0;
  let total = 0;
  for (let at = pcm.rate; at + win <= pcm.samples.length; at += win) {
    total++;
    if (toneRatio(pcm.samples, pcm.rate, CLIENT_HZ, at, win) > 0.5) hits++;
  }
  return total === 0 ? 0 : hits / total;
}

/** Asserts that baresip's decode dump, at `codec`'s rate, is mostly the WebSocket leg's tone. */
async function assertBaresipHeardClient(
  b: Baresip,
  codec: (typeof CODECS)[number],
): Promise<void> {
  const heard = await b.receivedAudio();
  assert.equal(heard.rate, codec.rate);
  const share = clientToneShare(heard);
  assert.ok(share > 0.5, `baresip heard ${CLIENT_HZ} Hz in ${share} of its windows`);
}

/** The server dials baresip with a leg joined to `room`; returns the leg's id. */
async function dialBaresip({ srv, b }: Rig, room: string): Promise<string> {
  const created = await call(srv.url, "POST", "/v1/legs", {
    type: "sip",
    to: b.uri,
    room_id: room,
  });
  assert.equal(created.status, 201, created.text);
  return created.json.id as string;
}

for (const codec of CODECS) {
  Deno.test(`baresip calls the server in ${codec.name}: audio both ways, baresip's BYE ends the leg with remote_bye`, () =>
    withBaresip(codec, "r1", "manual", async ({ srv, rec, ws, b }) => {
      const dial = await b.command("dial", `sip:vb@127.0.0.1:${srv.sipPort}`);
      assert.equal(dial.ok, true, dial.data);
      const ringing = await waitInbound(rec);
      assert.equal(ringing.to, "vb");
      assert.equal(ringing.from, "baresip");
      assert.deepEqual(ringing.offered_codecs.map((c: { name: string }) => c.name), [codec.name]);
      const legId = ringing.leg_id as string;
      const answered = await call(srv.url, "POST", `/v1/legs/${legId}/answer`);
      assert.equal(answered.status, 202, answered.text);
      await waitEvent(rec, "leg.connected", legId);
      await b.waitEvent("CALL_ESTABLISHED");
      const added = await call(srv.url, "POST", "/v1/rooms/r1/legs", { leg_id: legId });
      assert.equal(added.status, 200, added.text);
      ws.startSending();

      await waitHearsBaresip(ws, "the WebSocket leg hearing baresip");
      assert.ok(toneRatio(ws.tail(400), 16000, CLIENT_HZ) < 0.05, "no echo of its own tone");
      await sleep(1500); // let baresip decode a stretch of the WebSocket leg's tone

      const hangup = await b.command("hangup");
      assert.equal(hangup.ok, true, hangup.data);
      const end = await waitEvent(rec, "leg.disconnected", legId);
      assert.equal(end.cdr.reason, "remote_bye");
      await b.waitEvent("CALL_CLOSED");
      await assertBaresipHeardClient(b, codec);
    }));
}

for (const codec of CODECS) {
  Deno.test(`the server calls baresip in ${codec.name}: baresip accepts over ctrl_tcp, audio both ways, DELETE's BYE closes baresip's call`, () =>
    withBaresip(codec, "r2", "manual", async (rig) => {
      const { srv, rec, ws, b } = rig;
      const legId = await dialBaresip(rig, "r2");
      const incoming = await b.waitEvent("CALL_INCOMING");
      assert.equal(incoming.direction, "incoming");
      const accepted = await b.command("accept");
      assert.equal(accepted.ok, true, accepted.data);
      await waitEvent(rec, "leg.connected", legId);
      await b.waitEvent("CALL_ESTABLISHED");
      ws.startSending();

      await waitHearsBaresip(ws, "the WebSocket leg hearing baresip");
      await sleep(1500); // let baresip decode a stretch of the WebSocket leg's tone
      const stream = await b.audioStream();
      assert.equal(stream.dir, "sendrecv");
      assert.ok(stream.rxPackets > 0 && stream.txPackets > 0, JSON.stringify(stream));

      const del = await call(srv.url, "DELETE", `/v1/legs/${legId}`);
      assert.equal(del.status, 202, del.text);
      await b.waitEvent("CALL_CLOSED");
      const end = await waitEvent(rec, "leg.disconnected", legId);
      assert.equal(end.cdr.reason, "api_hangup");
      assert.ok(end.quality?.rtp_packets_received > 0, JSON.stringify(end));
      await assertBaresipHeardClient(b, codec);
    }));
}

/** Counts the events of `type` on `legId`. */
function count(rec: Rec, type: string, legId: string): number {
  return findAll(rec, type, legId).length;
}

/** Sends baresip's `hold` or `resume` and waits for the second `type` event it causes on `legId`. */
async function baresipReinvite(
  { rec, b }: Rig,
  legId: string,
  command: "hold" | "resume",
  type: "leg.hold" | "leg.unhold",
): Promise<void> {
  const sent = await b.command(command);
  assert.equal(sent.ok, true, sent.data);
  await waitFor(() => count(rec, type, legId) === 2, 10_000, `${type} from baresip's re-INVITE`);
}

Deno.test("hold with baresip: the server's hold makes baresip recvonly, baresip's own hold stops our RTP, each resume restores the audio", () =>
  withBaresip(CODECS[0], "r3", "auto", async (rig) => {
    const { srv, rec, ws, b } = rig;
    const legId = await dialBaresip(rig, "r3");
    await waitEvent(rec, "leg.connected", legId);
    await b.waitEvent("CALL_ESTABLISHED");
    ws.startSending();
    await waitHearsBaresip(ws, "the WebSocket leg hearing baresip");

    // The server holds baresip: sendonly from us, so baresip answers recvonly and goes quiet. The
    // WebSocket leg's silence alone would not show that (a sendonly session drops what arrives),
    // so baresip's own packet counters are checked too.
    let r = await call(srv.url, "POST", `/v1/legs/${legId}/hold`);
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.status, "holding");
    await waitEvent(rec, "leg.hold", legId);
    let view = (await call(srv.url, "GET", `/v1/legs/${legId}`)).json;
    assert.deepEqual([view.state, view.held], ["held", true]);
    let stream = await b.audioStream();
    assert.equal(stream.dir, "recvonly");
    await waitBaresipQuiet(ws, "baresip's tone to stop while held");
    const txHeld = stream.txPackets;
    const rxHeld = stream.rxPackets;
    await sleep(600);
    stream = await b.audioStream();
    assert.ok(
      stream.txPackets - txHeld <= 1,
      `baresip kept sending while held: ${stream.txPackets - txHeld}`,
    );
    assert.ok(
      stream.rxPackets - rxHeld >= 10,
      `the server (sendonly while it holds) stopped sending: ${stream.rxPackets - rxHeld}`,
    );

    r = await call(srv.url, "DELETE", `/v1/legs/${legId}/hold`);
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.status, "unholding");
    await waitEvent(rec, "leg.unhold", legId);
    view = (await call(srv.url, "GET", `/v1/legs/${legId}`)).json;
    assert.deepEqual([view.state, view.held], ["connected", false]);
    assert.equal((await b.audioStream()).dir, "sendrecv");
    await waitHearsBaresip(ws, "baresip's tone after the server's resume");

    // baresip holds the server: it stops sending, and our recvonly answer stops our RTP to it.
    await baresipReinvite(rig, legId, "hold", "leg.hold");
    view = (await call(srv.url, "GET", `/v1/legs/${legId}`)).json;
    assert.deepEqual([view.state, view.held], ["held", true]);
    assert.equal((await b.audioStream()).dir, "sendonly");
    await waitBaresipQuiet(ws, "baresip's tone to stop while it holds");
    stream = await b.audioStream();
    await sleep(600);
    const later = await b.audioStream();
    assert.ok(
      later.rxPackets - stream.rxPackets <= 1,
      `the server kept sending to a holder: ${later.rxPackets - stream.rxPackets}`,
    );

    await baresipReinvite(rig, legId, "resume", "leg.unhold");
    assert.equal((await call(srv.url, "GET", `/v1/legs/${legId}`)).json.held, false);
    await waitHearsBaresip(ws, "baresip's tone after its resume");
    let resumed = await b.audioStream();
    const rxResumed = resumed.rxPackets;
    await sleep(600);
    resumed = await b.audioStream();
    assert.equal(resumed.dir, "sendrecv");
    assert.ok(
      resumed.rxPackets - rxResumed >= 10,
      `the server did not resume sending: ${resumed.rxPackets - rxResumed}`,
    );

    assert.equal((await call(srv.url, "DELETE", `/v1/legs/${legId}`)).status, 202);
    await b.waitEvent("CALL_CLOSED");
    assert.equal((await waitEvent(rec, "leg.disconnected", legId)).cdr.reason, "api_hangup");
  }));

Deno.test("DTMF with baresip: its RFC 4733 digits arrive as dtmf.received in order, ours arrive at baresip", async () => {
  const codec = CODECS[0];
  const srv = await server(codec.name);
  const rec = recordEvents(srv);
  let b: Baresip | undefined;
  try {
    b = await baresip(codec);
    const dial = await b.command("dial", `sip:vb@127.0.0.1:${srv.sipPort}`);
    assert.equal(dial.ok, true, dial.data);
    const ringing = await waitInbound(rec);
    const legId = ringing.leg_id as string;
    assert.equal((await call(srv.url, "POST", `/v1/legs/${legId}/answer`)).status, 202);
    await waitEvent(rec, "leg.connected", legId);
    await b.waitEvent("CALL_ESTABLISHED");

    const digits = ["1", "9", "*", "0", "#"];
    for (const [i, d] of digits.entries()) {
      const sent = await b.command("sndcode", d);
      assert.equal(sent.ok, true, sent.data);
      await waitFor(() => count(rec, "dtmf.received", legId) > i, 5000, `digit ${d}`);
    }
    const got = rec.events.filter((e) => e.type === "dtmf.received").map((e) => e.envelope);
    assert.deepEqual(got.map((e) => e.digit), digits);
    assert.deepEqual(got.map((e) => e.seq), [1, 2, 3, 4, 5]);
    assert.ok(got.every((e) => e.leg_id === legId));

    const r = await call(srv.url, "POST", `/v1/legs/${legId}/dtmf`, { digits: "7#" });
    assert.equal(r.status, 200, r.text);
    const bs = b;
    const starts = () => bs.events.filter((e) => e.type === "CALL_DTMF_START").map((e) => e.param);
    await waitFor(() => starts().length >= 2, 5000, "baresip's CALL_DTMF_START for 7 and #");
    assert.deepEqual(starts(), ["7", "#"]);

    assert.equal((await b.command("hangup")).ok, true);
    assert.equal((await waitEvent(rec, "leg.disconnected", legId)).cdr.reason, "remote_bye");
  } finally {
    rec.stop();
    await b?.close();
    await srv.shutdown();
  }
});
