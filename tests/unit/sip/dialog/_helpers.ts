/**
 * Two user agents wired back to back over `fakeTransportPair()` (Alice at 192.0.2.1, Bob at
 * 192.0.2.2) sharing one hand-driven clock, and small builders for what the dialog tests send.
 */
import {
  type NameAddr,
  parseNameAddr,
  parseUri,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type SipUri,
} from "../../../../src/sip/message/mod.ts";
import { type FakeTransport, fakeTransportPair } from "../../../../src/sip/transport/mod.ts";
import { type SipTimers, TransactionLayer } from "../../../../src/sip/transaction/mod.ts";
import {
  type IncomingCall,
  UserAgent,
  type UserAgentOptions,
} from "../../../../src/sip/dialog/mod.ts";
import { FakeClock } from "../transaction/_helpers.ts";

export { FakeClock };

/** RFC 3261 defaults; the fake clock makes their size irrelevant to test time. */
export const T: SipTimers = { t1: 500, t2: 4000, t4: 5000 };

/** One user agent with its transport and transaction layer. */
export interface Side {
  readonly fake: FakeTransport;
  readonly layer: TransactionLayer;
  readonly ua: UserAgent;
  /** Incoming calls, in arrival order (when the test keeps the default `onInvite`). */
  readonly calls: IncomingCall[];
}

/** Options for `wire`. */
export interface WireOptions {
  readonly alice?: Partial<UserAgentOptions>;
  readonly bob?: Partial<UserAgentOptions>;
}

/** Alice and Bob, their clock, and `close()` that tears everything down. */
export interface Wired {
  readonly clock: FakeClock;
  readonly alice: Side;
  readonly bob: Side;
  close(): void;
}

function side(fake: FakeTransport, clock: FakeClock, extra: Partial<UserAgentOptions>): Side {
  const layer = new TransactionLayer(fake, { timers: T, clock });
  const calls: IncomingCall[] = [];
  const ua = new UserAgent({
    transactions: layer,
    localFor: () => fake.local,
    clock,
    contactUser: "vb",
    onInvite: (call) => calls.push(call),
    ...extra,
  });
  return { fake, layer, ua, calls };
}

/** Two user agents back to back. */
export function wire(options: WireOptions = {}): Wired {
  const clock = new FakeClock();
  const [a, b] = fakeTransportPair();
  const alice = side(a, clock, options.alice ?? {});
  const bob = side(b, clock, options.bob ?? {});
  return {
    clock,
    alice,
    bob,
    close() {
      alice.ua.close();
      bob.ua.close();
      alice.layer.close();
      bob.layer.close();
    },
  };
}

/** Lets every queued microtask run (fake deliveries, promise chains). */
export async function settle(): Promise<void> {
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** Advances the fake clock in `step` slices, settling in between. */
export async function advance(clock: FakeClock, ms: number, step = 100): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    clock.advance(Math.min(step, ms - done));
    await settle();
  }
}

/** Parses a SIP URI or throws. */
export function uri(text: string): SipUri {
  const r = parseUri(text);
  if (!r.ok || r.value.kind !== "sip") throw new Error(`bad URI ${text}`);
  return r.value;
}

/** Parses an address or throws. */
export function addr(text: string): NameAddr {
  const r = parseNameAddr(text);
  if (!r.ok) throw new Error(`bad address ${text}`);
  return r.value;
}

/** Alice calling Bob. */
export const CALL = { uri: uri("sip:bob@192.0.2.2"), from: addr("Alice <sip:alice@192.0.2.1>") };

/** An SDP offer/answer with a given direction attribute. */
export function sdp(who: string, direction = "sendrecv", version = 1): string {
  return [
    "v=0",
    `o=${who} 1 ${version} IN IP4 192.0.2.9`,
    "s=-",
    "c=IN IP4 192.0.2.9",
    "t=0 0",
    "m=audio 4000 RTP/AVP 0",
    `a=${direction}`,
    "",
  ].join("\r\n");
}

/** Short labels of what a fake transport sent: `INVITE`, `180 INVITE`, … */
export function labels(fake: FakeTransport): string[] {
  return fake.messages().map(label);
}

/** `INVITE` for a request, `200 INVITE` for a response. */
export function label(m: SipMessage): string {
  return m.kind === "response" ? `${m.status} ${m.cseq.method}` : m.method;
}

/** Requests a fake transport sent with this method. */
export function sentRequests(fake: FakeTransport, method: string): SipRequest[] {
  return fake.messages().filter((m): m is SipRequest =>
    m.kind === "request" && m.method === method
  );
}

/** Responses a fake transport sent with this status (and optionally CSeq method). */
export function sentResponses(fake: FakeTransport, status: number, method?: string): SipResponse[] {
  return fake.messages().filter((m): m is SipResponse =>
    m.kind === "response" && m.status === status &&
    (method === undefined || m.cseq.method === method)
  );
}
