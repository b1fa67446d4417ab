/**
 * The server process of the SIP benchmark (spawned by sip_processes.ts with the `run` task's deno
 * flags): `startServer` from the environment, like main.ts, plus a stats pipe — it prints
 * `{"url","sipPort","pid"}` once listening, answers `{"id","cmd":"stats"}` lines on stdin with the
 * media workers' statistics, and shuts down on `{"cmd":"quit"}` or stdin EOF.
 */
import { loadConfig } from "../../src/config/config.ts";
import { startServer } from "../../src/server.ts";
import { emitJson, jsonLines } from "./sip_bench_util.ts";

const srv = await startServer(loadConfig(Deno.env.toObject()));
emitJson({ url: srv.url, sipPort: srv.sipPort, pid: Deno.pid });
for await (const c of jsonLines(Deno.stdin.readable)) {
  if (c.cmd === "quit") break;
  if (c.cmd === "stats") {
    emitJson({
      id: c.id,
      workers: srv.ctx.media.stats(),
      legs: srv.ctx.legs.size,
      rooms: srv.ctx.rooms.size,
      crossing: srv.ctx.media.crossingCount,
    });
  }
}
await srv.shutdown({ drainMs: 100 });
Deno.exit(0);
