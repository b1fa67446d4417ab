/**
 * A leg with no transport, for control-plane tests until real leg types exist. It exercises the
 * real BaseLeg lifecycle (claim-once disconnect, CDR, metrics, registry removal).
 */
import { BaseLeg } from "../../src/legs/base_leg.ts";
import { legDeps } from "../../src/ops/leg_deps.ts";
import type { LegState, LegType } from "../../src/legs/leg.ts";
import type { OpContext } from "../../src/ops/operation.ts";

/** A transport-less leg that records how often it was torn down. */
export class FakeLeg extends BaseLeg {
  terminations: string[] = [];

  protected override terminate(reason: string): Promise<void> {
    this.terminations.push(reason);
    return Promise.resolve();
  }
}

/** Creates a FakeLeg registered in `ctx`, optionally placed in a room. */
export function addFakeLeg(
  ctx: OpContext,
  init: { type?: LegType; state?: LegState; appId?: string; roomId?: string } = {},
): FakeLeg {
  const deps = legDeps(ctx);
  const leg = new FakeLeg({
    type: init.type ?? "websocket_in",
    state: init.state ?? "connected",
    appId: init.appId,
  }, deps);
  ctx.legs.add(leg);
  if (init.roomId) {
    ctx.rooms.require(init.roomId).legIds.add(leg.id);
    leg.roomId = init.roomId;
  }
  return leg;
}
