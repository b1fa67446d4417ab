/**
 * A server under test with SIPp as its peer: the server, its event recorder, an app that answers
 * ringing calls, and the SIPp runs of one test, all released together by `withSippServer`. Also
 * the audio helpers SIPp tests share (a µ-law tone file, windowed tone detection).
 */
import assert from "node:assert/strict";
import { call, recordEvents } from "./server.ts";
import { describeSipp, Sipp, type SippOptions, type SippResult } from "./sipp.ts";
import { findAll, type Rec } from "./sip_pair.ts";
import { toneRatio } from "../../src/media/goertzel.ts";
import { ulawEncode } from "../../src/codecs/g711.ts";
import type { RunningServer } from "../../src/server.ts";

/** Ids of the SIP inbound legs in the order they rang. */
export function inboundLegs(rec: Rec): string[] {
  return findAll(rec, "leg.ringing").filter((e) => e.leg_type === "sip_inbound").map((e) =>
    e.leg_id
  );
}

/**
 * Plays the app: answers every ringing SIP inbound leg with `POST /answer` and, when `roomId` is
 * given, adds it to that room once connected. Returns a stop function that checks the replies.
 */
export function autoAnswer(srv: RunningServer, rec: Rec, roomId?: string): () => Promise<void> {
  const answered = new Set<string>();
  const joined = new Set<string>();
  const replies: Promise<{ status: number; text: string }>[] = [];
  const timer = setInterval(() => {
    for (const e of findAll(rec, "leg.ringing")) {
      if (e.leg_type !== "sip_inbound" || answered.has(e.leg_id)) continue;
      answered.add(e.leg_id);
      replies.push(call(srv.url, "POST", `/v1/legs/${e.leg_id}/answer`));
    }
    if (roomId === undefined) return;
    for (const e of findAll(rec, "leg.connected")) {
      if (!answered.has(e.leg_id) || joined.has(e.leg_id)) continue;
      joined.add(e.leg_id);
      replies.push(call(srv.url, "POST", `/v1/rooms/${roomId}/legs`, { leg_id: e.leg_id }));
    }
  }, 10);
  return async () => {
    clearInterval(timer);
    for (const r of await Promise.all(replies)) {
      assert.ok(r.status === 200 || r.status === 202, `app request: ${r.status} ${r.text}`);
    }
  };
}

/** `seconds` of a sine at `hz` and amplitude 0.5 full scale, µ-law encoded at 8 kHz. */
export function ulawTone(hz: number, seconds: number): Uint8Array {
  const pcm = new Int16Array(8000 * seconds);
  for (let i = 0; i < pcm.length; i++) {
    pcm[i] = Math.round(16000 * Math.sin((2 * Math.PI * hz * i) / 8000));
  }
  const out = new Uint8Array(pcm.length);
  ulawEncode(pcm, out);
  return out;
}

/** The best share of energy at `hz` over 200 ms windows of `samples` (0 when too short). */
export function bestToneRatio(samples: Int16Array, rate: number, hz: number): number {
  const win = rate / 5;
  let best = 0;
  for (let at = 0; at + win <= samples.length; at += win / 2) {
    best = Math.max(best, toneRatio(samples, rate, hz, at, win));
  }
  return best;
}

/** A server, its recorder and the SIPp runs of one test (see `withSippServer`). */
export interface SippRig {
  readonly srv: RunningServer;
  readonly rec: Rec;
  /** Starts answering ringing calls (see `autoAnswer`); its replies are checked at the end. */
  autoAnswer(roomId?: string): void;
  /** Starts SIPp (a UAS, or a UAC given `remote`); closed when the test ends. */
  sipp(options: SippOptions): Promise<Sipp>;
  /**
   * Runs a UAC scenario against the server to its end; asserts SIPp exited 0 and, when given,
   * that `successful` calls succeeded.
   */
  uac(options: Omit<SippOptions, "remote">, successful?: number): Promise<SippResult>;
}

/**
 * Starts a server with `start`, runs `body` with it, then checks the app's replies and closes
 * SIPp, the recorder and the server whatever happened.
 */
export async function withSippServer(
  start: () => Promise<RunningServer>,
  body: (rig: SippRig) => Promise<void>,
): Promise<void> {
  const srv = await start();
  const rec = recordEvents(srv);
  const stops: (() => Promise<void>)[] = [];
  const runs: Sipp[] = [];
  const sipp = async (options: SippOptions) => {
    const run = await Sipp.start(options);
    runs.push(run);
    return run;
  };
  const rig: SippRig = {
    srv,
    rec,
    autoAnswer: (roomId) => void stops.push(autoAnswer(srv, rec, roomId)),
    sipp,
    async uac(options, successful) {
      const run = await sipp({ ...options, remote: `127.0.0.1:${srv.sipPort}` });
      const result = await run.finished;
      assert.equal(result.code, 0, describeSipp(result));
      if (successful !== undefined) {
        assert.equal(result.successful, successful, describeSipp(result));
      }
      return result;
    },
  };
  try {
    await body(rig);
  } finally {
    try {
      for (const stop of stops) await stop();
    } finally {
      for (const run of runs) await run.close();
      rec.stop();
      await srv.shutdown();
    }
  }
}
