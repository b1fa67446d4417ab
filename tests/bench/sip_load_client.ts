/**
 * SIP load generator for the SIP benchmark (sip_bench.ts), run as its own process so the server's
 * CPU is measured alone. A minimal UAC on our SIP stack: each call is an INVITE with a PCMU-only
 * SDP offer from its own RTP socket (as a phone would have), and once answered it sends one 20 ms
 * PCMU packet per tick on an absolute 20 ms grid and counts what the server sends back. What it
 * checks in that audio (latency bursts, who hears whom) lives in sip_load_probe.ts.
 *
 * Usage: deno run --unstable-net --allow-net sip_load_client.ts <serverSipPort> <rtpMin> <rtpMax>
 *
 * Commands arrive on stdin as JSON lines, each with an `id` that its reply on stdout echoes:
 * - `{"cmd":"dial","first":i,"count":n,"concurrency":c}` — calls `c<i>`…; replies when all settle
 * - `{"cmd":"start"}` — starts the 20 ms send loop (every answered call sends from then on);
 *   `{"cmd":"stop"}` stops it
 * - `{"cmd":"mark"}` — packet counters now, for the harness's measurement windows
 * - `{"cmd":"verify","rooms":[[i,j,…],…]}` — checks by Goertzel that each call hears its
 *   room-mates' tones and not its own (every call sends its own multiple-of-50 Hz tone)
 * - `{"cmd":"probe","from":i,"to":j,"bursts":n,"periodTicks":t}` — latency probe: call i sends
 *   500 ms of silence, then a 40 ms 1 kHz burst every t ticks; call j times each burst's onset in
 *   what it hears (first sample above a threshold, to the sample) and checks it is the 1 kHz tone
 * - `{"cmd":"hangup"}` — BYE on every answered call
 * - `{"cmd":"quit"}` — closes everything and exits (stdin EOF does too)
 */
import { TransportLayer } from "../../src/sip/transport/mod.ts";
import { TransactionLayer } from "../../src/sip/transaction/mod.ts";
import { type DialogSession, UserAgent } from "../../src/sip/dialog/mod.ts";
import { nameAddr, sipUri } from "../../src/sip/message/mod.ts";
import { buildOffer } from "../../src/sdp/offer.ts";
import { parseAnswer } from "../../src/sdp/parse_answer.ts";
import { isRtcpPacket, RTP_HEADER_SIZE } from "../../src/rtp/packet.ts";
import { emitJson, jsonLines, percentile } from "./sip_bench_util.ts";
import { encodeTone, HearingCheck, LatencyProbe, SAMPLES, toneHz } from "./sip_load_probe.ts";

const TICK_MS = 20;
/** Setup of one call may take this long before the INVITE is cancelled. */
const CALL_TIMEOUT_MS = 30_000;
/** The process ends itself after this long even if nobody says quit. */
const MAX_LIFETIME_MS = 15 * 60_000;

const [sipPortArg, rtpMinArg, rtpMaxArg] = Deno.args;
const serverSipPort = Number(sipPortArg);
const rtpMin = Number(rtpMinArg);
const rtpMax = Number(rtpMaxArg);
if (!(serverSipPort > 0 && rtpMin > 0 && rtpMax >= rtpMin)) {
  console.error("usage: sip_load_client.ts <serverSipPort> <rtpMin> <rtpMax>");
  Deno.exit(2);
}

/** One call: its RTP socket, its preallocated packet and its counters. */
interface Call {
  readonly index: number;
  readonly conn: Deno.DatagramConn;
  /** 12-byte RTP header + 160 PCMU bytes, rewritten in place each tick. */
  readonly packet: Uint8Array;
  /** This call's own 20 ms tone, pre-encoded. */
  readonly tone: Uint8Array;
  remote: Deno.NetAddr | undefined;
  session: DialogSession | undefined;
  seq: number;
  sent: number;
  received: number;
  ended: boolean;
}

const calls = new Map<number, Call>();
/** The running latency probe, if any. */
let probe: LatencyProbe<Call> | undefined;
const hearing = new HearingCheck();
let nextPort = rtpMin;
let closing = false;

// ---- SIP ----

const transport = await TransportLayer.listen({ listenIp: "127.0.0.1", port: 0 });
const transactions = new TransactionLayer(transport);
const ua = new UserAgent({
  transactions,
  localFor: (to) => transport.localFor(to),
  product: "voiceblender-sip-bench",
});
const udp = transport.transports.find((t) => t.protocol === "udp");

