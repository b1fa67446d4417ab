/**
 * Runs one VSI connection's client frames strictly in arrival order (compat-notes §2.4: upstream
 * executes commands on its receive loop, so replies come back in request order and a slow command
 * delays the ones behind it). Each command goes through {@link runCommand}, the same operation
 * REST uses; its result or error becomes a reply frame handed to `send`.
 */
import { ApiError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { runCommand } from "../ops/commands.ts";
import type { OpContext } from "../ops/operation.ts";
import {
  type CommandFrame,
  errorFrame,
  INVALID_JSON_FRAME,
  MAX_CLIENT_FRAME_BYTES,
  parseClientFrame,
  resultFrame,
  utf8Exceeds,
} from "./vsi_frames.ts";

/** Frames queued behind the running one before further ones are refused with 429. */
export const MAX_PENDING_COMMANDS = 1024;

/** What the sequencer needs from its connection. */
export interface CommandSequencerInit {
  readonly ctx: OpContext;
  /** Aborted when the connection stops: queued frames are skipped, running ones see it. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly clientId: number;
  /** Queues a reply on the connection's send path. */
  readonly send: (frame: string) => void;
  /** The client sent `stop`. */
  readonly stop: () => void;
}

/** A per-connection promise chain of client text frames. */
export class CommandSequencer {
  readonly #init: CommandSequencerInit;
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  constructor(init: CommandSequencerInit) {
    this.#init = init;
  }

  /** Frames accepted but not yet handled. */
  get pending(): number {
    return this.#pending;
  }

  /** Resolves once every frame accepted so far has been handled. */
  get idle(): Promise<void> {
    return this.#tail;
  }

  /** Queues a client text frame behind the ones already accepted. */
  accept(text: string): void {
    if (this.#pending >= MAX_PENDING_COMMANDS) {
      this.#init.send(errorFrame(undefined, 429, "too many pending commands"));
      return;
    }
    this.#pending++;
    this.#tail = this.#tail.then(() => this.#handle(text));
  }

  async #handle(text: string): Promise<void> {
    try {
      if (this.#init.signal.aborted) return;
      if (utf8Exceeds(text, MAX_CLIENT_FRAME_BYTES)) {
        const message = `frame too large (limit ${MAX_CLIENT_FRAME_BYTES} bytes)`;
        this.#init.send(errorFrame(undefined, 413, message));
        return;
      }
      const msg = parseClientFrame(text);
      if (msg === null) this.#init.send(INVALID_JSON_FRAME);
      else if (msg.type === "stop") this.#init.stop();
      else if (msg.type !== "pong") await this.#execute(msg);
    } catch (err) {
      this.#fail("message", err);
    } finally {
      this.#pending--;
    }
  }

  async #execute(msg: CommandFrame): Promise<void> {
    let frame: string;
    try {
      const result = await runCommand(this.#init.ctx, msg.type, msg.payload, {
        signal: this.#init.signal,
      });
      frame = resultFrame(msg.type, msg.requestId, result.body);
    } catch (err) {
      if (err instanceof ApiError) {
        frame = errorFrame(msg.requestId, err.status, err.message);
      } else {
        this.#fail(msg.type, err);
        frame = errorFrame(msg.requestId, 500, "internal error");
      }
    }
    this.#init.send(frame);
  }

  #fail(site: string, err: unknown): void {
    try {
      const fields = { client_id: this.#init.clientId, site, error: err };
      this.#init.logger.error("vsi command failed", fields);
      this.#init.ctx.metrics.recoveredPanics.inc({ component: "vsi", site });
    } catch {
      // Reporting must not turn into an unhandled rejection.
    }
  }
}
