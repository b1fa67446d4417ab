/**
 * SIPp (Debian `sip-tester`) against the server over UDP on loopback, as UAC and as UAS: a call
 * carrying audio checked by tone content, loss and late replies that the transaction layers must
 * recover from, CANCEL/487, 481 for unknown dialogs, RFC 4733 digits both ways, and outbound
 * calls that SIPp answers, rejects or leaves ringing.
 */
import assert from "node:assert/strict";
import { call, startTestServer } from "../helpers/server.ts";
import { PcmClient, waitFor } from "../helpers/pcm_client.ts";
import { describeSipp, sippInstalled, sippMessages, sippStep } from "../helpers/sipp.ts";
import {
  bestToneRatio,
  inboundLegs,
  type SippRig,
  ulawTone,
  withSippServer,
} from "../helpers/sipp_rig.ts";
import { findAll, waitEvent, wsUrl } from "../helpers/sip_pair.ts";
import { ulawDecode } from "../../src/codecs/g711.ts";
import type { RunningServer } from "../../src/server.ts";

const ignore = !sippInstalled();

let nextRange = 46000;

/** A server with its own slice of 46000–46999 for RTP and one media worker. */
function server(env: Record<string, string> = {}): Promise<RunningServer> {
  const min = nextRange;
  nextRange = nextRange + 100 > 46900 ? 46000 : nextRange + 100;
  return startTestServer({
    MEDIA_WORKERS: "1",
    SIP_CODECS: "PCMU,PCMA",
    RTP_PORT_MIN: String(min),
    RTP_PORT_MAX: String(min + 99),
    ...env,
  });
}

/** Runs `body` against a fresh server (see `withSippServer`). */
function rig(body: (rig: SippRig) => Promise<void>, env?: Record<string, string>): Promise<void> {
  return withSippServer(() => server(env), body);
}

Deno.test({
  name:
    "sipp UAC call: the room hears its 1 kHz PCMU stream and its BYE ends the leg as remote_bye",
  ignore,
  fn: () =>
    rig(async ({ srv, rec, autoAnswer, uac }) => {
      const ws = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=r1&sample_rate=8000"), {
        rate: 8000,
      });
      try {
        await ws.opened;
        // The room's mixer runs once the media worker is up: warm it before the call.
        await waitFor(() => ws.received.length >= 5, 15_000, "room audio");
        autoAnswer("r1");
        await uac({
          scenario: "uac_audio.xml",
          pauseMs: 3000,
          files: { "tone.pcmu": ulawTone(1000, 1) },
        }, 1);
        const [leg] = inboundLegs(rec);
        assert.ok(leg, "the call reached the app");
        const end = await waitEvent(rec, "leg.disconnected", leg);
        assert.equal(end.cdr.reason, "remote_bye");
        assert.ok(end.quality?.rtp_packets_received >= 50, JSON.stringify(end.quality));
        const heard = bestToneRatio(ws.concat(), 8000, 1000);
        assert.ok(heard > 0.8, `the room heard 1 kHz (best ratio ${heard.toFixed(3)})`);
      } finally {
        await ws.close();
      }
    }),
});

Deno.test({
  name: "adding a ringing sipp call to a room answers it (compat: add_leg_to_room auto-answers)",
  ignore,
  fn: () =>
    rig(async ({ srv, rec, sipp }) => {
      const run = await sipp({
        scenario: "uac_audio.xml",
        remote: `127.0.0.1:${srv.sipPort}`,
        pauseMs: 500,
        files: { "tone.pcmu": ulawTone(1000, 1) },
      });
      await waitFor(() => inboundLegs(rec).length > 0, 10_000, "the call");
      const [leg] = inboundLegs(rec);
      const added = await call(srv.url, "POST", "/v1/rooms/r2/legs", { leg_id: leg });
      assert.equal(added.status, 200, added.text);
      const result = await run.finished;
      assert.equal(result.code, 0, describeSipp(result));
      assert.equal(findAll(rec, "leg.connected", leg).length, 1);
      assert.equal(findAll(rec, "leg.joined_room", leg)[0]?.room_id, "r2");
    }),
});

