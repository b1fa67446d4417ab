/** Wires a new leg to the control plane: events, metrics, registry removal, room membership. */
import type { LegDeps } from "../legs/base_leg.ts";
import { leaveRoom } from "../rooms/membership.ts";
import type { OpContext } from "./operation.ts";

/** The {@link LegDeps} every leg type is constructed with. */
export function legDeps(ctx: OpContext): LegDeps {
  return {
    bus: ctx.bus,
    metrics: ctx.metrics,
    logger: ctx.logger,
    onGone: (leg) => {
      leaveRoom(ctx, leg);
      ctx.legs.remove(leg.id);
    },
    // peek(): a room being deleted still routes its legs' final events to its hook.
    roomWebhook: (roomId) => roomId ? ctx.rooms.peek(roomId)?.webhook : undefined,
  };
}
