/**
 * Helpers for SIP tests between in-process servers: a server with its own RTP port range, event
 * lookups on a recorder, and `connect` (A dials B, B's app answers).
 */
import assert from "node:assert/strict";
import { call, type recordEvents, startTestServer } from "./server.ts";
import { waitFor } from "./pcm_client.ts";
import type { RunningServer, ServerOptions } from "../../src/server.ts";

/** An event recorder as `recordEvents` returns it. */
export type Rec = ReturnType<typeof recordEvents>;

/**
 * Returns a server factory whose servers take consecutive 400-port RTP ranges from `firstPort`
 * (each test file passes its own base so files never share ports), one media worker and the
 * three SIP codecs unless `env` says otherwise.
 */
export function serverFactory(
  firstPort: number,
): (env?: Record<string, string>, options?: ServerOptions) => Promise<RunningServer> {
  let next = firstPort;
  return (env = {}, options = {}) => {
    const min = next;
    next += 400;
    return startTestServer({
      MEDIA_WORKERS: "1",
      SIP_CODECS: "PCMU,PCMA,G722",
      RTP_PORT_MIN: String(min),
      RTP_PORT_MAX: String(min + 399),
      ...env,
    }, options);
  };
}

/** `http://…` base + path as a `ws://` URL. */
export function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, "ws") + path;
}

/** The envelope of the first `type` event (for `legId` when given). */
// deno-lint-ignore no-explicit-any
export function find(rec: Rec, type: string, legId?: string): any {
  return rec.events.find((e) =>
    e.type === type && (legId === undefined || e.envelope.leg_id === legId)
  )?.envelope;
}

/** Waits for the first `type` event (for `legId` when given) and returns its envelope. */
// deno-lint-ignore no-explicit-any
export async function waitEvent(rec: Rec, type: string, legId?: string, ms = 10_000): Promise<any> {
  await waitFor(() => find(rec, type, legId) !== undefined, ms, `${type} ${legId ?? ""}`);
  return find(rec, type, legId);
}

/** The `leg.ringing` of the first SIP inbound leg. */
export function inbound(rec: Rec): { leg_id: string } | undefined {
  return rec.events.find((e) => e.type === "leg.ringing" && e.envelope.leg_type === "sip_inbound")
    ?.envelope as { leg_id: string } | undefined;
}

/** A dials B; B's app answers. Returns both leg ids once both sides are connected. */
export async function connect(
  a: RunningServer,
  b: RunningServer,
  recA: Rec,
  recB: Rec,
  body: Record<string, unknown>,
): Promise<{ out: string; inb: string }> {
  const created = await call(a.url, "POST", "/v1/legs", {
    type: "sip",
    to: `sip:bob@127.0.0.1:${b.sipPort}`,
    ...body,
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.type, "sip_outbound");
  assert.equal(created.json.state, "ringing");
  const ringing = await waitEvent(recB, "leg.ringing");
  const inb = ringing.leg_id as string;
  const answered = await call(b.url, "POST", `/v1/legs/${inb}/answer`);
  assert.equal(answered.status, 202, answered.text);
  assert.equal(answered.json.status, "answering");
  await waitEvent(recA, "leg.connected", created.json.id);
  await waitEvent(recB, "leg.connected", inb);
  return { out: created.json.id, inb };
}
