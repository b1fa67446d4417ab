/**
 * WebSocket legs (compat-notes §3.1): `websocket_in` accepted on `GET /v1/legs/websocket` and
 * `websocket_out` dialled by `POST /v1/legs {"type":"websocket"}`. Audio is s16le mono PCM at the
 * leg's rate; the media worker resamples to the room rate.
 */
import { BaseLeg, type BaseLegInit, type LegDeps } from "./base_leg.ts";
import type { EndpointHandle, MediaPlane } from "../media_plane/worker_pool.ts";
import type { LegRate } from "../media/protocol.ts";
import {
  type WireFormat,
  type WsEndReason,
  type WsMediaTimings,
  WsMediaTransport,
} from "./ws_media.ts";

/** Media parameters of a WebSocket leg. */
export interface WsLegParams {
  readonly rate: LegRate;
  readonly wireFormat: WireFormat;
  readonly rtt: boolean;
  readonly speech: boolean;
  readonly timings?: WsMediaTimings;
  /** Called once the leg has media (connected); used to auto-join `room_id`. */
  readonly onConnected?: (leg: WebSocketLeg) => void;
  /** Called for each `{"type":"text"}` frame when the RTT channel is enabled. */
  readonly onText?: (leg: WebSocketLeg, text: string) => void;
}

/** A WebSocket leg in either direction. */
export class WebSocketLeg extends BaseLeg {
  readonly rate: LegRate;
  readonly wireFormat: WireFormat;
  readonly rtt: boolean;
  readonly #plane: MediaPlane;
  readonly #params: WsLegParams;
  #transport: WsMediaTransport | undefined;
  #endpoint: EndpointHandle | undefined;
  #dial: AbortController | undefined;
  #maxDurationTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(init: BaseLegInit, params: WsLegParams, deps: LegDeps, plane: MediaPlane) {
    super(init, deps);
    this.rate = params.rate;
    this.wireFormat = params.wireFormat;
    this.rtt = params.rtt;
    this.#params = params;
    this.#plane = plane;
  }

  /** The media endpoint id used with the media plane (the leg id), once connected. */
  get mediaEndpoint(): EndpointHandle | undefined {
    return this.#endpoint;
  }

  /**
   * Takes over an accepted socket (inbound): binds media, sends the `connected` frame and
   * publishes `leg.ringing` then `leg.connected` back to back (there is no ringing phase).
   */
  acceptSocket(socket: WebSocket): void {
    const start = () => {
      this.#bindTransport(socket);
      this.#transport!.sendJson({
        type: "connected",
        leg_id: this.id,
        participant_id: this.id,
        sample_rate: this.rate,
        format: "pcm_s16le",
      });
      this.publish("leg.ringing", { leg_type: this.type, headers: this.headersOrUndefined() });
      this.#connected();
    };
    if (socket.readyState === WebSocket.OPEN) start();
    else socket.addEventListener("open", start, { once: true });
  }

  /**
   * Dials `url` (outbound). Publishes `leg.ringing` now; on open the leg is connected, on failure
   * it ends with a reason from the HTTP status or the error (compat §1 WebSocket legs).
   */
  dial(url: string, headers: Record<string, string>, ringTimeoutMs: number): void {
    this.publish("leg.ringing", { leg_type: this.type, uri: url });
    const abort = new AbortController();
    this.#dial = abort;
    let socket: WebSocket;
    try {
      // Deno's WebSocket client accepts request headers as a non-standard option.
      socket = new WebSocket(url, { headers } as unknown as string[]);
    } catch {
      this.#endWith("ws_dial_failed");
      return;
    }
    const timer = ringTimeoutMs > 0
      ? setTimeout(() => {
        abort.abort();
        socket.close();
        this.#endWith("ring_timeout");
      }, ringTimeoutMs)
      : undefined;
    const onError = (ev: Event) => {
      if (timer !== undefined) clearTimeout(timer);
      if (abort.signal.aborted) return;
      abort.abort();
      this.#endWith(dialFailureReason((ev as ErrorEvent).message ?? ""));
    };
    socket.addEventListener("error", onError, { once: true });
    socket.addEventListener("open", () => {
      if (timer !== undefined) clearTimeout(timer);
      socket.removeEventListener("error", onError);
      if (abort.signal.aborted) {
        socket.close();
        return;
      }
      this.#dial = undefined;
      this.#bindTransport(socket);
      this.#connected();
    }, { once: true });
  }

  /** Whether the text channel is usable (enabled at creation and the socket is up). */
  get rttEnabled(): boolean {
    return this.rtt;
  }

  /** Sends a text message to the peer (RTT channel). */
  sendText(text: string): void {
    this.#transport?.sendJson({ type: "text", text });
  }

  /** Ends the call after `seconds` of connected time (0 = no limit). */
  setMaxDuration(seconds: number): void {
    if (seconds > 0) {
      this.#maxDurationTimer = setTimeout(() => this.hangup("max_duration"), seconds * 1000);
    }
  }

  /** The captured X-/P-/Authorization headers, or undefined when none. */
  headersOrUndefined(): Record<string, string> | undefined {
    return Object.keys(this.headers).length > 0 ? { ...this.headers } : undefined;
  }

  protected override terminate(reason: string): Promise<void> {
    if (this.#maxDurationTimer !== undefined) clearTimeout(this.#maxDurationTimer);
    if (this.#dial && !this.#dial.signal.aborted) this.#dial.abort();
    this.#transport?.close(1000, reason);
    this.#plane.detach(this.id);
    return Promise.resolve();
  }

  #bindTransport(socket: WebSocket): void {
    this.#transport = new WsMediaTransport(
      socket,
      this.wireFormat,
      {
        ended: (reason: WsEndReason) => void this.hangup(reason),
        text: this.rtt ? (text: string) => this.#params.onText?.(this, text) : undefined,
      },
      this.deps.logger.child({ leg_id: this.id }),
      this.#params.timings,
    );
  }

  #connected(): void {
    if (this.state === "hung_up") return;
    this.#endpoint = this.#plane.attach(this.id, this.rate, this.#transport!, {
      roomId: undefined,
      speech: this.#params.speech,
    });
    this.#transport!.bind(this.#endpoint);
    this.setState("connected");
    this.publish("leg.connected", { leg_type: this.type });
    this.#params.onConnected?.(this);
  }

  #endWith(reason: string): void {
    this.#dial = undefined;
    this.hangup(reason);
  }
}

/** Maps a dial failure to a CDR reason from the HTTP status in the error text. */
export function dialFailureReason(message: string): string {
  const m = /\b([1-5]\d\d)\b/.exec(message);
  switch (m?.[1]) {
    case "401":
      return "unauthorized";
    case "403":
      return "forbidden";
    case "404":
      return "not_found";
    case "503":
      return "service_unavailable";
    default:
      return "ws_dial_failed";
  }
}
