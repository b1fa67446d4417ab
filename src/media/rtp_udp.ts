/**
 * UDP plumbing of an RTP session: address helpers and a sender that never awaits a packet.
 *
 * `Deno.DatagramConn.send()` reads the buffer when its op runs, after the calling tick has
 * returned (checked on Deno 2.9: a buffer overwritten right after `send()` goes out with the new
 * bytes). So a buffer must not be rewritten until its send settles: {@link UdpSender} keeps a
 * few preallocated buffers, hands out a free one per packet and counts an overrun when all are
 * still in flight (the socket is not draining) instead of corrupting a queued packet.
 *
 * @module
 */

/**
 * Receive buffer size (2 KiB). A datagram that fills it whole may have been truncated by the
 * kernel (Linux drops the excess silently), so such a datagram is dropped as oversized.
 */
export const RTP_RECEIVE_BUFFER = 2048;

/** Largest datagram this module sends (an Ethernet MTU's worth of RTP). */
export const RTP_SEND_BUFFER = 1500;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** True for an IPv4 dotted quad or an IPv6 literal (brackets allowed). */
export function isIpLiteral(host: string): boolean {
  const m = IPV4.exec(host);
  if (m) return m.slice(1).every((o) => Number(o) <= 255);
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return h.includes(":") && /^[0-9a-fA-F:.]+$/.test(h);
}

/** `::ffff:a.b.c.d` (how a dual-stack socket reports an IPv4 peer) → `a.b.c.d`. */
export function unmapHost(host: string): string {
  return host.startsWith("::ffff:") && IPV4.test(host.slice(7)) ? host.slice(7) : host;
}

/** A send address for `host` from a socket bound to `bindHost` (IPv4 mapped on IPv6 sockets). */
export function udpAddr(bindHost: string, host: string, port: number): Deno.NetAddr {
  let h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bindHost.includes(":") && IPV4.test(h)) h = `::ffff:${h}`;
  return { transport: "udp", hostname: h, port };
}

/** Counters of a {@link UdpSender}. */
export interface UdpSendStats {
  /** Datagrams the kernel accepted. */
  sent: number;
  /** Datagrams whose send failed (unreachable, closed socket…). */
  failed: number;
  /** Datagrams not sent because every buffer was still in flight. */
  overruns: number;
}

/** Sends datagrams from a few reused buffers without awaiting each one (see the module doc). */
export class UdpSender {
  readonly stats: UdpSendStats = { sent: 0, failed: 0, overruns: 0 };
  /** Message of the last send failure, for diagnostics. */
  lastError = "";
  readonly #conn: Deno.DatagramConn;
  readonly #bufs: Uint8Array[];
  readonly #views: Uint8Array[];
  readonly #busy: Uint8Array;
  readonly #done: (() => void)[];
  readonly #fail: ((err: unknown) => void)[];
  #slot = -1;
  #next = 0;
  #inflight = 0;
  #idle: (() => void) | undefined;

  constructor(conn: Deno.DatagramConn, slots = 4, size = RTP_SEND_BUFFER) {
    this.#conn = conn;
    this.#bufs = Array.from({ length: slots }, () => new Uint8Array(size));
    this.#views = this.#bufs.map((b) => b.subarray(0, 0));
    this.#busy = new Uint8Array(slots);
    // One pair of settle handlers per buffer, made once: no closure per packet.
    this.#done = this.#bufs.map((_, i) => () => this.#settle(i, true, undefined));
    this.#fail = this.#bufs.map((_, i) => (err: unknown) => this.#settle(i, false, err));
  }

  /** Sends still in flight. */
  get inflight(): number {
    return this.#inflight;
  }

  /**
   * A free buffer to write the next datagram into, or null (counted as an overrun) when every
   * buffer is still being sent. Follow with {@link send}.
   */
  acquire(): Uint8Array | null {
    const n = this.#bufs.length;
    for (let k = 0; k < n; k++) {
      const i = (this.#next + k) % n;
      if (this.#busy[i] === 0) {
        this.#slot = i;
        this.#next = (i + 1) % n;
        return this.#bufs[i];
      }
    }
    this.stats.overruns++;
    return null;
  }

  /** Sends the first `length` octets of the buffer {@link acquire} returned to `to`. */
  send(length: number, to: Deno.NetAddr): void {
    const i = this.#slot;
    if (i < 0) throw new Error("Cannot send: no buffer acquired");
    this.#slot = -1;
    let view = this.#views[i];
    if (view.length !== length) this.#views[i] = view = this.#bufs[i].subarray(0, length);
    this.#busy[i] = 1;
    this.#inflight++;
    this.#conn.send(view, to).then(this.#done[i], this.#fail[i]);
  }

  /** Resolves once no send is in flight (before closing the socket). */
  idle(): Promise<void> {
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.#idle;
      this.#idle = () => {
        prev?.();
        resolve();
      };
    });
  }

  #settle(i: number, ok: boolean, err: unknown): void {
    this.#busy[i] = 0;
    this.#inflight--;
    if (ok) this.stats.sent++;
    else {
      this.stats.failed++;
      this.lastError = err instanceof Error ? err.message : String(err);
    }
    if (this.#inflight === 0 && this.#idle) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }
}
