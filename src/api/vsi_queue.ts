/**
 * A VSI connection's outbound FIFO: a preallocated ring of frame strings shared by events and
 * control frames (command replies, pings, notices) so the wire order follows the order in which
 * things happened. Only events count against the bound (`VSI_EVENT_BUFFER_SIZE`, compat-notes
 * §2.4); control frames are never refused and grow the ring in the rare case it is full.
 */

const CONTROL_SLACK = 8;

/** Bounded-for-events FIFO of pre-serialized frames; no allocation per push in steady state. */
export class FrameQueue {
  /** Most events held at once; `pushEvent` refuses beyond it. */
  readonly eventCapacity: number;
  #slots: (string | undefined)[];
  #isEvent: Uint8Array;
  #head = 0;
  #size = 0;
  #events = 0;

  constructor(eventCapacity: number) {
    if (!Number.isInteger(eventCapacity) || eventCapacity < 1) {
      throw new RangeError(`Cannot create FrameQueue: invalid event capacity ${eventCapacity}`);
    }
    this.eventCapacity = eventCapacity;
    const cap = eventCapacity + CONTROL_SLACK;
    this.#slots = new Array<string | undefined>(cap).fill(undefined);
    this.#isEvent = new Uint8Array(cap);
  }

  /** Frames queued (events and control). */
  get size(): number {
    return this.#size;
  }

  /** Events queued. */
  get eventCount(): number {
    return this.#events;
  }

  /** True when another event would be refused. */
  get eventsFull(): boolean {
    return this.#events >= this.eventCapacity;
  }

  /** Appends an event frame; returns false (and keeps nothing) when the event bound is reached. */
  pushEvent(frame: string): boolean {
    if (this.#events >= this.eventCapacity) return false;
    this.#push(frame, 1);
    this.#events++;
    return true;
  }

  /** Appends a control frame; never refused. */
  pushControl(frame: string): void {
    this.#push(frame, 0);
  }

  /** Removes and returns the oldest frame. */
  shift(): string | undefined {
    if (this.#size === 0) return undefined;
    const i = this.#head;
    const frame = this.#slots[i];
    this.#slots[i] = undefined; // release the string
    if (this.#isEvent[i] === 1) this.#events--;
    this.#head = i + 1 === this.#slots.length ? 0 : i + 1;
    this.#size--;
    return frame;
  }

  /** Drops everything. */
  clear(): void {
    this.#slots.fill(undefined);
    this.#head = 0;
    this.#size = 0;
    this.#events = 0;
  }

  #push(frame: string, isEvent: 0 | 1): void {
    if (this.#size === this.#slots.length) this.#grow();
    let tail = this.#head + this.#size;
    if (tail >= this.#slots.length) tail -= this.#slots.length;
    this.#slots[tail] = frame;
    this.#isEvent[tail] = isEvent;
    this.#size++;
  }

  #grow(): void {
    const cap = this.#slots.length;
    const slots = new Array<string | undefined>(cap * 2).fill(undefined);
    const flags = new Uint8Array(cap * 2);
    for (let k = 0; k < this.#size; k++) {
      const from = (this.#head + k) % cap;
      slots[k] = this.#slots[from];
      flags[k] = this.#isEvent[from];
    }
    this.#slots = slots;
    this.#isEvent = flags;
    this.#head = 0;
  }
}
