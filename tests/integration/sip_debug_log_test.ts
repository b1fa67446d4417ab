/**
 * SIP_DEBUG on a running server: every SIP message in and out is logged with its full wire form
 * (and nothing is logged without it).
 */
import assert from "node:assert/strict";
import { startTestServer } from "../helpers/server.ts";
import { optionsRequest, RawUdpPeer } from "../helpers/sip_raw.ts";
import { Logger } from "../../src/log/logger.ts";

/** Starts a server with SIP_DEBUG set as given, sends one OPTIONS, returns the wire log lines. */
async function wireLines(debug: string): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger("info", {}, (line) => lines.push(JSON.parse(String(line))));
  const srv = await startTestServer(
    { MEDIA_WORKERS: "1", SIP_DEBUG: debug, LOG_LEVEL: "info" },
    { logger },
  );
  const peer = new RawUdpPeer(srv.sipPort);
  try {
    const callId = `debug-${crypto.randomUUID()}`;
    await peer.send(optionsRequest({ port: peer.port, callId }));
    const ok = await peer.response({ status: 200, callId, ms: 5000 });
    assert.ok(ok, "OPTIONS answered");
  } finally {
    await peer.close();
    await srv.shutdown();
  }
  return lines.filter((l) => l.msg === "sip wire");
}

Deno.test("SIP_DEBUG=true logs the full wire form of each SIP message in and out", async () => {
  const wire = await wireLines("true");
  const inbound = wire.find((l) => l.direction === "in");
  const outbound = wire.find((l) => l.direction === "out");
  assert.ok(inbound && outbound, JSON.stringify(wire));
  assert.match(String(inbound.wire), /^OPTIONS sip:probe@127\.0\.0\.1 SIP\/2\.0\r\nVia: /);
  assert.match(String(outbound.wire), /^SIP\/2\.0 200 OK\r\n[\s\S]*\r\nCSeq: 1 OPTIONS\r\n/);
  assert.equal(inbound.transport, "udp");
  assert.match(String(inbound.peer), /^127\.0\.0\.1:\d+$/);
});

Deno.test("without SIP_DEBUG no SIP message is logged", async () => {
  assert.deepEqual(await wireLines("false"), []);
});
