/**
 * Open stream connections indexed as RFC 3261 §18 says: by the far end's address, port and
 * transport — the destination for connections we open, the source for ones we accept — so a
 * connection is shared by client and server transactions in both directions (§18.1.1, §18.2.2).
 * Idle connections are closed after a timeout (§18: keep them at least 64*T1 after last use).
 */
import { connectionKey } from "./address.ts";
import type { HostPort, TransportProto } from "./types.ts";

/** What the pool needs from a connection. */
export interface PooledConnection {
  readonly transport: TransportProto;
  readonly remote: HostPort;
  readonly closed: boolean;
  /** `performance.now()` of the last byte sent or received. */
  readonly lastActivity: number;
  /** Closes the connection (the pool then forgets it through `remove`). */
  close(): void;
}

/** Connections by remote key, with de-duplicated dials and an idle sweep. */
export class ConnectionPool<C extends PooledConnection> {
  readonly #byKey = new Map<string, C>();
  /** Every open connection and the keys it is indexed under. */
  readonly #keys = new Map<C, string[]>();
  readonly #dialing = new Map<string, Promise<C>>();
  readonly #idleMs: number;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  /** `idleMs` ≤ 0 disables the idle sweep. */
  constructor(idleMs: number) {
    this.#idleMs = idleMs;
  }

  /** Number of open connections. */
  get size(): number {
    return this.#keys.size;
  }

  /** Every open connection. */
  connections(): C[] {
    return [...this.#keys.keys()];
  }

  /** The open connection to `remote`, if any. */
  get(transport: TransportProto, remote: HostPort): C | undefined {
    const conn = this.#byKey.get(connectionKey(transport, remote));
    return conn && !conn.closed ? conn : undefined;
  }

  /**
   * Indexes a connection under its remote address, and also under `alias` (the destination as
   * dialled, when that was a name). A newer connection to the same peer takes over the index.
   */
  add(conn: C, alias?: HostPort): void {
    const keys = [connectionKey(conn.transport, conn.remote)];
    if (alias) {
      const k = connectionKey(conn.transport, alias);
      if (k !== keys[0]) keys.push(k);
    }
    this.#keys.set(conn, keys);
    for (const k of keys) this.#byKey.set(k, conn);
    this.#armSweeper();
  }

  /** Forgets a connection (called when it closes). */
  remove(conn: C): void {
    const keys = this.#keys.get(conn);
    if (!keys) return;
    this.#keys.delete(conn);
    for (const key of keys) {
      if (this.#byKey.get(key) !== conn) continue;
      this.#byKey.delete(key);
      // An older connection to the same peer may still be open: index it again.
      for (const [other, otherKeys] of this.#keys) {
        if (otherKeys.includes(key)) {
          this.#byKey.set(key, other);
          break;
        }
      }
    }
    if (this.#keys.size === 0) this.#stopSweeper();
  }

  /**
   * The open connection to `remote`, or one dialled with `dial` — concurrent callers share the
   * same dial so two requests to a new peer open a single connection.
   */
  obtain(transport: TransportProto, remote: HostPort, dial: () => Promise<C>): Promise<C> {
    const open = this.get(transport, remote);
    if (open) return Promise.resolve(open);
    const key = connectionKey(transport, remote);
    const pending = this.#dialing.get(key);
    if (pending) return pending;
    const p = dial().then((conn) => {
      if (!conn.closed) this.add(conn, remote);
      return conn;
    }).finally(() => this.#dialing.delete(key));
    this.#dialing.set(key, p);
    return p;
  }

  /** Closes idle connections now (the sweeper calls this; tests may too). */
  sweep(now: number = performance.now()): void {
    if (this.#idleMs <= 0) return;
    for (const conn of this.connections()) {
      if (now - conn.lastActivity >= this.#idleMs) conn.close();
    }
  }

  /** Waits for dials in flight (their connections are then closed by `closeAll`). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#dialing.values()]);
  }

  /** Closes every connection and stops the sweeper. */
  closeAll(): void {
    this.#stopSweeper();
    for (const conn of this.connections()) conn.close();
    this.#keys.clear();
    this.#byKey.clear();
  }

  #armSweeper(): void {
    if (this.#idleMs <= 0 || this.#sweeper !== undefined) return;
    const period = Math.max(10, Math.min(this.#idleMs / 4, 30_000));
    this.#sweeper = setInterval(() => this.sweep(), period);
  }

  #stopSweeper(): void {
    if (this.#sweeper === undefined) return;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
