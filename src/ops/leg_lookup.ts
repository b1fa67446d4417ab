/** Looking up the leg an operation addresses. */
import { NotFound } from "../errors.ts";
import { BaseLeg } from "../legs/base_leg.ts";
import type { OpContext } from "./operation.ts";

/** The live leg `id`, or 404 `leg not found` (the contract's message). */
export function requireLeg(ctx: OpContext, id: string): BaseLeg {
  const leg = ctx.legs.get(id);
  if (!(leg instanceof BaseLeg)) throw new NotFound("leg not found");
  return leg;
}