/** Opens the call's RTP socket on the next free port of our range. */
function openRtp(): { conn: Deno.DatagramConn; port: number } {
  for (let attempt = 0; attempt <= rtpMax - rtpMin; attempt++) {
    const port = nextPort;
    nextPort = nextPort >= rtpMax ? rtpMin : nextPort + 1;
    try {
      const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
      return { conn, port };
    } catch (err) {
      if (!(err instanceof Deno.errors.AddrInUse)) throw err;
    }
  }
  throw new Error(`Cannot open RTP: every port in ${rtpMin}-${rtpMax} is taken`);
}

/** Places call `index`; resolves with INVITE→2xx milliseconds once it is answered. */
async function placeCall(index: number): Promise<number> {
  const { conn, port } = openRtp();
  const offer = buildOffer({
    address: "127.0.0.1",
    port,
    codecs: ["PCMU"],
    telephoneEvent: false,
    sessionId: index + 1,
    sessionVersion: 1,
  });
  const packet = new Uint8Array(RTP_HEADER_SIZE + SAMPLES);
  const ssrc = (0x5a000000 + index) >>> 0;
  packet[0] = 0x80;
  new DataView(packet.buffer).setUint32(8, ssrc);
  const call: Call = {
    index,
    conn,
    packet,
    tone: encodeTone(toneHz(index), 6000),
    remote: undefined,
    session: undefined,
    seq: index * 1000,
    sent: 0,
    received: 0,
    ended: false,
  };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), CALL_TIMEOUT_MS);
  const t0 = performance.now();
  try {
    const out = ua.invite({
      uri: sipUri({ user: `c${index}`, host: "127.0.0.1", port: serverSipPort }),
      from: nameAddr({ uri: sipUri({ user: "bench", host: "127.0.0.1" }) }),
      sdp: offer.sdp,
      signal: abort.signal,
    });
    const session = await out.result;
    const setupMs = performance.now() - t0;
    const answer = parseAnswer(offer, session.remoteSdp ?? "");
    if (!answer.ok) {
      void session.bye().catch(() => {});
      throw new Error(`bad SDP answer: ${answer.message}`);
    }
    if (answer.codec.name !== "PCMU") throw new Error(`answered with ${answer.codec.name}`);
    packet[1] = answer.codec.payloadType & 0x7f;
    call.remote = { transport: "udp", hostname: answer.remote.address, port: answer.remote.port };
    call.session = session;
    void session.ended.then(() => call.ended = true);
    calls.set(index, call);
    void receiveLoop(call);
    return setupMs;
  } catch (err) {
    conn.close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

async function dial(first: number, count: number, concurrency: number) {
  let next = first;
  const end = first + count;
  const setups: number[] = [];
  const errors: string[] = [];
  let lastAt = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < end) {
      const i = next++;
      try {
        setups.push(await placeCall(i));
        lastAt = performance.now();
      } catch (err) {
        if (errors.length < 5) errors.push(`c${i}: ${err instanceof Error ? err.message : err}`);
        else errors.push("");
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane));
  setups.sort((a, b) => a - b);
  return {
    ok: setups.length,
    failed: errors.length,
    errors: errors.filter((e) => e !== ""),
    wallMs: setups.length > 0 ? lastAt - t0 : 0,
    setupP50: percentile(setups, 0.5, 0),
    setupP95: percentile(setups, 0.95, 0),
    setupMax: setups[setups.length - 1] ?? 0,
  };
}

async function hangupAll(concurrency: number) {
  const list = [...calls.values()].filter((c) => c.session && !c.ended);
  let next = 0;
  let ok = 0;
  let failed = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < list.length) {
      const call = list[next++];
      try {
        await call.session!.bye();
        ok++;
      } catch {
        failed++;
      }
      call.ended = true;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, list.length)) }, lane));
  const wallMs = performance.now() - t0;
  // Calls the server ended itself are closed here too.
  for (const call of [...calls.values()]) if (call.ended) closeCall(call);
  return { ok, failed, wallMs };
}

function closeCall(call: Call): void {
  calls.delete(call.index);
  try {
    call.conn.close();
  } catch { /* already closed */ }
}

// ---- RTP ----

async function receiveLoop(call: Call): Promise<void> {
  const buf = new Uint8Array(1500);
  while (!closing) {
    let data: Uint8Array;
    try {
      [data] = await call.conn.receive(buf);
    } catch {
      return; // closed
    }
    if (data.length < RTP_HEADER_SIZE || isRtcpPacket(data)) continue;
    call.received++;
    if (hearing.active) hearing.onPacket(call.index, data);
    if (probe !== undefined && probe.to === call && probe.armed) {
      probe.onPacket(data, performance.now());
    }
  }
}

let tick = 0;
let loopTimer: ReturnType<typeof setTimeout> | undefined;
/** Lateness of the last LATE_WINDOW send ticks behind their grid slots, ms. */
const LATE_WINDOW = 250;
const late = new Float64Array(LATE_WINDOW);
let lateCount = 0;