Deno.test({
  name: "sipp UAC over a lossy link: three calls complete; the unacknowledged 2xx is retransmitted",
  ignore,
  fn: () =>
    rig(async ({ rec, autoAnswer, uac }) => {
      autoAnswer();
      const result = await uac({
        scenario: "uac_lossy.xml",
        calls: 3,
        pauseMs: 200,
        timeoutS: 40,
        // Room for the unlucky run that loses several copies of one message in a row.
        args: ["-max_invite_retrans", "10", "-max_non_invite_retrans", "12"],
      }, 3);
      assert.equal(result.failed, 0, describeSipp(result));
      // SIPp sat on each 2xx for 1.1 s (> T1): the server re-sent it at least once per call.
      const ok = sippStep(result, "200");
      assert.ok(ok && ok.count === 3 && ok.retrans >= 3, describeSipp(result));
      const legs = inboundLegs(rec);
      assert.equal(legs.length, 3, "one leg per call, INVITE retransmissions absorbed");
      await waitFor(
        () => legs.every((id) => findAll(rec, "leg.disconnected", id).length > 0),
        10_000,
        "three disconnects",
      );
      for (const id of legs) {
        // Even when the BYE overtook a lost ACK the leg was connected first; it ends once.
        assert.equal(findAll(rec, "leg.connected", id).length, 1);
        const ends = findAll(rec, "leg.disconnected", id);
        assert.equal(ends.length, 1, "one disconnect per leg");
        assert.equal(ends[0].cdr.reason, "remote_bye");
      }
    }),
});

/** sipp calls, the app answers, sipp's ACK is lost and its BYE arrives before the next 2xx. */
function ackLostCall(check: (leg: string, rig: SippRig) => void): Promise<void> {
  return rig(async (r) => {
    r.autoAnswer();
    const result = await r.uac({ scenario: "uac_ack_lost.xml", pauseMs: 100 });
    assert.ok(sippMessages(result, "received", /^SIP\/2\.0 200 /, "2 BYE").length >= 1);
    const [leg] = inboundLegs(r.rec);
    assert.ok(leg, "the call reached the app");
    await waitEvent(r.rec, "leg.disconnected", leg);
    check(leg, r);
  });
}

Deno.test({
  name: "a BYE that overtakes a lost ACK ends the answered leg as remote_bye, not connect_failed",
  ignore,
  fn: () =>
    ackLostCall((leg, { rec }) => {
      const ends = findAll(rec, "leg.disconnected", leg);
      assert.equal(ends.length, 1);
      assert.equal(ends[0].cdr.reason, "remote_bye");
    }),
});

Deno.test({
  name: "a BYE that overtakes a lost ACK still reports the answered leg as connected first",
  ignore,
  fn: () =>
    ackLostCall((leg, { rec }) => {
      const order = rec.events.filter((e) => e.envelope.leg_id === leg).map((e) => e.type);
      assert.deepEqual(order, ["leg.ringing", "leg.connected", "leg.disconnected"]);
      assert.equal(findAll(rec, "leg.disconnected", leg)[0].cdr.reason, "remote_bye");
    }),
});

/** Creates an outbound SIP leg to the SIPp UAS on `port`; returns its id. */
async function dialSipp(srv: RunningServer, port: number, extra: Record<string, unknown> = {}) {
  const created = await call(srv.url, "POST", "/v1/legs", {
    type: "sip",
    to: `sip:service@127.0.0.1:${port}`,
    ...extra,
  });
  assert.equal(created.status, 201, created.text);
  return created.json.id as string;
}

