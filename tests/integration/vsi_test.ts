import assert from "node:assert/strict";
import { call, startTestServer } from "../helpers/server.ts";
import { addFakeLeg } from "../helpers/fake_leg.ts";
import type { RunningServer } from "../../src/server.ts";
import type { VsiOptions } from "../../src/api/vsi.ts";

// deno-lint-ignore no-explicit-any
type Frame = Record<string, any>;

const FAST_VSI = { pingIntervalMs: 200, readTimeoutMs: 1000, writeTimeoutMs: 1000 };

async function withServer(
  fn: (srv: RunningServer) => Promise<void>,
  vsi: Partial<VsiOptions> = FAST_VSI,
): Promise<void> {
  const srv = await startTestServer({ VSI_EVENT_BUFFER_SIZE: "16" }, { vsi });
  try {
    await fn(srv);
  } finally {
    await srv.shutdown();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A VSI client on the runtime's WebSocket; answers pings unless told not to. */
class Probe {
  readonly frames: Frame[] = [];
  readonly closed: Promise<CloseEvent>;
  #read = 0;

  private constructor(readonly ws: WebSocket, autoPong: boolean) {
    this.closed = new Promise((resolve) => ws.addEventListener("close", resolve, { once: true }));
    ws.addEventListener("message", (e) => {
      const f = JSON.parse(e.data as string);
      this.frames.push(f);
      if (autoPong && f.type === "ping") ws.send('{"type":"pong"}');
    });
  }

  static async open(srv: RunningServer, query = "", autoPong = true): Promise<Probe> {
    const ws = new WebSocket(srv.url.replace("http", "ws") + "/v1/vsi" + query);
    const p = new Probe(ws, autoPong);
    await until("the connected frame", () => p.frames.length > 0);
    assert.deepEqual(p.frames[0], { type: "connected" });
    p.#read = 1;
    return p;
  }

  /** Frames other than pings, in order. */
  get nonPing(): Frame[] {
    return this.frames.filter((f) => f.type !== "ping");
  }

  /** The next unread non-ping frame. */
  async next(timeoutMs = 3000): Promise<Frame> {
    let found: Frame | undefined;
    await until("a frame", () => {
      while (this.#read < this.frames.length) {
        const f = this.frames[this.#read++];
        if (f.type !== "ping") {
          found = f;
          return true;
        }
      }
      return false;
    }, timeoutMs);
    return found!;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Sends a command and waits for the frame echoing its request_id. */
  async command(type: string, requestId: string, payload?: unknown): Promise<Frame> {
    this.send(
      payload === undefined ? { type, request_id: requestId } : {
        type,
        request_id: requestId,
        payload,
      },
    );
    for (;;) {
      const f = await this.next();
      if (f.request_id === requestId) return f;
    }
  }

  async close(): Promise<CloseEvent> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    return await withTimeout(this.closed, 3000, "the close event");
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

async function metric(srv: RunningServer, name: string): Promise<number> {
  const r = await call(srv.url, "GET", "/metrics");
  const line = r.text.split("\n").find((l) => l.startsWith(name + " "));
  assert.ok(line, `metric ${name} missing`);
  return Number(line.split(" ")[1]);
}

Deno.test("VSI sends connected first, then each event's exact bytes with one event_id for all clients", async () => {
  await withServer(async (srv) => {
    const a = await Probe.open(srv);
    const b = await Probe.open(srv);
    assert.equal(srv.vsi.clientCount, 2);
    assert.equal(await metric(srv, "voiceblender_vsi_clients"), 2);
    const ev = srv.ctx.bus.publish("room.created", { room_id: "r1", app_id: "tenant-a" });
    const fa = await a.next();
    const fb = await b.next();
    assert.deepEqual(fa, JSON.parse(ev.json));
    assert.equal(JSON.stringify(fa), ev.json);
    assert.equal(fa.event_id, fb.event_id);

    const r = await call(srv.url, "POST", "/v1/rooms", { id: "r2", app_id: "tenant-a" });
    assert.equal(r.status, 201);
    const viaRest = await a.next();
    assert.equal(viaRest.type, "room.created");
    assert.equal(viaRest.room_id, "r2");
    assert.equal(viaRest.event_id, (await b.next()).event_id);
    await a.close();
    await b.close();
    await until("the hub to forget both clients", () => srv.vsi.clientCount === 0);
    assert.equal(await metric(srv, "voiceblender_vsi_clients"), 0);
  });
});

Deno.test("VSI app_id filter is an unanchored RE2 match: exact tenant, ^$ for untagged, (?i)", async () => {
  await withServer(async (srv) => {
    const exact = await Probe.open(srv, "?app_id=" + encodeURIComponent("^tenant-a$"));
    const untagged = await Probe.open(srv, "?app_id=" + encodeURIComponent("^$"));
    const folded = await Probe.open(srv, "?app_id=" + encodeURIComponent("(?i)TENANT"));
    const all = await Probe.open(srv);
    const pub = (room: string, app?: string) =>
      srv.ctx.bus.publish("room.created", { room_id: room, app_id: app });
    pub("1", "tenant-a");
    pub("2", "tenant-ab");
    pub("3");
    pub("4", "Tenant-C");
    pub("5", "other");
    pub("fence-a", "tenant-a"); // last event for exact, folded and all
    pub("fence-u"); // last event for untagged and all
    const rooms = (p: Probe) => p.nonPing.slice(1).map((f) => f.room_id);
    await until(
      "every fence",
      () =>
        rooms(exact).includes("fence-a") && rooms(folded).includes("fence-a") &&
        rooms(untagged).includes("fence-u") && rooms(all).includes("fence-u"),
    );
    assert.deepEqual(rooms(exact), ["1", "fence-a"]);
    assert.deepEqual(rooms(untagged), ["3", "fence-u"]);
    assert.deepEqual(rooms(folded), ["1", "2", "4", "fence-a"]);
    assert.deepEqual(rooms(all), ["1", "2", "3", "4", "5", "fence-a", "fence-u"]);
    for (const p of [exact, untagged, folded, all]) await p.close();
  });
});

/** Sends a raw upgrade request and returns status and body (the connection is then closed). */
async function rawUpgrade(
  srv: RunningServer,
  path: string,
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
  try {
    await conn.write(new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ));
    const reader = new RawReader(conn);
    const head = await reader.readHead();
    const status = Number(head.split(" ")[1]);
    const len = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    const body = new TextDecoder().decode(await reader.readExactly(len));
    return { status, body };
  } finally {
    conn.close();
  }
}

Deno.test("VSI rejects an invalid or RE2-incompatible app_id regex with 400 JSON before upgrading", async () => {
  await withServer(async (srv) => {
    for (const pattern of ["(", "(?=tenant)", "(a)\\1"]) {
      const r = await rawUpgrade(srv, "/v1/vsi?app_id=" + encodeURIComponent(pattern));
      assert.equal(r.status, 400, pattern);
      const json = JSON.parse(r.body);
      assert.equal(json.instance_id, srv.ctx.config.instanceId);
      assert.match(json.error, /^invalid app_id regex: /);
    }
    // A browser-style client sees the refused upgrade as an error and a close.
    const ws = new WebSocket(srv.url.replace("http", "ws") + "/v1/vsi?app_id=(");
    const errored = new Promise((r) => ws.addEventListener("error", r, { once: true }));
    const closed = new Promise((r) => ws.addEventListener("close", r, { once: true }));
    await withTimeout(Promise.all([errored, closed]), 3000, "the refused WebSocket");
    assert.equal(srv.vsi.clientCount, 0);

    const plain = await call(srv.url, "GET", "/v1/vsi");
    assert.equal(plain.status, 400);
    assert.equal(plain.json.error, "expected a WebSocket upgrade request");
  });
});

Deno.test("VSI commands reply with <cmd>.result or an error frame correlated by request_id", async () => {
  await withServer(async (srv) => {
    const p = await Probe.open(srv);
    const created = await p.command("create_room", "c1", { id: "r1", app_id: "tenant-a" });
    assert.deepEqual(created, {
      type: "create_room.result",
      request_id: "c1",
      data: { id: "r1", app_id: "tenant-a", sample_rate: 16000, participants: [] },
    });
    const got = await p.command("get_room", "g1", { id: "r1" });
    assert.equal(got.type, "get_room.result");
    assert.equal(got.data.id, "r1");
    assert.equal("instance_id" in got.data, false);
    const listed = await p.command("list_rooms", "l1");
    assert.deepEqual(listed.data.map((r: Frame) => r.id), ["r1"]);

    const leg = addFakeLeg(srv.ctx, { appId: "tenant-a" });
    const legs = await p.command("list_legs", "ll1", null);
    assert.deepEqual(legs.data.map((l: Frame) => l.id), [leg.id]);
    const one = await p.command("get_leg", "gl1", { id: leg.id });
    assert.equal(one.type, "get_leg.result");
    assert.equal(one.data.id, leg.id);
    const missing = await p.command("get_leg", "gl2", { id: "nope" });
    assert.deepEqual(missing, {
      type: "error",
      request_id: "gl2",
      data: { code: 404, message: "leg not found" },
    });

    const deleted = await p.command("delete_room", "d1", { id: "r1" });
    assert.deepEqual(deleted, {
      type: "delete_room.result",
      request_id: "d1",
      data: { status: "deleted" },
    });
    const gone = await p.command("get_room", "g2", { id: "r1" });
    assert.deepEqual(gone.data, { code: 404, message: "room not found" });
    await leg.hangup("api_hangup");
    await p.close();
  });
});

Deno.test("VSI runs a connection's commands sequentially, replying in arrival order", async () => {
  await withServer(async (srv) => {
    const p = await Probe.open(srv);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const id = `q${i}`;
      ids.push(id);
      // Deletes are asynchronous operations: a later get must still see the earlier delete.
      if (i % 3 === 0) p.send({ type: "create_room", request_id: id, payload: { id: `r${i}` } });
      else if (i % 3 === 1) {
        p.send({ type: "delete_room", request_id: id, payload: { id: `r${i - 1}` } });
      } else p.send({ type: "get_room", request_id: id, payload: { id: `r${i - 2}` } });
    }
    await until("20 replies", () => p.nonPing.filter((f) => f.request_id).length === 20);
    const replies = p.nonPing.filter((f) => f.request_id);
    assert.deepEqual(replies.map((f) => f.request_id), ids);
    for (const f of replies) {
      const i = Number(f.request_id.slice(1));
      if (i % 3 === 0) assert.equal(f.type, "create_room.result");
      else if (i % 3 === 1) assert.equal(f.type, "delete_room.result");
      else assert.deepEqual(f.data, { code: 404, message: "room not found" });
    }
    await p.close();
  });
});

Deno.test("VSI answers unknown commands, bad payloads and malformed frames with error frames", async () => {
  await withServer(async (srv) => {
    const p = await Probe.open(srv);
    assert.deepEqual(await p.command("nope", "u1"), {
      type: "error",
      request_id: "u1",
      data: { code: 400, message: "unknown command: nope" },
    });
    const bad = await p.command("create_room", "b1", { sample_rate: 11025 });
    assert.equal(bad.type, "error");
    assert.equal(bad.data.code, 400);
    assert.match(bad.data.message, /^invalid payload: /);
    const notObject = await p.command("get_room", "b2", "r1");
    assert.match(notObject.data.message, /^invalid payload: /);

    for (const text of ["{not json", "[1,2]", '"create_room"', '{"request_id":"x"}', "null"]) {
      p.send(text);
      assert.deepEqual(await p.next(), { type: "error", data: { message: "invalid JSON" } }, text);
    }
    // No request_id → none echoed; pong is a no-op; binary frames are ignored.
    p.send({ type: "nope" });
    assert.deepEqual(await p.next(), {
      type: "error",
      data: { code: 400, message: "unknown command: nope" },
    });
    p.send({ type: "pong" });
    p.ws.send(new Uint8Array([1, 2, 3]));
    p.send("x".repeat((1 << 20) + 1));
    const big = await p.next();
    assert.equal(big.type, "error");
    assert.equal(big.data.code, 413);
    const after = await p.command("list_rooms", "z1");
    assert.deepEqual(after, { type: "list_rooms.result", request_id: "z1", data: [] });
    await p.close();
  });
});

Deno.test("VSI stop closes the connection with 1000", async () => {
  await withServer(async (srv) => {
    const p = await Probe.open(srv);
    p.send({ type: "stop" });
    const ev = await withTimeout(p.closed, 3000, "close after stop");
    assert.equal(ev.code, 1000);
    await until("the hub to forget the client", () => srv.vsi.clientCount === 0);
  });
});

Deno.test("VSI pings with seq 1, 2, 3 and closes a client that never sends with read_timeout", async () => {
  await withServer(async (srv) => {
    const silent = await Probe.open(srv, "", false);
    const chatty = await Probe.open(srv, "", true);
    await until("three pings", () => silent.frames.filter((f) => f.type === "ping").length >= 3);
    assert.deepEqual(silent.frames.filter((f) => f.type === "ping").slice(0, 3), [
      { type: "ping", seq: 1, event_id: 1 },
      { type: "ping", seq: 2, event_id: 2 },
      { type: "ping", seq: 3, event_id: 3 },
    ]);
    const t0 = performance.now();
    const ev = await withTimeout(silent.closed, 3000, "the read deadline");
    assert.equal(ev.code, 1008);
    assert.equal(ev.reason, "read_timeout");
    assert.ok(performance.now() - t0 < 1000);
    await sleep(300); // the ponging client outlives the 1 s deadline
    assert.equal(chatty.ws.readyState, WebSocket.OPEN);
    assert.equal(srv.vsi.clientCount, 1);
    await chatty.close();
  });
});

Deno.test("VSI shutdown closes every client with 1001", async () => {
  const srv = await startTestServer({}, { vsi: FAST_VSI });
  const p = await Probe.open(srv);
  await srv.shutdown();
  const ev = await withTimeout(p.closed, 3000, "close on shutdown");
  assert.equal(ev.code, 1001);
  assert.equal(srv.vsi.clientCount, 0);
});

/** Byte-level reader over a TCP connection: an HTTP head, then unmasked server frames. */
class RawReader {
  #buf = new Uint8Array(1 << 16);
  #start = 0;
  #end = 0;
  /** Total bytes received. */
  received = 0;

  constructor(readonly conn: Deno.Conn) {}

  async #fill(): Promise<void> {
    if (this.#start > 0 && this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      const live = this.#end - this.#start;
      const next = new Uint8Array(live * 2 > this.#buf.length ? live * 2 : this.#buf.length);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#start = 0;
      this.#end = live;
    }
    const n = await this.conn.read(this.#buf.subarray(this.#end));
    if (n === null) throw new Error("connection closed by the server");
    this.#end += n;
    this.received += n;
  }

  async readHead(): Promise<string> {
    for (;;) {
      const text = new TextDecoder().decode(this.#buf.subarray(this.#start, this.#end));
      const at = text.indexOf("\r\n\r\n");
      if (at >= 0) {
        this.#start += at + 4; // the head is ASCII: characters are bytes
        return text.slice(0, at);
      }
      await this.#fill();
    }
  }

  async readExactly(n: number): Promise<Uint8Array> {
    while (this.#end - this.#start < n) await this.#fill();
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  /** The next WebSocket frame (RFC 6455 §5.2; server frames carry no mask). */
  async readFrame(): Promise<{ opcode: number; payload: Uint8Array }> {
    const h = await this.readExactly(2);
    assert.equal(h[1] & 0x80, 0, "server frames are not masked");
    let len = h[1] & 0x7f;
    if (len === 126) {
      const e = await this.readExactly(2);
      len = (e[0] << 8) | e[1];
    } else if (len === 127) {
      const e = await this.readExactly(8);
      len = Number(new DataView(e.buffer).getBigUint64(0));
    }
    return { opcode: h[0] & 0x0f, payload: await this.readExactly(len) };
  }
}

/** A WebSocket client done by hand over TCP, which reads only when told to. */
async function rawVsiClient(srv: RunningServer): Promise<RawReader> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
  await conn.write(new TextEncoder().encode(
    `GET /v1/vsi HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  ));
  const reader = new RawReader(conn);
  const head = await withTimeout(reader.readHead(), 3000, "the 101 response");
  assert.match(head, /^HTTP\/1\.1 101 /);
  return reader;
}

const EVENTS = 30_000;
const PAD = "x".repeat(900); // ~1 KB frames

/**
 * Publishes `EVENTS` events numbered by `seq`, yielding to the event loop every 100 and never
 * running more than 200 events ahead of the normal client (so the normal client can never legitimately
 * stall: its unsent bytes stay under the high-water mark).
 */
async function publishFlood(srv: RunningServer, seen: () => number): Promise<void> {
  for (let seq = 0; seq < EVENTS; seq++) {
    srv.ctx.bus.publish("room.updated", { room_id: "flood", seq, pad: PAD });
    if (seq % 100 === 99) {
      await sleep(0);
      if (seq + 1 - seen() > 200) {
        await until("the normal client to keep up", () => seq + 1 - seen() <= 100, 10_000);
      }
    }
  }
}

Deno.test("VSI isolates a stalled reader: others get every event, it is closed by the write deadline", async () => {
  await withServer(async (srv) => {
    const normal = await Probe.open(srv);
    const slow = await rawVsiClient(srv);
    let seen = 0;
    const ids = new Set<string>();
    normal.ws.addEventListener("message", (e) => {
      const f = JSON.parse(e.data as string);
      if (f.type === "room.updated") {
        assert.equal(f.seq, seen, "normal client received events in order with none missing");
        seen++;
        ids.add(f.event_id);
      }
    });
    normal.frames.length = 0; // this test tracks the flood itself
    await publishFlood(srv, () => seen);
    await until("every event at the normal client", () => seen === EVENTS, 10_000);
    assert.equal(ids.size, EVENTS);
    assert.ok(normal.frames.every((f) => f.type !== "events_dropped"));
    assert.ok(await metric(srv, "voiceblender_vsi_events_dropped_total") > 0);

    await until(
      "the write deadline to close the slow client",
      () => srv.vsi.clientCount === 1,
      5000,
    );
    // The slow client now reads its backlog: a gap-free prefix of events, then the close frame.
    let next = 0;
    let close: Uint8Array | undefined;
    await withTimeout(
      (async () => {
        for (;;) {
          const { opcode, payload } = await slow.readFrame();
          if (opcode === 8) {
            close = payload;
            return;
          }
          const f = JSON.parse(new TextDecoder().decode(payload));
          if (f.type === "room.updated") assert.equal(f.seq, next++);
        }
      })(),
      10_000,
      "the slow client's backlog",
    );
    slow.conn.close();
    assert.ok(next > 0 && next < EVENTS, `slow client got ${next} events`);
    assert.equal((close![0] << 8) | close![1], 1008);
    assert.equal(new TextDecoder().decode(close!.subarray(2)), "write_timeout");
    await normal.close();
  }, { pingIntervalMs: 200, readTimeoutMs: 10_000, writeTimeoutMs: 1000 });
});

Deno.test("VSI tells a reader that resumes after overflowing exactly how many events it missed", async () => {
  await withServer(async (srv) => {
    const normal = await Probe.open(srv);
    const slow = await rawVsiClient(srv);
    let seen = 0;
    normal.ws.addEventListener("message", (e) => {
      if (JSON.parse(e.data as string).type === "room.updated") seen++;
    });
    normal.frames.length = 0;
    await publishFlood(srv, () => seen);
    assert.equal(srv.vsi.clientCount, 2, "the slow client is still within its write deadline");

    // The slow client resumes; markers keep coming until one reaches it.
    let seq = EVENTS;
    let markerSeen = false;
    const frames: Frame[] = [];
    const reading = withTimeout(
      (async () => {
        while (!markerSeen) {
          const { opcode, payload } = await slow.readFrame();
          assert.equal(opcode, 1);
          const f = JSON.parse(new TextDecoder().decode(payload));
          frames.push(f);
          if (f.type === "room.updated" && f.seq >= EVENTS) markerSeen = true;
        }
      })(),
      10_000,
      "a marker at the resumed client",
    );
    while (!markerSeen) {
      srv.ctx.bus.publish("room.updated", { room_id: "marker", seq: seq++ });
      await sleep(20);
    }
    await reading;
    slow.conn.close();

    // Every event is either delivered in order or counted by the events_dropped before the next.
    assert.deepEqual(frames[0], { type: "connected" });
    let expected = 0;
    let notices = 0;
    for (const f of frames.slice(1)) {
      if (f.type === "events_dropped") {
        assert.ok(f.count > 0);
        expected += f.count;
        notices++;
      } else if (f.type === "room.updated") {
        assert.equal(f.seq, expected, "a gap not announced by events_dropped");
        expected++;
      } else {
        assert.equal(f.type, "ping");
      }
    }
    assert.ok(notices >= 1, "events_dropped was sent");
    const firstNotice = frames.findIndex((f) => f.type === "events_dropped");
    assert.ok(
      frames.slice(firstNotice + 1).find((f) => f.type === "room.updated")!.seq >= EVENTS,
      "the notice comes after the backlog and before the first event published after it",
    );
    assert.ok(await metric(srv, "voiceblender_vsi_events_dropped_total") > 0);
    await normal.close();
  }, { pingIntervalMs: 200, readTimeoutMs: 10_000, writeTimeoutMs: 10_000 });
});
