/**
 * The far side of the event benchmark, run as a separate process so that its CPU is not charged
 * to the server: either N VSI WebSocket clients or N webhook receivers, counting what arrives.
 *
 *   deno run --allow-net events_client.ts vsi <ws-url> <clients>
 *   deno run --allow-net events_client.ts webhooks <receivers>
 *
 * Stdout protocol, one line each: `ready [urls…]` once set up, then `count <n>` whenever the
 * total of delivered benchmark events changed (at most every 20 ms). Closing stdin ends the
 * process cleanly.
 */

/** Only frames of this event type are counted (the `connected` greeting and pings are not). */
export const BENCH_EVENT_TYPE = "bench.event";
const MARKER = `"type":"${BENCH_EVENT_TYPE}"`;
const REPORT_MS = 20;

const encoder = new TextEncoder();
const out = (line: string) => Deno.stdout.writeSync(encoder.encode(line + "\n"));

let total = 0;

async function untilStdinCloses(): Promise<void> {
  for await (const _ of Deno.stdin.readable) {
    // Input is ignored; only EOF matters.
  }
}

async function runVsi(url: string, clients: number): Promise<void> {
  const sockets: WebSocket[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < clients; i++) {
    const ws = new WebSocket(url);
    sockets.push(ws);
    opened.push(
      new Promise((resolve, reject) => {
        ws.onmessage = (e) => {
          const data = e.data as string;
          if (data.includes(MARKER)) total++;
          else if (data === '{"type":"connected"}') resolve();
          else if (data.includes('"type":"ping"')) ws.send('{"type":"pong"}');
        };
        ws.onerror = (e) => reject(new Error(`client ${i}: ${(e as ErrorEvent).message}`));
      }),
    );
  }
  await Promise.all(opened);
  out("ready");
  await untilStdinCloses();
  await Promise.all(sockets.map((ws) =>
    new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      ws.onclose = () => resolve();
      ws.close(1000);
    })
  ));
}

async function runWebhooks(receivers: number): Promise<void> {
  const servers: Deno.HttpServer<Deno.NetAddr>[] = [];
  for (let i = 0; i < receivers; i++) {
    servers.push(Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const body = await req.text();
      if (body.includes(MARKER)) total++;
      return new Response(null, { status: 200 });
    }));
  }
  out(`ready ${servers.map((s) => `http://127.0.0.1:${s.addr.port}/hook`).join(" ")}`);
  await untilStdinCloses();
  await Promise.all(servers.map((s) => s.shutdown()));
}

if (import.meta.main) {
  let reported = -1;
  const reporter = setInterval(() => {
    if (total !== reported) {
      reported = total;
      out(`count ${total}`);
    }
  }, REPORT_MS);
  const [mode, ...rest] = Deno.args;
  try {
    if (mode === "vsi") await runVsi(rest[0], Number(rest[1]));
    else if (mode === "webhooks") await runWebhooks(Number(rest[0]));
    else throw new Error(`unknown mode ${mode}; expected vsi or webhooks`);
  } finally {
    clearInterval(reporter);
    out(`count ${total}`);
  }
}