/** One 20 ms tick: every answered call sends one packet; the grid is absolute (no drift). */
function sendTick(t0: number): void {
  if (closing) return;
  late[lateCount++ % LATE_WINDOW] = performance.now() - (t0 + tick * TICK_MS);
  const p = probe;
  if (p !== undefined) {
    const payload = p.payload(tick);
    if (p.finished) probe = undefined;
    if (!p.from.ended && p.from.remote !== undefined) sendFrame(p.from, payload);
  }
  for (const call of calls.values()) {
    if (call.ended || call.remote === undefined) continue;
    if (p === undefined || p.from !== call) sendFrame(call, call.tone);
  }
  tick++;
  const delay = t0 + tick * TICK_MS - performance.now();
  loopTimer = setTimeout(() => sendTick(t0), Math.max(0, delay));
}

function sendFrame(call: Call, payload: Uint8Array): void {
  const pkt = call.packet;
  const seq = call.seq++ & 0xffff;
  const ts = (tick * SAMPLES) >>> 0;
  pkt[2] = seq >>> 8;
  pkt[3] = seq & 0xff;
  pkt[4] = ts >>> 24;
  pkt[5] = (ts >>> 16) & 0xff;
  pkt[6] = (ts >>> 8) & 0xff;
  pkt[7] = ts & 0xff;
  pkt.set(payload, RTP_HEADER_SIZE);
  call.sent++;
  call.conn.send(pkt, call.remote!).catch(() => {});
}

/** Starts a latency probe from call `fromIndex` to `toIndex`; resolves with its result. */
function runProbe(fromIndex: number, toIndex: number, bursts: number, periodTicks: number) {
  const from = calls.get(fromIndex);
  const to = calls.get(toIndex);
  if (!from || !to) throw new Error(`Cannot probe: call c${fromIndex} or c${toIndex} is not up`);
  if (loopTimer === undefined) throw new Error("Cannot probe: media is not started");
  probe = new LatencyProbe(from, to, { bursts, periodTicks, tick });
  return probe.done;
}

function counters() {
  let sent = 0;
  let received = 0;
  let live = 0;
  for (const c of calls.values()) {
    sent += c.sent;
    received += c.received;
    if (!c.ended) live++;
  }
  const window = late.slice(0, Math.min(lateCount, LATE_WINDOW)).sort();
  return {
    t: performance.now(),
    sent,
    received,
    live,
    lateP50: percentile(window, 0.5, 0),
    lateP99: percentile(window, 0.99, 0),
  };
}

// ---- command loop ----

type Command =
  | { id: number; cmd: "dial"; first: number; count: number; concurrency: number }
  | { id: number; cmd: "start" }
  | { id: number; cmd: "stop" }
  | { id: number; cmd: "mark" }
  | { id: number; cmd: "verify"; rooms: number[][] }
  | { id: number; cmd: "probe"; from: number; to: number; bursts: number; periodTicks: number }
  | { id: number; cmd: "hangup" }
  | { id: number; cmd: "quit" };

function reply(id: number, body: Record<string, unknown>): void {
  emitJson({ id, ...body });
}

async function handle(c: Command): Promise<void> {
  try {
    switch (c.cmd) {
      case "dial":
        return reply(c.id, await dial(c.first, c.count, c.concurrency));
      case "start":
        if (loopTimer === undefined) {
          const t0 = performance.now();
          loopTimer = setTimeout(() => sendTick(t0), 0);
        }
        return reply(c.id, { started: true });
      case "stop":
        clearTimeout(loopTimer);
        loopTimer = undefined;
        return reply(c.id, { stopped: true });
      case "verify":
        return reply(c.id, await hearing.verify(c.rooms, (i) => calls.has(i)));
      case "mark":
        return reply(c.id, counters());
      case "probe":
        return reply(c.id, { ...await runProbe(c.from, c.to, c.bursts, c.periodTicks) });
      case "hangup":
        return reply(c.id, await hangupAll(50));
      case "quit":
        return;
    }
  } catch (err) {
    reply(c.id, { error: err instanceof Error ? err.message : String(err) });
  }
}

async function shutdown(): Promise<void> {
  closing = true;
  clearTimeout(loopTimer);
  for (const call of [...calls.values()]) closeCall(call);
  ua.close();
  transactions.close();
  await transport.close();
}

const lifetime = setTimeout(async () => {
  console.error("sip_load_client: lifetime exceeded, exiting");
  await shutdown();
  Deno.exit(1);
}, MAX_LIFETIME_MS);

emitJson({ ready: true, sipPort: udp?.local.port ?? 0 });

for await (const line of jsonLines(Deno.stdin.readable)) {
  const c = line as unknown as Command;
  if (c.cmd === "quit") break;
  void handle(c);
}
clearTimeout(lifetime);
await shutdown();
Deno.exit(0);
