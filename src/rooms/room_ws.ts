/**
 * Room WebSocket slots `GET /v1/rooms/{id}/ws` (compat-notes §3.2): a raw mixer participant at
 * the room's rate with `json_base64` framing. It is not a leg — no events, no REST handle — and is
 * closed when the room is deleted.
 */
import { BadRequest, NotFound } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { MediaPlane } from "../media_plane/worker_pool.ts";
import type { LegRate } from "../media/protocol.ts";
import { type WsMediaTimings, WsMediaTransport } from "../legs/ws_media.ts";
import { ensureMixer } from "./membership.ts";
import type { RoomManager } from "./room_manager.ts";
import type { EventBus } from "../events/bus.ts";

/** What a room WebSocket needs from the server. */
export interface RoomWsDeps {
  readonly rooms: RoomManager;
  readonly media: MediaPlane;
  readonly bus: EventBus;
  readonly logger: Logger;
}

function slotId(): string {
  const b = crypto.getRandomValues(new Uint8Array(4));
  return "ws-" + [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** Upgrades `req` into a mixer slot of room `roomId`; 404 before the upgrade when it is missing. */
export function acceptRoomSocket(
  deps: RoomWsDeps,
  req: Request,
  roomId: string,
  timings?: WsMediaTimings,
): Response {
  const room = deps.rooms.get(roomId);
  if (!room) throw new NotFound("room not found");
  if (!/\bwebsocket\b/i.test(req.headers.get("upgrade") ?? "")) {
    throw new BadRequest("expected a WebSocket upgrade request");
  }
  const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 });
  const id = slotId();
  const logger = deps.logger.child({ room_id: roomId, participant_id: id });
  let closed = false;
  const end = () => {
    if (closed) return;
    closed = true;
    room.wsSlots.delete(close);
    deps.media.detach(id);
  };
  const transport = new WsMediaTransport(socket, "json_base64", { ended: end }, logger, timings);
  const close = () => {
    transport.close(1000, "room_deleted");
    end();
  };
  socket.addEventListener("open", () => {
    if (room.deleting || !deps.rooms.get(roomId)) {
      transport.close(1000, "room_deleted");
      return;
    }
    ensureMixer(deps, room);
    const ep = deps.media.attach(id, room.sampleRate as LegRate, transport, { roomId });
    transport.bind(ep);
    deps.media.join(id, roomId, { muted: false, deaf: false, role: "" });
    room.wsSlots.add(close);
    transport.sendJson({
      type: "connected",
      participant_id: id,
      sample_rate: room.sampleRate,
      format: "pcm_s16le",
    });
  }, { once: true });
  return response;
}
