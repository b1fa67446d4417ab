/**
 * Structured JSON-lines logger. One object per line on stderr:
 * `{"ts":"…","level":"info","msg":"…", …fields}`. Keys that look like secrets are redacted, so a
 * caller passing a whole request body cannot leak a webhook secret or an API key.
 */

/** Log levels in increasing severity, as `LOG_LEVEL` names them. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /secret|password|passwd|api_key|apikey|token|authorization|credential/i;

/** Fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** Where formatted lines go; tests substitute an array sink. */
export type LogSink = (line: string) => void;

const encoder = new TextEncoder();
const stderrSink: LogSink = (line) => {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed (e.g. detached process): logging must never take the server down.
  }
};

/** Returns a copy of `fields` with every secret-looking key replaced by `"[redacted]"`. */
export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEY.test(k)) out[k] = v === undefined || v === "" ? v : "[redacted]";
    else if (v instanceof Error) out[k] = v.message;
    else if (v && typeof v === "object" && !Array.isArray(v)) out[k] = redact(v as LogFields);
    else out[k] = v;
  }
  return out;
}

/** A leveled structured logger; `child()` binds fields such as `leg_id` or `component`. */
export class Logger {
  readonly #min: number;
  readonly #bound: LogFields;
  readonly #sink: LogSink;

  constructor(level: LogLevel = "info", bound: LogFields = {}, sink: LogSink = stderrSink) {
    this.#min = SEVERITY[level];
    this.#bound = bound;
    this.#sink = sink;
  }

  /** A logger with extra fields on every line. */
  child(fields: LogFields): Logger {
    const level = (Object.keys(SEVERITY) as LogLevel[]).find((l) => SEVERITY[l] === this.#min)!;
    return new Logger(level, { ...this.#bound, ...fields }, this.#sink);
  }

  /** True when lines at `level` are written (guards costly field construction). */
  enabled(level: LogLevel): boolean {
    return SEVERITY[level] >= this.#min;
  }

  debug(msg: string, fields?: LogFields): void {
    this.#write("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#write("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#write("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#write("error", msg, fields);
  }

  #write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (SEVERITY[level] < this.#min) return;
    const line = {
      ts: new Date().toISOString(),
      level,
      msg,
      ...redact({ ...this.#bound, ...fields }),
    };
    this.#sink(JSON.stringify(line));
  }
}
