/**
 * Main-thread side of SIP legs' media: allocates RTP ports, asks the chosen media worker to open
 * the leg's RTP session there (the socket then lives in that worker for the whole call, next to
 * the mixer), and turns the worker's RTP events into callbacks. The main thread never sees a
 * packet.
 */
import type { Logger } from "../log/logger.ts";
import type { RtpQuality } from "../rtp/receiver_stats.ts";
import type { RtpOpenOptions, WorkerEvent } from "../media/protocol.ts";
import type { RtpDirection, RtpRemote } from "../media/rtp_options.ts";
import type { MediaPlane } from "./worker_pool.ts";
import type { PortAllocator } from "./port_allocator.ts";

/** Ports a session was opened on. */
export interface RtpOpened {
  readonly localPort: number;
  readonly localRtcpPort: number;
}

/** What a SIP leg hears about its media. */
export interface RtpListener {
  dtmf?(endpointId: string, digit: string): void;
  timeout?(endpointId: string): void;
  event?(endpointId: string, kind: string): void;
  closed?(endpointId: string, quality: RtpQuality | null): void;
}

/** How many ports to try when another process holds the first ones. */
const OPEN_ATTEMPTS = 5;

/** RTP sessions of SIP legs, placed in media workers. */
export class RtpEndpoints {
  readonly #plane: MediaPlane;
  readonly #ports: PortAllocator;
  readonly #logger: Logger;
  readonly #listener: RtpListener;
  readonly #pending = new Map<string, (ev: WorkerEvent) => void>();
  readonly #portOf = new Map<string, number>();
  readonly #dtmfErrors = new Map<string, (message: string) => void>();
  /** Sessions being closed for a reopen: their close is not reported to the listener. */
  readonly #reopening = new Map<string, () => void>();
  readonly #unsubscribe: () => void;

  constructor(plane: MediaPlane, ports: PortAllocator, logger: Logger, listener: RtpListener = {}) {
    this.#plane = plane;
    this.#ports = ports;
    this.#logger = logger;
    this.#listener = listener;
    this.#unsubscribe = plane.onFeatureEvent("rtp.", (ev) => this.#onEvent(ev));
  }

  /**
   * Opens the RTP session of endpoint `id` on the worker mixing `roomId` (when given). Resolves
   * with the bound ports; rejects (503 when ports are exhausted) without leaving anything behind.
   */
  async open(
    id: string,
    session: Omit<RtpOpenOptions, "port">,
    options: { roomId?: string; speech?: boolean; port?: number } = {},
  ): Promise<RtpOpened> {
    this.#plane.placeNative(id, { roomId: options.roomId });
    try {
      for (let attempt = 1;; attempt++) {
        // A reopen keeps its port (already reserved); a fresh session takes the next free one.
        const port = attempt === 1 && options.port !== undefined
          ? options.port
          : this.#ports.allocate();
        const reply = await this.#request(id, {
          t: "rtp.open",
          endpointId: id,
          speech: options.speech ?? false,
          session: { ...session, port },
        });
        if (reply.t === "rtp.opened") {
          this.#portOf.set(id, port);
          this.#plane.setNativeFormat(id, reply.sampleRate, options.speech ?? false);
          return { localPort: reply.localPort, localRtcpPort: reply.localRtcpPort };
        }
        this.#ports.release(port);
        if (reply.t === "rtp.failed" && reply.addrInUse && attempt < OPEN_ATTEMPTS) continue;
        throw new Error(reply.t === "rtp.failed" ? reply.message : "RTP session did not open");
      }
    } catch (err) {
      this.#plane.detach(id);
      throw err;
    }
  }

  /** Points the session at a new remote address (re-INVITE / UPDATE). */
  updateRemote(id: string, remote: RtpRemote): void {
    this.#plane.postToEndpoint(id, { t: "rtp.remote", endpointId: id, remote });
  }

  /** Hold/resume: what our side sends and receives. */
  setDirection(id: string, direction: RtpDirection): void {
    this.#plane.postToEndpoint(id, { t: "rtp.direction", endpointId: id, direction });
  }

  /** Queues RFC 4733 digits; `onError` hears a failure reported by the worker. */
  sendDtmf(id: string, digits: string, onError?: (message: string) => void): void {
    if (onError) this.#dtmfErrors.set(id, onError);
    this.#plane.postToEndpoint(id, { t: "rtp.dtmf", endpointId: id, digits });
  }

  /** Closes the session; its port is released once the worker reports the sockets closed. */
  close(id: string): void {
    this.#plane.detach(id);
  }

  /**
   * Closes the session and opens it again on the same port with other settings (the peer's
   * answer chose another codec than the one the session started with). The port stays reserved
   * throughout, so the SDP already sent stays true. The endpoint must not be in a room.
   */
  async reopen(
    id: string,
    session: Omit<RtpOpenOptions, "port">,
    options: { roomId?: string; speech?: boolean } = {},
  ): Promise<RtpOpened> {
    const port = this.#portOf.get(id);
    if (port === undefined) throw new Error(`Cannot reopen RTP: ${id} has no session`);
    this.#portOf.delete(id);
    const closed = new Promise<void>((resolve) => this.#reopening.set(id, resolve));
    this.#plane.detach(id);
    await closed;
    return await this.open(id, session, { ...options, port });
  }

  /** Stops listening to worker events. */
  dispose(): void {
    this.#unsubscribe();
  }

  #request(id: string, cmd: Parameters<MediaPlane["postToEndpoint"]>[1]): Promise<WorkerEvent> {
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      if (!this.#plane.postToEndpoint(id, cmd)) {
        this.#pending.delete(id);
        resolve({
          t: "rtp.failed",
          endpointId: id,
          message: "endpoint vanished",
          addrInUse: false,
        });
      }
    });
  }

  #onEvent(ev: WorkerEvent): void {
    switch (ev.t) {
      case "rtp.opened":
      case "rtp.failed": {
        const waiter = this.#pending.get(ev.endpointId);
        this.#pending.delete(ev.endpointId);
        waiter?.(ev);
        return;
      }
      case "rtp.closed": {
        const reopened = this.#reopening.get(ev.endpointId);
        if (reopened) {
          this.#reopening.delete(ev.endpointId);
          reopened();
          return;
        }
        const port = this.#portOf.get(ev.endpointId);
        this.#portOf.delete(ev.endpointId);
        this.#dtmfErrors.delete(ev.endpointId);
        if (port !== undefined) this.#ports.release(port);
        this.#listener.closed?.(ev.endpointId, ev.quality);
        return;
      }
      case "rtp.dtmf_received":
        this.#listener.dtmf?.(ev.endpointId, ev.digit);
        return;
      case "rtp.dtmf_failed":
        this.#dtmfErrors.get(ev.endpointId)?.(ev.message);
        return;
      case "rtp.timeout":
        this.#listener.timeout?.(ev.endpointId);
        return;
      case "rtp.event":
        this.#listener.event?.(ev.endpointId, ev.kind);
        return;
      default:
        this.#logger.debug("unhandled rtp event", { type: ev.t });
    }
  }
}
