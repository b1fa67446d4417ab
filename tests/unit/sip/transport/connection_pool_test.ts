import assert from "node:assert/strict";
import {
  canonicalHost,
  connectionKey,
  ConnectionPool,
  type HostPort,
  type PooledConnection,
  unmapHost,
} from "../../../../src/sip/transport/mod.ts";

class Conn implements PooledConnection {
  readonly transport = "tcp" as const;
  closed = false;
  lastActivity = 0;
  constructor(readonly remote: HostPort, readonly pool?: ConnectionPool<Conn>) {}
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pool?.remove(this);
  }
}

Deno.test("connectionKey() treats equivalent IPv6 spellings as one peer", () => {
  assert.equal(
    connectionKey("tcp", { host: "[2001:DB8::1]", port: 5060 }),
    connectionKey("tcp", { host: "2001:db8:0:0::1", port: 5060 }),
  );
  assert.notEqual(
    connectionKey("tcp", { host: "192.0.2.1", port: 5060 }),
    connectionKey("tls", { host: "192.0.2.1", port: 5060 }),
  );
  assert.equal(canonicalHost("Example.COM"), "example.com");
  assert.equal(unmapHost("::ffff:192.0.2.1"), "192.0.2.1");
  assert.equal(unmapHost("2001:db8::1"), "2001:db8::1");
});

Deno.test("ConnectionPool reuses a connection by remote address and re-indexes an older one", () => {
  const pool = new ConnectionPool<Conn>(0);
  const peer = { host: "192.0.2.1", port: 5060 };
  const older = new Conn(peer, pool);
  const newer = new Conn(peer, pool);
  pool.add(older);
  pool.add(newer);
  assert.equal(pool.get("tcp", peer), newer);
  assert.equal(pool.size, 2);
  newer.close();
  assert.equal(pool.get("tcp", peer), older, "the older connection takes over the index");
  older.close();
  assert.equal(pool.get("tcp", peer), undefined);
  assert.equal(pool.size, 0);
});

Deno.test("ConnectionPool shares one dial between concurrent senders and indexes the alias", async () => {
  const pool = new ConnectionPool<Conn>(0);
  let dials = 0;
  const dial = async () => {
    dials++;
    await Promise.resolve();
    return new Conn({ host: "192.0.2.7", port: 5060 }, pool);
  };
  const alias = { host: "sip.example.com", port: 5060 };
  const [a, b] = await Promise.all([
    pool.obtain("tcp", alias, dial),
    pool.obtain("tcp", alias, dial),
  ]);
  assert.equal(dials, 1);
  assert.equal(a, b);
  assert.equal(pool.get("tcp", alias), a);
  assert.equal(pool.get("tcp", { host: "192.0.2.7", port: 5060 }), a);
  pool.closeAll();
  assert.equal(pool.size, 0);
});

Deno.test("ConnectionPool.sweep() closes connections idle for the timeout", async () => {
  const pool = new ConnectionPool<Conn>(1000);
  const idle = new Conn({ host: "192.0.2.1", port: 1 }, pool);
  const busy = new Conn({ host: "192.0.2.1", port: 2 }, pool);
  pool.add(idle);
  pool.add(busy);
  idle.lastActivity = 0;
  busy.lastActivity = 900;
  pool.sweep(1500);
  assert.equal(idle.closed, true);
  assert.equal(busy.closed, false);
  pool.closeAll(); // also stops the sweeper interval
  await Promise.resolve();
});
