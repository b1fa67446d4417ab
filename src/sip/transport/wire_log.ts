/**
 * The `SIP_DEBUG` hook that logs the RFC 3261 wire form of every message sent and received, one
 * structured line each. Very verbose by design; only installed when `SIP_DEBUG` is true.
 */
import type { Logger } from "../../log/logger.ts";
import type { WireHook } from "./types.ts";

const decoder = new TextDecoder();

/** A `WireHook` writing `{msg: "sip wire", direction, transport, peer, local, wire}` lines. */
export function sipDebugHook(log: Logger): WireHook {
  return (e) => {
    log.info("sip wire", {
      direction: e.direction,
      transport: e.transport,
      peer: `${e.peer.host}:${e.peer.port}`,
      local: `${e.local.host}:${e.local.port}`,
      bytes: e.bytes.length,
      wire: decoder.decode(e.bytes),
    });
  };
}