Deno.test({
  name:
    "sipp UAS answering late: the server retransmits its INVITE (Timer A) and ACKs a repeated 2xx",
  ignore,
  fn: () =>
    rig(async ({ srv, rec, sipp }) => {
      const run = await sipp({
        scenario: "uas_late_answer.xml",
        timeoutS: 20,
        args: ["-pause_msg_ign"],
      });
      const leg = await dialSipp(srv, run.port, { codecs: ["PCMU"] });
      await waitEvent(rec, "leg.connected", leg);
      await waitFor(
        () => sippMessages(run.messagesSoFar(), "received", /^ACK /).length >= 2,
        10_000,
        "the ACK of the repeated 200",
      );
      const del = await call(srv.url, "DELETE", `/v1/legs/${leg}`);
      assert.equal(del.status, 202, del.text);
      const result = await run.finished;
      assert.equal(result.code, 0, describeSipp(result));
      assert.equal(result.successful, 1, describeSipp(result));
      const invites = sippMessages(result, "received", /^INVITE /);
      assert.ok(invites.length >= 2, `Timer A retransmitted the INVITE (${invites.length} seen)`);
      assert.ok(invites.every((m) => m.text === invites[0].text), "retransmissions are identical");
      const acks = sippMessages(result, "received", /^ACK /);
      assert.equal(acks.length, 2, "one ACK per 200 received");
      assert.equal(acks[1].text, acks[0].text, "the 2xx retransmission gets the same ACK");
      assert.equal(sippMessages(result, "received", /^BYE /, "2 BYE").length >= 1, true);
      const end = await waitEvent(rec, "leg.disconnected", leg);
      assert.equal(end.cdr.reason, "api_hangup");
      assert.equal(findAll(rec, "leg.connected", leg).length, 1);
    }),
});

Deno.test({
  name:
    "sipp UAC CANCEL while ringing: 200 for the CANCEL, 487 for the INVITE, leg ends caller_cancel",
  ignore,
  fn: () =>
    rig(async ({ rec, uac }) => {
      const result = await uac({ scenario: "uac_cancel.xml", timeoutS: 20 }, 1);
      assert.equal(
        sippMessages(result, "received", /^SIP\/2\.0 200 /, "1 CANCEL").length >= 1,
        true,
        describeSipp(result),
      );
      const ringing = sippMessages(result, "received", /^SIP\/2\.0 180 /, "1 INVITE");
      const terminated = sippMessages(result, "received", /^SIP\/2\.0 487 /, "1 INVITE");
      assert.ok(ringing.length >= 1 && terminated.length >= 1, describeSipp(result));
      const toTag = (text: string) => text.match(/^To:.*;tag=([^;\s]+)/m)?.[1];
      assert.ok(toTag(ringing[0].text), "180 carries a To tag");
      assert.equal(toTag(terminated[0].text), toTag(ringing[0].text), "one dialog, one tag");
      const [leg] = inboundLegs(rec);
      assert.ok(leg, "the call reached the app");
      const end = await waitEvent(rec, "leg.disconnected", leg);
      assert.equal(end.cdr.reason, "caller_cancel");
      assert.equal(findAll(rec, "leg.connected", leg).length, 0);
    }, { SIP_AUTO_RINGING: "true" }),
});

Deno.test({
  name: "sipp requests in an unknown dialog (BYE, INFO, re-INVITE) get 481 and create nothing",
  ignore,
  fn: () =>
    rig(async ({ srv, rec, uac }) => {
      const result = await uac({ scenario: "uac_unknown_dialog.xml", timeoutS: 20 }, 1);
      for (const cseq of ["1 BYE", "2 INFO", "3 INVITE"]) {
        const got = sippMessages(result, "received", /^SIP\/2\.0 481 /, cseq);
        assert.ok(got.length >= 1, `481 for ${cseq}: ${describeSipp(result)}`);
      }
      assert.equal(
        sippMessages(result, "received", /^SIP\/2\.0 [2-6]\d\d /).filter((m) =>
          !/^SIP\/2\.0 481 /.test(m.text)
        ).length,
        0,
        "no other final response",
      );
      assert.equal(srv.ctx.legs.size, 0, "no leg was created");
      assert.equal(findAll(rec, "leg.ringing").length, 0);
    }),
});

