/** Looking up the leg an operation addresses. */
import { NotFound } from "../errors.ts";
import { BaseLeg } from "../legs/base_leg.ts";
import { defineOperation, type OpContext } from "./operation.ts";
import { LegIdParam } from "./schemas.ts";

/** The live leg `id`, or 404 `leg not found` (the contract's message). */
export function requireLeg(ctx: OpContext, id: string): BaseLeg {
  const leg = ctx.legs.get(id);
  if (!(leg instanceof BaseLeg)) throw new NotFound("leg not found");
  return leg;
}

/**
 * An operation that changes one setting of the leg `{id}` and answers 200 `{status}` — the shape
 * of the accept/reject toggles for DTMF and real-time text.
 */
export function legSettingOp(
  name: string,
  summary: string,
  apply: (leg: BaseLeg) => void,
  status: string,
) {
  return defineOperation({
    name,
    summary,
    params: LegIdParam,
    run(ctx, input) {
      apply(requireLeg(ctx, input.id));
      return { status: 200, body: { status } };
    },
  });
}
