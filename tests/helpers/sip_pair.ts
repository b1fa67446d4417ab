/**
 * Helpers for SIP tests between in-process servers: a server with its own RTP port range, event
 * lookups on a recorder, `connect` (A dials B, B's app answers), a two-server fixture with tone
 * peers (`withPair`), and `hearEachOther`, which checks by tone content that audio crosses.
 */
import assert from "node:assert/strict";
import { call, recordEvents, startTestServer } from "./server.ts";
import { PcmClient, waitFor } from "./pcm_client.ts";
import { toneRatio } from "../../src/media/goertzel.ts";
import type { RunningServer, ServerOptions } from "../../src/server.ts";

/** An event recorder as `recordEvents` returns it. */
export type Rec = ReturnType<typeof recordEvents>;

/**
 * Returns a server factory whose servers take consecutive 400-port RTP ranges from `firstPort`
 * (each test file passes its own base so files never share ports), one media worker and the
 * three SIP codecs unless `env` says otherwise.
 */
export function serverFactory(
  firstPort: number,
): (env?: Record<string, string>, options?: ServerOptions) => Promise<RunningServer> {
  let next = firstPort;
  return (env = {}, options = {}) => {
    const min = next;
    next += 400;
    return startTestServer({
      MEDIA_WORKERS: "1",
      SIP_CODECS: "PCMU,PCMA,G722",
      RTP_PORT_MIN: String(min),
      RTP_PORT_MAX: String(min + 399),
      ...env,
    }, options);
  };
}

/** `http://…` base + path as a `ws://` URL. */
export function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

/** The envelope of the first `type` event (for `legId` when given). */
// deno-lint-ignore no-explicit-any
export function find(rec: Rec, type: string, legId?: string): any {
  return rec.events.find((e) =>
    e.type === type && (legId === undefined || e.envelope.leg_id === legId)
  )?.envelope;
}

/** Waits for the first `type` event (for `legId` when given) and returns its envelope. */
// deno-lint-ignore no-explicit-any
export async function waitEvent(rec: Rec, type: string, legId?: string, ms = 10_000): Promise<any> {
  await waitFor(() => find(rec, type, legId) !== undefined, ms, `${type} ${legId ?? ""}`);
  return find(rec, type, legId);
}

/** The `leg.ringing` of the first SIP inbound leg. */
export function inbound(rec: Rec): { leg_id: string } | undefined {
  return rec.events.find((e) => e.type === "leg.ringing" && e.envelope.leg_type === "sip_inbound")
    ?.envelope as { leg_id: string } | undefined;
}