/** Debian's sip-tester ships RFC 4733 captures; SIPp replays them through a raw socket. */
const DTMF_PCAP = "/usr/share/sip-tester/dtmf_2833_5.pcap";

function canReplayPcap(): boolean {
  try {
    return Deno.statSync(DTMF_PCAP).isFile && Deno.uid() === 0;
  } catch {
    return false;
  }
}

Deno.test({
  name: "sipp UAC plays an RFC 4733 digit 5 (with three end packets): dtmf.received 5 exactly once",
  ignore: ignore || !canReplayPcap(),
  fn: () =>
    rig(async ({ rec, autoAnswer, uac }) => {
      autoAnswer();
      await uac({
        scenario: "uac_dtmf.xml",
        pauseMs: 1500,
        files: { "dtmf.pcap": await Deno.readFile(DTMF_PCAP) },
      });
      const [leg] = inboundLegs(rec);
      assert.ok(leg, "the call reached the app");
      const end = await waitEvent(rec, "leg.disconnected", leg);
      assert.equal(end.cdr.reason, "remote_bye");
      const digits = findAll(rec, "dtmf.received", leg);
      assert.deepEqual(digits.map((d) => d.digit), ["5"], JSON.stringify(digits));
    }),
});

/** What the test's RTP socket received: decoded PCMU and RFC 4733 event payloads. */
interface RtpCapture {
  readonly audio: Int16Array[];
  readonly events: { event: number; end: boolean; duration: number; timestamp: number }[];
  readonly done: Promise<void>;
}

/** Receives RTP on `sock` until it closes: PT 0 decoded as µ-law, PT 101 parsed (RFC 4733 §2.3). */
function captureRtp(sock: Deno.DatagramConn): RtpCapture {
  const audio: Int16Array[] = [];
  const events: RtpCapture["events"] = [];
  const done = (async () => {
    const buf = new Uint8Array(2048);
    for (;;) {
      let n: number;
      try {
        const [data] = await sock.receive(buf);
        n = data.length;
      } catch {
        return;
      }
      if (n < 12 || buf[0] >> 6 !== 2) continue;
      const cc = buf[0] & 0x0f;
      const pt = buf[1] & 0x7f;
      const at = 12 + 4 * cc;
      const view = new DataView(buf.buffer, 0, n);
      if (pt === 0) {
        const pcm = new Int16Array(n - at);
        ulawDecode(buf.subarray(at, n), pcm);
        audio.push(pcm);
      } else if (pt === 101 && n >= at + 4) {
        events.push({
          event: buf[at],
          end: (buf[at + 1] & 0x80) !== 0,
          duration: view.getUint16(at + 2),
          timestamp: view.getUint32(4),
        });
      }
    }
  })();
  return { audio, events, done };
}

