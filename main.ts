/**
 * Entry point: `deno task run`. Reads the environment once, starts the server, prints where it
 * listens, and shuts down gracefully on SIGTERM/SIGINT (exit 0). A bad configuration exits 2
 * with a message naming the variable and the value.
 */
import { ConfigError, loadConfig } from "./src/config/config.ts";
import { startServer } from "./src/server.ts";

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig(Deno.env.toObject());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`voiceblender: configuration error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  let server;
  try {
    server = await startServer(config);
  } catch (err) {
    // A port in use, an unreadable certificate…: one line naming the cause, not a stack trace.
    const why = err instanceof Error ? err.message : String(err);
    if (err instanceof ConfigError) {
      console.error(`voiceblender: configuration error: ${why}`);
      return 2;
    }
    console.error(`voiceblender: cannot start: ${why}`);
    return 1;
  }
  console.log(
    `voiceblender ${config.instanceId} listening on ${server.url} (REST /v1, VSI /v1/vsi, /metrics)`,
  );

  const stopped = Promise.withResolvers<void>();
  const onSignal = () => {
    server.shutdown().then(() => stopped.resolve(), (err) => {
      console.error("voiceblender: shutdown failed:", err);
      stopped.resolve();
    });
  };
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  await stopped.promise;
  Deno.removeSignalListener("SIGTERM", onSignal);
  Deno.removeSignalListener("SIGINT", onSignal);
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
