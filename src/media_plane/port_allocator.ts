/**
 * RTP/RTCP port allocation from `[RTP_PORT_MIN, RTP_PORT_MAX]` on the main thread (the media
 * worker that opens the session binds the sockets).
 *
 * RFC 3550 §11: RTP takes an even port and RTCP the next odd one. A pair is always reserved,
 * even for an rtcp-mux session (RFC 5761), so a session whose offer proposed rtcp-mux can fall
 * back to port+1 when the answer declines it, without moving.
 *
 * Free pairs wait in a FIFO: `allocate()` takes the head and `release()` appends at the tail, so
 * allocation walks the range round-robin and a just-freed port is reused only after every other
 * free pair — a late packet of the previous call does not land in the next one. Both are O(1):
 * nothing scans the range.
 *
 * @module
 */
import { ServiceUnavailable } from "../errors.ts";

/** Every pair of the range is in use: the API answers 503 (a new call cannot get media). */
export class PortsExhausted extends ServiceUnavailable {
  constructor(min: number, max: number, pairs: number) {
    super(`Cannot allocate an RTP port: all ${pairs} port pairs in ${min}-${max} are in use`);
    this.name = "PortsExhausted";
  }
}

/** Options of {@link PortAllocator}. */
export interface PortAllocatorOptions {
  /** Lowest usable port (`RTP_PORT_MIN`). */
  readonly min: number;
  /** Highest usable port (`RTP_PORT_MAX`); the last pair's odd port must not exceed it. */
  readonly max: number;
}

/** Options of {@link PortAllocator.allocateWith}. */
export interface AllocateWithOptions {
  /** Ports tried before giving up (default 8). */
  readonly attempts?: number;
  /** Whether a failure means "try another port" (default: `Deno.errors.AddrInUse`). */
  readonly retryable?: (err: unknown) => boolean;
}

function isAddrInUse(err: unknown): boolean {
  return err instanceof Deno.errors.AddrInUse;
}

/** Round-robin allocator of even RTP ports (RTCP = port + 1), see the module doc. */
export class PortAllocator {
  /** Lowest even port of the range. */
  readonly base: number;
  /** Number of even/odd pairs the range holds. */
  readonly capacity: number;
  readonly #min: number;
  readonly #max: number;
  /** FIFO ring of free pair indices. */
  readonly #free: Int32Array;
  #head = 0;
  #count: number;
  /** 1 while a pair is allocated (double-release and foreign-port guard). */
  readonly #used: Uint8Array;

  constructor(options: PortAllocatorOptions) {
    const { min, max } = options;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
      throw new RangeError(`Invalid RTP port range ${min}-${max}`);
    }
    this.#min = min;
    this.#max = max;
    this.base = min + (min & 1);
    this.capacity = this.base + 1 <= max ? Math.floor((max - 1 - this.base) / 2) + 1 : 0;
    if (this.capacity === 0) {
      throw new RangeError(`Invalid RTP port range ${min}-${max}: it holds no even/odd port pair`);
    }
    this.#free = new Int32Array(this.capacity);
    for (let i = 0; i < this.capacity; i++) this.#free[i] = i;
    this.#count = this.capacity;
    this.#used = new Uint8Array(this.capacity);
  }

  /** Pairs currently allocated. */
  get inUse(): number {
    return this.capacity - this.#count;
  }

  /** Pairs free to allocate. */
  get available(): number {
    return this.#count;
  }

  /**
   * Reserves the next free pair and returns its even (RTP) port; RTCP is that port + 1 unless
   * the session muxes. Throws {@link PortsExhausted} when every pair is in use.
   */
  allocate(): number {
    if (this.#count === 0) throw new PortsExhausted(this.#min, this.#max, this.capacity);
    const i = this.#free[this.#head];
    this.#head = (this.#head + 1) % this.capacity;
    this.#count--;
    this.#used[i] = 1;
    return this.base + 2 * i;
  }

  /**
   * Returns a pair to the back of the free queue. Answers false (and changes nothing) for a
   * port that is not an allocated RTP port of this range, so a double release is harmless.
   */
  release(port: number): boolean {
    const i = this.#index(port);
    if (i < 0 || this.#used[i] === 0) return false;
    this.#used[i] = 0;
    this.#free[(this.#head + this.#count) % this.capacity] = i;
    this.#count++;
    return true;
  }

  /** Whether `port` is the RTP port of an allocated pair. */
  isAllocated(port: number): boolean {
    const i = this.#index(port);
    return i >= 0 && this.#used[i] === 1;
  }

  /**
   * Allocates a port and passes it to `open` (which binds the sockets). When the bind fails
   * because another process holds the port, the pair goes to the back of the queue and the next
   * one is tried, up to `attempts` ports; any other failure releases the pair and is rethrown.
   */
  async allocateWith<T>(
    open: (port: number) => Promise<T>,
    options: AllocateWithOptions = {},
  ): Promise<{ port: number; value: T }> {
    const attempts = Math.max(1, options.attempts ?? 8);
    const retryable = options.retryable ?? isAddrInUse;
    let last: unknown;
    for (let a = 0; a < attempts; a++) {
      const port = this.allocate();
      try {
        return { port, value: await open(port) };
      } catch (err) {
        this.release(port);
        if (!retryable(err)) throw err;
        last = err;
      }
    }
    throw new ServiceUnavailable(
      `Cannot bind an RTP port: ${attempts} ports in ${this.#min}-${this.#max} were in use` +
        (last instanceof Error ? ` (${last.message})` : ""),
    );
  }

  #index(port: number): number {
    const off = port - this.base;
    if (!Number.isInteger(port) || off < 0 || (off & 1) !== 0) return -1;
    const i = off / 2;
    return i < this.capacity ? i : -1;
  }
}