function joinPcm(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((s, f) => s + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

Deno.test({
  name:
    "server dials sipp UAS: 180 then 200, the peer hears the room's 1 kHz and digit 5, BYE on hangup",
  ignore,
  fn: () =>
    rig(async ({ srv, rec, sipp }) => {
      const rtp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      const capture = captureRtp(rtp);
      const ws = new PcmClient(wsUrl(srv.url, "/v1/legs/websocket?room_id=r6&sample_rate=8000"), {
        rate: 8000,
        toneHz: 1000,
        amplitude: 0.3,
      });
      try {
        await ws.opened;
        ws.startSending();
        const run = await sipp({
          scenario: "uas_answer.xml",
          keys: { rtp_port: String((rtp.addr as Deno.NetAddr).port) },
          timeoutS: 25,
        });
        const leg = await dialSipp(srv, run.port, { codecs: ["PCMU"], room_id: "r6" });
        await waitEvent(rec, "leg.connected", leg, 15_000);
        await waitFor(() => capture.audio.length >= 50, 15_000, "50 RTP packets at the peer");
        await waitFor(
          () => bestToneRatio(joinPcm(capture.audio), 8000, 1000) > 0.8,
          10_000,
          "1 kHz at the peer",
        );

        const r = await call(srv.url, "POST", `/v1/legs/${leg}/dtmf`, { digits: "5" });
        assert.equal(r.status, 200, r.text);
        // RFC 4733 §2.5.1.4: the end packet goes out three times.
        await waitFor(
          () => capture.events.filter((e) => e.end).length >= 3,
          10_000,
          "three RFC 4733 end packets",
        );
        const events = capture.events;
        assert.ok(events.every((e) => e.event === 5), JSON.stringify(events));
        assert.equal(new Set(events.map((e) => e.timestamp)).size, 1, "one event, one timestamp");
        const ends = events.filter((e) => e.end);
        assert.ok(ends[0].duration >= 400, `event lasted ${ends[0].duration} samples`);
        assert.ok(ends.every((e) => e.duration === ends[0].duration), JSON.stringify(ends));

        const del = await call(srv.url, "DELETE", `/v1/legs/${leg}`);
        assert.equal(del.status, 202, del.text);
        const result = await run.finished;
        assert.equal(result.code, 0, describeSipp(result));
        assert.equal(result.successful, 1, describeSipp(result));
        assert.equal(sippMessages(result, "received", /^ACK /).length, 1, "the 2xx was ACKed once");
        const bye = sippMessages(result, "received", /^BYE /)[0];
        assert.ok(bye, describeSipp(result));
        assert.match(
          bye.text.split("\n")[0],
          new RegExp(`^BYE sip:sipp@127\\.0\\.0\\.1:${run.port}`),
        );
        const end = await waitEvent(rec, "leg.disconnected", leg);
        assert.equal(end.cdr.reason, "api_hangup");
      } finally {
        rtp.close();
        await capture.done;
        await ws.close();
      }
    }),
});

Deno.test({
  name:
    "server dials sipp UAS: 486 ends the leg busy, endless ringing hits ring_timeout and CANCELs",
  ignore,
  fn: () =>
    rig(async ({ srv, rec, sipp }) => {
      const busy = await sipp({ scenario: "uas_busy.xml", timeoutS: 15 });
      let leg = await dialSipp(srv, busy.port);
      let end = await waitEvent(rec, "leg.disconnected", leg);
      assert.equal(end.cdr.reason, "busy");
      let result = await busy.finished;
      assert.equal(result.code, 0, describeSipp(result));
      assert.equal(sippMessages(result, "received", /^ACK /, "1 ACK").length, 1, "486 ACKed");
      await busy.close();

      const ringing = await sipp({ scenario: "uas_no_answer.xml", timeoutS: 15 });
      leg = await dialSipp(srv, ringing.port, { ring_timeout: 1 });
      end = await waitEvent(rec, "leg.disconnected", leg);
      assert.equal(end.cdr.reason, "ring_timeout");
      result = await ringing.finished;
      assert.equal(result.code, 0, describeSipp(result));
      const invite = sippMessages(result, "received", /^INVITE /)[0];
      const cancel = sippMessages(result, "received", /^CANCEL /)[0];
      assert.ok(invite && cancel, describeSipp(result));
      const branch = (text: string) => text.match(/^Via:.*;branch=([^;\s]+)/m)?.[1];
      assert.equal(branch(cancel.text), branch(invite.text), "CANCEL on the INVITE's branch");
      assert.equal(sippMessages(result, "received", /^ACK /).length, 1, "487 ACKed");
      assert.equal(findAll(rec, "leg.connected").length, 0);
    }),
});
