import assert from "node:assert/strict";
import { CommandSequencer, MAX_PENDING_COMMANDS } from "../../../src/api/vsi_commands.ts";
import { parseClientFrame, utf8Exceeds } from "../../../src/api/vsi_frames.ts";
import { NotFound } from "../../../src/errors.ts";
import { Logger } from "../../../src/log/logger.ts";
import { Metrics } from "../../../src/metrics/metrics.ts";
import type { OpContext } from "../../../src/ops/operation.ts";

/** Rooms whose delete takes `deleteMs`; get/require know only the ids in `ids`. */
function fakeRooms(ids: Set<string>, deleteMs: number) {
  return {
    async delete(id: string): Promise<void> {
      await new Promise((r) => setTimeout(r, deleteMs));
      if (!ids.delete(id)) throw new NotFound("room not found");
    },
    require(id: string) {
      if (!ids.has(id)) throw new NotFound("room not found");
      return { view: () => ({ id, sample_rate: 16000, participants: [] }) };
    },
  };
}

function sequencer(rooms: unknown, controller = new AbortController()) {
  const sent: Record<string, unknown>[] = [];
  let stops = 0;
  const ctx = {
    rooms,
    legs: { get: () => undefined },
    metrics: new Metrics({ activeLegs: () => 0, activeRooms: () => 0 }, { runtime: false }),
  } as unknown as OpContext;
  const seq = new CommandSequencer({
    ctx,
    signal: controller.signal,
    logger: new Logger("error", {}, () => {}),
    clientId: 1,
    send: (f) => sent.push(JSON.parse(f)),
    stop: () => { // as the real client does: stopping aborts the connection's signal
      stops++;
      controller.abort();
    },
  });
  return { seq, sent, stops: () => stops, controller };
}

Deno.test("CommandSequencer replies in arrival order even when an earlier command is slower", async () => {
  const { seq, sent } = sequencer(fakeRooms(new Set(["a"]), 30));
  seq.accept('{"type":"delete_room","request_id":"1","payload":{"id":"a"}}');
  seq.accept('{"type":"get_room","request_id":"2","payload":{"id":"a"}}');
  seq.accept("nope");
  await seq.idle;
  assert.deepEqual(sent, [
    { type: "delete_room.result", request_id: "1", data: { status: "deleted" } },
    { type: "error", request_id: "2", data: { code: 404, message: "room not found" } },
    { type: "error", data: { message: "invalid JSON" } },
  ]);
  assert.equal(seq.pending, 0);
});

Deno.test("CommandSequencer handles stop after the commands before it and skips the rest", async () => {
  const { seq, sent, stops } = sequencer(fakeRooms(new Set(["a", "b"]), 20));
  seq.accept('{"type":"delete_room","request_id":"1","payload":{"id":"a"}}');
  seq.accept('{"type":"stop"}');
  seq.accept('{"type":"delete_room","request_id":"2","payload":{"id":"b"}}');
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(stops(), 0, "stop waits for the command before it");
  await seq.idle;
  assert.equal(stops(), 1);
  assert.deepEqual(sent, [{
    type: "delete_room.result",
    request_id: "1",
    data: { status: "deleted" },
  }]);
  seq.accept('{"type":"list_rooms","request_id":"3"}');
  await seq.idle;
  assert.equal(sent.length, 1, "nothing runs after the connection stopped");
});

Deno.test("CommandSequencer refuses frames beyond the pending limit with 429", async () => {
  const { seq, sent } = sequencer(fakeRooms(new Set(["a"]), 20));
  seq.accept('{"type":"delete_room","request_id":"slow","payload":{"id":"a"}}');
  for (let i = 1; i < MAX_PENDING_COMMANDS; i++) seq.accept('{"type":"pong"}');
  seq.accept('{"type":"list_legs","request_id":"over"}');
  assert.deepEqual(sent, [{
    type: "error",
    data: { code: 429, message: "too many pending commands" },
  }]);
  await seq.idle;
  assert.equal(sent.length, 2);
});

Deno.test("parseClientFrame() accepts only objects with a string type, like upstream's decoder", () => {
  assert.deepEqual(parseClientFrame('{"type":"get_leg","request_id":"r","payload":{"id":"x"}}'), {
    type: "get_leg",
    requestId: "r",
    payload: { id: "x" },
  });
  assert.deepEqual(parseClientFrame('{"type":"list_legs","request_id":""}'), {
    type: "list_legs",
    requestId: undefined,
    payload: undefined,
  });
  for (
    const bad of [
      "",
      "{",
      "[]",
      "1",
      '"x"',
      "null",
      "{}",
      '{"type":1}',
      '{"type":"a","request_id":5}',
    ]
  ) {
    assert.equal(parseClientFrame(bad), null, bad);
  }
});

Deno.test("utf8Exceeds() counts UTF-8 bytes, not UTF-16 units", () => {
  assert.equal(utf8Exceeds("abc", 3), false);
  assert.equal(utf8Exceeds("abcd", 3), true);
  assert.equal(utf8Exceeds("é", 1), true); // 2 bytes
  assert.equal(utf8Exceeds("€€", 6), false); // 3 bytes each
  assert.equal(utf8Exceeds("€€", 5), true);
  assert.equal(utf8Exceeds("😀", 4), false); // a surrogate pair is 4 bytes
  assert.equal(utf8Exceeds("😀😀", 7), true);
});
