import assert from "node:assert/strict";
import { MediaEngine } from "../../../src/media/engine.ts";
import { PcmRing } from "../../../src/media/pcm_ring.ts";
import { MAX_ROLE } from "../../../src/media/mixer.ts";
import { toneRatio } from "../../../src/media/goertzel.ts";
import { attachPeer } from "./_engine_rig.ts";

Deno.test("a room that sees more distinct role names than the mixer's role space keeps routing correctly", () => {
  const engine = new MediaEngine(() => {});
  engine.handle({ t: "room.create", roomId: "r", rate: 8000 });
  engine.handle({ t: "room.routing", roomId: "r", matrix: { customer: ["agent"] } });
  const rings = new Map<string, { ingress: PcmRing; egress: PcmRing }>();
  const attach = (id: string, role: string) => {
    const ingress = PcmRing.allocate(320 * 20);
    const egress = PcmRing.allocate(320 * 20);
    attachPeer(engine, id, 8000, { ingress, egress }, "r", role);
    rings.set(id, { ingress: new PcmRing(ingress), egress: new PcmRing(egress) });
  };
  engine.handle({ t: "stop" });
  attach("cust", "customer");
  attach("agent", "agent");
  // Churn through more role names than the mixer can index, as a long-lived room might.
  for (let i = 0; i < MAX_ROLE + 50; i++) {
    engine.handle({
      t: "endpoint.flags",
      endpointId: "agent",
      flags: { muted: false, deaf: false, role: `temp-${i}` },
    });
  }
  engine.handle({
    t: "endpoint.flags",
    endpointId: "agent",
    flags: { muted: false, deaf: false, role: "agent" },
  });
  attach("sup", "supervisor");
  const tone = (hz: number) => {
    const f = new Int16Array(160);
    for (let k = 0; k < 160; k++) f[k] = Math.round(8000 * Math.sin((2 * Math.PI * hz * k) / 8000));
    return new Uint8Array(f.buffer);
  };
  const heard = new Int16Array(160 * 10);
  const frame = new Uint8Array(320);
  for (let t = 0; t < 10; t++) {
    rings.get("agent")!.ingress.write(tone(500));
    rings.get("sup")!.ingress.write(tone(1500));
    engine.tick();
    for (const [id, r] of rings) {
      r.egress.read(frame, 320);
      if (id === "cust") heard.set(new Int16Array(frame.buffer), t * 160);
    }
  }
  assert.ok(toneRatio(heard, 8000, 500) > 0.3, "customer hears the agent");
  assert.ok(toneRatio(heard, 8000, 1500) < 0.01, "customer never hears the supervisor");
});
