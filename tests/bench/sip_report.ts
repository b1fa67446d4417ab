/** The SIP benchmark's Markdown report. */
import type { LatencyRow, LoadRow } from "./sip_measure.ts";

/** Results of the whole SIP benchmark. */
export interface SipBenchResult {
  /** One row per round: the first on a cold server, the next ones JIT-warm. */
  setup: {
    round: number;
    workers: number;
    calls: number;
    inFlight: number;
    ok: number;
    failed: number;
    callsPerSecond: number;
    setupP50: number;
    setupP95: number;
    setupMax: number;
    cpuUsPerSetup: number;
    byePerSecond: number;
    cpuUsPerTeardown: number;
  }[];
  idleLatency?: LatencyRow;
  ramp: LoadRow[];
  /** 50 × 2 with every room's two legs on different workers (relay rings), vs ramp[0]. */
  crossing?: LoadRow;
  memory?: { baselineKiB: number; perLegNaiveKiB: number; perLegSlopeKiB: number };
  janus: { row: LoadRow; janus: number; janusShape: string }[];
  notes: string[];
}

const f0 = (n: number) => Number.isFinite(n) ? n.toFixed(0) : "–";
const f1 = (n: number) => Number.isFinite(n) ? n.toFixed(1) : "–";
const f2 = (n: number) => Number.isFinite(n) ? n.toFixed(2) : "–";
const pct = (n: number) => Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : "–";

/** Formats the results as Markdown tables. */
export function formatSipReport(r: SipBenchResult): string {
  const out: string[] = [];
  if (r.setup.length > 0) {
    out.push(
      "| call setup (PCMU, inbound, answered over REST) | workers | calls/s | INVITE→200 p50 / p95 / max ms | CPU µs / setup | BYE/s | CPU µs / teardown | failed |",
      "|---|---:|---:|---|---:|---:|---:|---:|",
      ...r.setup.map((s) =>
        `| round ${s.round}${
          s.round === 1 ? " (cold)" : ""
        }: ${s.calls} calls, ≤ ${s.inFlight} in flight | ${s.workers} | ${f0(s.callsPerSecond)} | ${
          f1(s.setupP50)
        } / ${f1(s.setupP95)} / ${f1(s.setupMax)} | ${f0(s.cpuUsPerSetup)} | ${
          f0(s.byePerSecond)
        } | ${f0(s.cpuUsPerTeardown)} | ${s.failed} |`
      ),
      "",
      "INVITE→200 includes the app's reaction (leg.ringing over VSI, then POST /answer); CPU per " +
        "setup is the server process's over the dial (REST, VSI, SIP, RTP open in a worker).",
      "",
    );
  }
  const loadHead = [
    "| load | workers | legs | rooms / endpoints per worker | legs crossing workers | CPU µs / leg-s (1 s windows min–max) | CPU % of one core | mixer tick late p50 / p99 / max ms | skipped ticks | RSS MiB | packets received / expected | legs hearing room-mates, not themselves | phones' send tick late p50 / p99 ms |",
    "|---|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---|---|",
  ];
  const loadLine = (x: LoadRow) =>
    `| ${x.name} | ${x.workers} | ${x.legs} | ${x.roomsPerWorker} / ${x.endpointsPerWorker} | ${x.crossing} | ${
      f0(x.cpuUsPerLegSecond)
    } (${f0(x.cpuRange[0])}–${f0(x.cpuRange[1])}) | ${f1(x.cpuPctOfOneCore)} | ${f2(x.lateP50)} / ${
      f2(x.lateP99)
    } / ${f2(x.lateMax)} | ${x.skipped} | ${f1(x.rssKiB / 1024)} | ${
      pct(x.deliveredRatio)
    } | ${x.heard.passed}/${x.heard.checked}${
      x.heard.skipped > 0 ? ` (${x.heard.skipped} unchecked: shared tone)` : ""
    } | ${f1(x.clientLateP50)} / ${f1(x.clientLateP99)} |`;
  const loads = r.crossing ? [...r.ramp, r.crossing] : r.ramp;
  if (loads.length > 0) out.push(...loadHead, ...loads.map(loadLine), "");
  const lat = [r.idleLatency, ...r.ramp.map((x) => x.latency)].filter((x) => x !== undefined);
  if (lat.length > 0) {
    out.push(
      "| latency through the mixer (A's packet sent → B's packet received, to the sample) | bursts | p50 ms | p95 ms | p99 ms | max ms | missed | 1 kHz tone ratio, worst burst |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      ...lat.map((l) =>
        `| ${l.where} | ${l.bursts} | ${f1(l.p50)} | ${f1(l.p95)} | ${f1(l.p99)} | ${
          f1(l.max)
        } | ${l.missed} | ${f2(l.toneRatio)} |`
      ),
      "",
      "Latency: A's packet with a 1 kHz burst leaves the phone → B's packet with its first loud " +
        "sample arrives, both timed in the load client (+ the onset's offset in the packet). It " +
        "includes the wait for the mixer's next tick (0–20 ms, a phase fixed per run) and any " +
        "frames queued in the server's ingress (passthrough jitter buffer, up to " +
        "SIP_JITTER_BUFFER_MAX_MS); not the phones' own 20 ms packetization or playout buffer. " +
        "Under load the client's own lateness adds to it (see the phones' send tick column).",
      "",
    );
  }
  if (r.memory) {
    out.push(
      "| memory (server RSS) | KiB |",
      "|---|---:|",
      `| after warm-up, no calls | ${f0(r.memory.baselineKiB)} |`,
      `| per leg, (RSS at 400 legs − no calls) / 400 | ${f1(r.memory.perLegNaiveKiB)} |`,
      `| per leg, (RSS at 400 legs − RSS at 100 legs) / 300 | ${f1(r.memory.perLegSlopeKiB)} |`,
      "",
    );
  }
  if (r.janus.length > 0) {
    out.push(
      ...loadHead,
      ...r.janus.map((j) => loadLine(j.row)),
      "",
      "| Janus shape | ours CPU µs / participant-s | Janus AudioBridge | Janus ÷ ours |",
      "|---|---:|---:|---:|",
      ...r.janus.map((j) =>
        `| ${j.row.name} | ${f0(j.row.cpuUsPerLegSecond)} | ${j.janus} | ${
          f1(j.janus / j.row.cpuUsPerLegSecond)
        } × |`
      ),
      "",
      "Janus figures: deno-media-physics.md §8 (AudioBridge 1.1.2, plain-RTP PCMU, 30 s windows; " +
        "10 × 5 at 8 kHz, 50 × 2 at 16 kHz). Ours: one 5 s window on a shared 2-vCPU box.",
      "",
    );
  }
  if (r.notes.length > 0) out.push("Notes:", ...r.notes.map((n) => `- ${n}`));
  return out.join("\n");
}
