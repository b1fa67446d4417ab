/**
 * Prometheus metrics (prom-client). One {@link Metrics} per server instance with its own
 * registry, so several servers can run in one process (tests) without name clashes. Counters are
 * registered at zero; metric names follow the original implementation so dashboards carry over.
 */
import client from "prom-client";
import { cpuUsage } from "node:process";

/** Webhook delivery outcomes: exactly one per delivery. */
export type WebhookOutcome = "success" | "exhausted" | "marshal_error" | "request_error";

const DURATION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1800, 3600];

/** Sources for the gauges that are read at scrape time. */
export interface GaugeSources {
  activeLegs(): number;
  activeRooms(): number;
}

/** The server's metric set. */
export class Metrics {
  readonly registry: client.Registry;
  readonly legsTotal: client.Counter<"type" | "state">;
  readonly disconnectReasons: client.Counter<"type" | "reason">;
  readonly callDuration: client.Histogram<"type">;
  readonly callTotalDuration: client.Histogram<"type">;
  readonly recoveredPanics: client.Counter<"component" | "site">;
  readonly webhookEnqueued: client.Counter;
  readonly webhookDropped: client.Counter;
  readonly webhookDeliveries: client.Counter<"outcome">;
  readonly vsiEventsDropped: client.Counter;
  readonly vsiClients: client.Gauge;
  readonly eventsPublished: client.Counter<"type">;

  constructor(sources: GaugeSources, options: { runtime?: boolean } = {}) {
    const registers = [new client.Registry()];
    this.registry = registers[0];
    new client.Gauge({
      name: "voiceblender_active_legs",
      help: "Legs currently alive (any state before hung_up).",
      registers,
      collect() {
        this.set(sources.activeLegs());
      },
    });
    new client.Gauge({
      name: "voiceblender_active_rooms",
      help: "Rooms currently existing.",
      registers,
      collect() {
        this.set(sources.activeRooms());
      },
    });
    this.legsTotal = new client.Counter({
      name: "voiceblender_legs_total",
      help: "Legs created, by leg type and initial state.",
      labelNames: ["type", "state"],
      registers,
    });
    this.disconnectReasons = new client.Counter({
      name: "voiceblender_disconnect_reasons_total",
      help: "Leg disconnections by leg type and CDR reason.",
      labelNames: ["type", "reason"],
      registers,
    });
    this.callDuration = new client.Histogram({
      name: "voiceblender_call_duration_seconds",
      help: "Answered duration of legs that were connected, in seconds.",
      labelNames: ["type"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.callTotalDuration = new client.Histogram({
      name: "voiceblender_call_total_duration_seconds",
      help: "Total lifetime of legs from creation to disconnect, in seconds.",
      labelNames: ["type"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.recoveredPanics = new client.Counter({
      name: "voiceblender_recovered_panics_total",
      help: "Unexpected exceptions caught and contained, by component and site.",
      labelNames: ["component", "site"],
      registers,
    });
    this.webhookEnqueued = new client.Counter({
      name: "voiceblender_webhook_enqueued_total",
      help: "Webhook deliveries accepted into the delivery queue.",
      registers,
    });
    this.webhookDropped = new client.Counter({
      name: "voiceblender_webhook_dropped_total",
      help: "Webhook deliveries dropped because the queue was full.",
      registers,
    });
    this.webhookDeliveries = new client.Counter({
      name: "voiceblender_webhook_deliveries_total",
      help: "Finished webhook deliveries by outcome.",
      labelNames: ["outcome"],
      registers,
    });
    for (const outcome of ["success", "exhausted", "marshal_error", "request_error"]) {
      this.webhookDeliveries.inc({ outcome }, 0);
    }
    this.vsiEventsDropped = new client.Counter({
      name: "voiceblender_vsi_events_dropped_total",
      help: "Events dropped because a VSI client's buffer was full.",
      registers,
    });
    this.vsiClients = new client.Gauge({
      name: "voiceblender_vsi_clients",
      help: "Connected VSI WebSocket clients.",
      registers,
    });
    this.eventsPublished = new client.Counter({
      name: "voiceblender_events_published_total",
      help: "Events published on the bus, by type.",
      labelNames: ["type"],
      registers,
    });
    if (options.runtime !== false) registerRuntimeMetrics(registers);
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}

/**
 * Process metrics under the standard names. prom-client's own default collectors read
 * `/proc/self/*`, which Deno only allows under `--allow-all`, so under our scoped permissions
 * they would silently report zeros; these read the same facts through Deno's own APIs, under
 * the names prom-client uses so existing dashboards keep working.
 */
function registerRuntimeMetrics(registers: client.Registry[]): void {
  const startSeconds = Math.round((performance.timeOrigin) / 1000);
  new client.Counter({
    name: "process_cpu_user_seconds_total",
    help: "User CPU time spent, in seconds.",
    registers,
    collect() {
      // A counter fed from an absolute reading: reset, then add the current total.
      this.reset();
      this.inc(cpuUsage().user / 1e6);
    },
  });
  new client.Counter({
    name: "process_cpu_system_seconds_total",
    help: "System CPU time spent, in seconds.",
    registers,
    collect() {
      // A counter fed from an absolute reading: reset, then add the current total.
      this.reset();
      this.inc(cpuUsage().system / 1e6);
    },
  });
  new client.Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since the Unix epoch, in seconds.",
    registers,
    collect() {
      this.set(startSeconds);
    },
  });
  const memory: [string, string, keyof Deno.MemoryUsage][] = [
    ["process_resident_memory_bytes", "Resident memory size in bytes.", "rss"],
    ["nodejs_heap_size_total_bytes", "V8 heap size in bytes.", "heapTotal"],
    ["nodejs_heap_size_used_bytes", "V8 heap in use in bytes.", "heapUsed"],
    [
      "nodejs_external_memory_bytes",
      "Memory of objects bound to V8 outside its heap, in bytes.",
      "external",
    ],
  ];
  for (const [name, help, key] of memory) {
    new client.Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(Deno.memoryUsage()[key]);
      },
    });
  }
}
