/** Test helpers: an in-process server on an ephemeral loopback port and small HTTP utilities. */
import { loadConfig } from "../../src/config/config.ts";
import { Logger } from "../../src/log/logger.ts";
import { type RunningServer, type ServerOptions, startServer } from "../../src/server.ts";
import type { PublishedEvent } from "../../src/events/event.ts";

/** A logger that discards everything (tests assert on behaviour, not logs). */
export const quietLogger = new Logger("error", {}, () => {});

/**
 * Starts a server with `env` on 127.0.0.1:0 with an ephemeral SIP port (`SIP_PORT=0`, so parallel
 * tests never collide; read it from `sipPort`). `env` may override both.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: ServerOptions = {},
): Promise<RunningServer> {
  const config = loadConfig({
    HTTP_ADDR: "127.0.0.1:0",
    SIP_PORT: "0",
    LOG_LEVEL: "error",
    ...env,
  });
  return await startServer(config, { logger: quietLogger, runtimeMetrics: false, ...options });
}

/** A parsed HTTP reply. */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

/** Sends a request and reads the whole body (never leaks a response body). */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Collects events published on the server's bus. */
export function recordEvents(srv: RunningServer): { events: PublishedEvent[]; stop: () => void } {
  const events: PublishedEvent[] = [];
  const stop = srv.ctx.bus.subscribe((e) => events.push(e));
  return { events, stop };
}
