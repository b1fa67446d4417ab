/**
 * Test helpers for the transaction layer: a hand-driven clock and builders for the requests and
 * responses the tests exchange.
 */
import {
  buildResponse,
  parseMessage,
  type SipRequest,
  type SipResponse,
} from "../../../../src/sip/message/mod.ts";
import assert from "node:assert/strict";
import { FakeTransport } from "../../../../src/sip/transport/mod.ts";
import {
  type Clock,
  type IncomingRequest,
  type SipTimers,
  type TimerHandle,
  TransactionLayer,
} from "../../../../src/sip/transaction/mod.ts";

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A clock that only moves when `advance` is called; timers fire in time order. */
export class FakeClock implements Clock {
  now = 0;
  #next = 1;
  readonly #timers = new Map<number, Pending>();

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, seq: id, fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Number of scheduled timers. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing due timers (including ones they schedule) in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let nextId: number | undefined;
      let next: Pending | undefined;
      for (const [id, t] of this.#timers) {
        if (t.at > end) continue;
        if (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)) {
          next = t;
          nextId = id;
        }
      }
      if (!next || nextId === undefined) break;
      this.#timers.delete(nextId);
      this.now = next.at;
      next.fn();
    }
    this.now = end;
  }
}

/** Lets queued microtasks (transport failures, fake-pair deliveries) run. */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

const encoder = new TextEncoder();

/** Parses a request written with `\n` line ends. */
export function request(text: string): SipRequest {
  const r = parseMessage(encoder.encode(text.replaceAll("\n", "\r\n")));
  if (!r.ok) throw new Error(r.error.message);
  if (r.message.kind !== "request") throw new Error("not a request");
  return r.message;
}

/** Options for `invite` / `nonInvite`. */
export interface RequestInit {
  readonly branch?: string;
  readonly method?: string;
  readonly sentBy?: string;
  readonly transport?: string;
  readonly cseq?: number;
  readonly route?: string;
}

/** A request from `alice@192.0.2.1` to `bob@192.0.2.2`. */
export function makeRequest(init: RequestInit = {}): SipRequest {
  const method = init.method ?? "INVITE";
  const branch = init.branch ?? "z9hG4bKtest1";
  const transport = init.transport ?? "UDP";
  const sentBy = init.sentBy ?? "192.0.2.1:5060";
  const route = init.route ? `Route: ${init.route}\n` : "";
  return request(
    `${method} sip:bob@192.0.2.2 SIP/2.0
Via: SIP/2.0/${transport} ${sentBy};branch=${branch}
${route}Max-Forwards: 70
From: Alice <sip:alice@example.com>;tag=fromtag1
To: Bob <sip:bob@example.com>
Call-ID: callid-1@192.0.2.1
CSeq: ${init.cseq ?? 1} ${method}
Content-Length: 0

`,
  );
}

/** A response to `req` with a To tag for non-100 statuses. */
export function respond(req: SipRequest, status: number, toTag = "totag9"): SipResponse {
  return buildResponse(req, status, undefined, status === 100 ? {} : { toTag });
}

/** Destination used by client tests. */
export const BOB_UDP = { host: "192.0.2.2", port: 5060, transport: "udp" } as const;
/** Destination used by client tests over TCP. */
export const BOB_TCP = { host: "192.0.2.2", port: 5060, transport: "tcp" } as const;
/** Where injected messages come from. */
export const BOB_ADDR = { host: "192.0.2.2", port: 5060 } as const;
/** Where injected requests come from (a UAC at Alice's address). */
export const ALICE_ADDR = { host: "192.0.2.1", port: 5060 } as const;

const decoder = new TextDecoder();

/** Wire text of a sent record, for assertions. */
export function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Shrink-free RFC 3261 timers (T1 500 ms, T2 4 s, T4 5 s) on the fake clock. */
export const T: SipTimers = { t1: 500, t2: 4000, t4: 5000 };

/** A transaction layer for client-side tests on a fake transport and clock. */
export function clientSetup(transport: "udp" | "tcp" = "udp") {
  const clock = new FakeClock();
  const fake = new FakeTransport({ transport });
  const layer = new TransactionLayer(fake, { timers: T, clock });
  return { clock, fake, layer };
}

/** A transaction layer at 192.0.2.2:5060 for server-side tests, collecting what reaches the TU. */
export function serverSetup(transport: "udp" | "tcp" = "udp") {
  const clock = new FakeClock();
  const fake = new FakeTransport({ transport, local: { host: "192.0.2.2", port: 5060 } });
  const incoming: IncomingRequest[] = [];
  const layer = new TransactionLayer(fake, {
    timers: T,
    clock,
    onRequest: (i) => incoming.push(i),
  });
  return { clock, fake, layer, incoming };
}

/** The status of every message sent (0 for a request). */
export function statuses(fake: FakeTransport): number[] {
  return fake.messages().map((m) => (m.kind === "response" ? m.status : 0));
}

/** The server transaction of the last request that reached the TU, checked to be a `kind`. */
export function lastServerTx<K extends abstract new (...args: never[]) => unknown>(
  incoming: readonly IncomingRequest[],
  kind: K,
): InstanceType<K> {
  const tx = incoming.at(-1)?.transaction;
  assert.ok(tx instanceof kind, `the last request's transaction is a ${kind.name}`);
  return tx as InstanceType<K>;
}
