import assert from "node:assert/strict";
import { Logger } from "../../../../src/log/logger.ts";
import { sipDebugHook } from "../../../../src/sip/transport/mod.ts";
import { options, wire } from "./_sockets.ts";

Deno.test("sipDebugHook() logs the full wire form with direction and peer", () => {
  const lines: string[] = [];
  const hook = sipDebugHook(new Logger("debug", {}, (l) => lines.push(l)));
  const bytes = wire(options("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKdbg"));
  hook({
    direction: "out",
    transport: "udp",
    bytes,
    peer: { host: "192.0.2.2", port: 5060 },
    local: { host: "192.0.2.1", port: 5060 },
  });
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]);
  assert.equal(line.msg, "sip wire");
  assert.equal(line.direction, "out");
  assert.equal(line.peer, "192.0.2.2:5060");
  assert.equal(line.wire, new TextDecoder().decode(bytes));
  assert.equal(line.bytes, bytes.length);
});
