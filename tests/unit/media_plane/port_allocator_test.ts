import assert from "node:assert/strict";
import { PortAllocator, PortsExhausted } from "../../../src/media_plane/port_allocator.ts";
import { ServiceUnavailable } from "../../../src/errors.ts";

function drain(a: PortAllocator): number[] {
  const ports: number[] = [];
  while (a.available > 0) ports.push(a.allocate());
  return ports;
}

Deno.test("PortAllocator hands out even ports whose RTCP port + 1 stays inside the range", () => {
  const a = new PortAllocator({ min: 10001, max: 10010 });
  assert.equal(a.base, 10002);
  assert.equal(a.capacity, 4, "10010 cannot be used: its RTCP port 10011 is outside the range");
  const ports = drain(a);
  assert.deepEqual(ports, [10002, 10004, 10006, 10008]);
  for (const p of ports) {
    assert.equal(p % 2, 0);
    assert.ok(p >= 10001 && p + 1 <= 10010);
    assert.ok(a.isAllocated(p));
  }
  assert.equal(a.inUse, 4);
});

Deno.test("PortAllocator walks the range round-robin and wraps around to the start", () => {
  const a = new PortAllocator({ min: 20000, max: 20007 }); // pairs 20000, 20002, 20004, 20006
  const first = [a.allocate(), a.allocate(), a.allocate()];
  assert.deepEqual(first, [20000, 20002, 20004]);
  a.release(20000);
  a.release(20002);
  // The cursor continues past the released ports to the untouched one, then wraps.
  assert.equal(a.allocate(), 20006);
  assert.equal(a.allocate(), 20000);
  assert.equal(a.allocate(), 20002);
});

Deno.test("PortAllocator does not reuse a just-released port while other pairs are free", () => {
  const a = new PortAllocator({ min: 30000, max: 30099 }); // 50 pairs
  const p = a.allocate();
  a.release(p);
  const next: number[] = [];
  for (let i = 0; i < 49; i++) next.push(a.allocate());
  assert.ok(!next.includes(p), "the released port waits behind all 49 other free pairs");
  assert.equal(a.allocate(), p, "and comes back once they are taken");
});

Deno.test("PortAllocator throws PortsExhausted (a 503) when every pair is in use, and recovers", () => {
  const a = new PortAllocator({ min: 40000, max: 40003 });
  const ports = drain(a);
  assert.deepEqual(ports, [40000, 40002]);
  assert.throws(
    () => a.allocate(),
    (e) =>
      e instanceof PortsExhausted && e instanceof ServiceUnavailable && e.status === 503 &&
      e.message === "Cannot allocate an RTP port: all 2 port pairs in 40000-40003 are in use",
  );
  assert.ok(a.release(40002));
  assert.equal(a.allocate(), 40002);
});

Deno.test("PortAllocator.release() ignores double releases, odd ports and ports outside the range", () => {
  const a = new PortAllocator({ min: 50000, max: 50009 });
  const p = a.allocate();
  assert.equal(a.release(p), true);
  assert.equal(a.release(p), false, "double release");
  assert.equal(a.release(p + 1), false, "the RTCP port is not an allocation");
  assert.equal(a.release(49998), false);
  assert.equal(a.release(50010), false);
  assert.equal(a.available, a.capacity, "nothing was duplicated in the free queue");
  assert.equal(new Set(drain(a)).size, a.capacity);
});

Deno.test("PortAllocator rejects a range that holds no even/odd pair", () => {
  assert.throws(() => new PortAllocator({ min: 10000, max: 10000 }), RangeError);
  assert.throws(() => new PortAllocator({ min: 10001, max: 10002 }), RangeError);
  assert.throws(() => new PortAllocator({ min: 20000, max: 10000 }), RangeError);
  assert.equal(new PortAllocator({ min: 10000, max: 10001 }).capacity, 1);
});

Deno.test("PortAllocator serves every pair of the default 10000-20000 range exactly once", () => {
  const a = new PortAllocator({ min: 10000, max: 20000 });
  assert.equal(a.capacity, 5000);
  const ports = drain(a);
  assert.equal(new Set(ports).size, 5000);
  assert.ok(ports.every((p) => p % 2 === 0 && p >= 10000 && p + 1 <= 20000));
  assert.throws(() => a.allocate(), PortsExhausted);
  for (const p of ports) assert.ok(a.release(p));
  assert.equal(a.available, 5000);
  assert.equal(a.allocate(), 10000, "the queue keeps release order: the oldest free pair first");
});

Deno.test("PortAllocator.allocateWith() moves past a port another socket holds", async () => {
  const squatter = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const held = (squatter.addr as Deno.NetAddr).port;
  const min = held - (held & 1); // the pair holding `held`
  const a = new PortAllocator({ min, max: min + 40 });
  const opened: Deno.DatagramConn[] = [];
  try {
    const tried: number[] = [];
    const { port } = await a.allocateWith((p) => {
      tried.push(p);
      const rtp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: p });
      try {
        const rtcp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: p + 1 });
        opened.push(rtp, rtcp);
      } catch (err) {
        rtp.close();
        throw err;
      }
      return Promise.resolve(p);
    });
    assert.equal(tried[0], min, "the held pair was tried first");
    assert.notEqual(port, min);
    assert.ok(a.isAllocated(port));
    assert.ok(!a.isAllocated(min), "the failed pair went back to the queue");
  } finally {
    for (const c of opened) c.close();
    squatter.close();
  }
});

Deno.test("PortAllocator.allocateWith() releases the port and rethrows a non-bind failure", async () => {
  const a = new PortAllocator({ min: 60000, max: 60009 });
  await assert.rejects(
    a.allocateWith(() => Promise.reject(new TypeError("bad options"))),
    TypeError,
  );
  assert.equal(a.inUse, 0);
  await assert.rejects(
    a.allocateWith(() => Promise.reject(new Deno.errors.AddrInUse("taken")), { attempts: 3 }),
    (e) => e instanceof ServiceUnavailable && /3 ports in 60000-60009 were in use/.test(e.message),
  );
  assert.equal(a.inUse, 0);
});