/** A dials B; B's app answers. Returns both leg ids once both sides are connected. */
export async function connect(
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

/** Every `type` event's envelope (for `legId` when given), in order. */
// deno-lint-ignore no-explicit-any
export function findAll(rec: Rec, type: string, legId?: string): any[] {
  return rec.events.filter((e) =>
    e.type === type && (legId === undefined || e.envelope.leg_id === legId)
  ).map((e) => e.envelope);
}

/** Waits for the `leg.ringing` of the first SIP inbound leg and returns its envelope. */
// deno-lint-ignore no-explicit-any
export async function waitInbound(rec: Rec, ms = 10_000): Promise<any> {
  await waitFor(() => inbound(rec) !== undefined, ms, "leg.ringing of a SIP inbound leg");
  return inbound(rec);
}

/** Two servers, their event recorders, and a factory of tone peers closed with the pair. */
export interface Pair {
  readonly a: RunningServer;
  readonly b: RunningServer;
  readonly recA: Rec;
  readonly recB: Rec;
  /**
   * A 16 kHz WebSocket peer on `srv` sending `toneHz` once started: in `room` when given, else a
   * standalone WebSocket leg. Closed when the pair's body ends.
   */
  peer(srv: RunningServer, room: string | undefined, toneHz: number): PcmClient;
}

/**
 * Runs `body` with event recorders on `a` and `b`; afterwards stops them and closes every peer
 * the body opened (the servers stay up: their owner shuts them down).
 */
export async function onPair<T>(
  a: RunningServer,
  b: RunningServer,
  body: (p: Pair) => Promise<T>,
): Promise<T> {
  const recA = recordEvents(a);
  const recB = recordEvents(b);
  const peers: PcmClient[] = [];
  const peer = (srv: RunningServer, room: string | undefined, toneHz: number) => {
    const path = room === undefined
      ? "/v1/legs/websocket"
      : `/v1/legs/websocket?room_id=${room}&sample_rate=16000`;
    const client = new PcmClient(wsUrl(srv.url, path), { rate: 16000, toneHz });
    peers.push(client);
    return client;
  };
  try {
    return await body({ a, b, recA, recB, peer });
  } finally {
    recA.stop();
    recB.stop();
    for (const client of peers) await client.close();
  }
}

/** What `withPair` starts: each server's env overrides and server options. */
export interface PairOptions {
  readonly a?: Record<string, string>;
  readonly b?: Record<string, string>;
  readonly aOptions?: ServerOptions;
}

/** Starts servers A and B from `server`, runs `body` on them (see `onPair`), shuts both down. */
export async function withPair<T>(
  server: ReturnType<typeof serverFactory>,
  options: PairOptions,
  body: (p: Pair) => Promise<T>,
): Promise<T> {
  const a = await server(options.a, options.aOptions);
  let b: RunningServer | undefined;
  try {
    b = await server(options.b);
    return await onPair(a, b, body);
  } finally {
    await a.shutdown();
    await b?.shutdown();
  }
}

/** Opens `client` and waits until its room has a mixer on `srv`. */
export async function openInRoom(
  srv: RunningServer,
  client: PcmClient,
  room: string,
  ms = 5000,
): Promise<void> {
  await client.opened;
  await waitFor(() => srv.ctx.media.roomWorkerIndex(room) !== undefined, ms, `room ${room}`);
}

/** Tone peers on each side of a call between rooms, as `roomToRoomCall` returns them. */
export interface RoomCall {
  readonly out: string;
  readonly inb: string;
  /** A's peer in room ra. */
  readonly wsA: PcmClient;
  /** B's peer in room rb. */
  readonly wsB: PcmClient;
}

/**
 * A's peer (`aHz`, default 700) opens room ra; A dials B with `body` joined to ra; B answers and
 * puts its leg in room rb with B's peer (`bHz`, default 1100); both peers start sending.
 */
export async function roomToRoomCall(
  p: Pair,
  body: Record<string, unknown>,
  options: { aHz?: number; bHz?: number; roomWaitMs?: number } = {},
): Promise<RoomCall> {
  const wsA = p.peer(p.a, "ra", options.aHz ?? 700);
  await openInRoom(p.a, wsA, "ra", options.roomWaitMs);
  const { out, inb } = await connect(p.a, p.b, p.recA, p.recB, { ...body, room_id: "ra" });
  const added = await call(p.b.url, "POST", "/v1/rooms/rb/legs", { leg_id: inb });
  assert.equal(added.status, 200, added.text);
  const wsB = p.peer(p.b, "rb", options.bHz ?? 1100);
  await wsB.opened;
  wsA.startSending();
  wsB.startSending();
  return { out, inb, wsA, wsB };
}

/** How `hearEachOther` waits and what its assertions say. */
export interface HearOptions {
  /** Frames each peer must have received before the check starts (default 100). */
  readonly frames?: number;
  /** Bound on that first wait (default 15 s). */
  readonly firstMs?: number;
  /** Further frames each must receive before the last 400 ms are measured (default 25). */
  readonly more?: number;
  /** Bound on that second wait (default 5 s). */
  readonly moreMs?: number;
  /** What the waits are for, in a timeout's message (default "audio both ways"). */
  readonly what?: string;
  /** Assertion message for A hearing B's tone (default "A hears B"). */
  readonly aHears?: string;
  /** Assertion message for B hearing A's tone (default "B hears A"). */
  readonly bHears?: string;
}

/**
 * Waits until both peers have heard `frames` frames and then `more` fresh ones, and asserts that
 * the last 400 ms of each are mostly (ratio > 0.3) the other peer's tone.
 */
export async function hearEachOther(
  a: PcmClient,
  b: PcmClient,
  o: HearOptions = {},
): Promise<void> {
  const what = o.what ?? "audio both ways";
  const frames = o.frames ?? 100;
  const more = o.more ?? 25;
  assert.ok(a.options.toneHz && b.options.toneHz, "both peers send a tone");
  await waitFor(
    () => a.received.length >= frames && b.received.length >= frames,
    o.firstMs ?? 15_000,
    what,
  );
  const mark = [a.received.length, b.received.length];
  await waitFor(
    () => a.received.length >= mark[0] + more && b.received.length >= mark[1] + more,
    o.moreMs ?? 5000,
    `more ${what}`,
  );
  assert.ok(toneRatio(a.tail(400), a.rate, b.options.toneHz) > 0.3, o.aHears ?? "A hears B");
  assert.ok(toneRatio(b.tail(400), b.rate, a.options.toneHz) > 0.3, o.bHears ?? "B hears A");
}
