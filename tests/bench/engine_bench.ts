/**
 * The worker's 20 ms loop in isolation (no sockets): `MediaEngine.tick()` for one room of N
 * participants whose ingress rings are refilled before each tick. Comparing legs at the room rate
 * with legs at 8 kHz isolates the resampling cost; the mixer alone is in dsp_bench.ts.
 * Run: deno bench tests/bench/engine_bench.ts
 */
import { MediaEngine } from "../../src/media/engine.ts";
import { PcmRing } from "../../src/media/pcm_ring.ts";
import { frameBytes, type LegRate } from "../../src/media/protocol.ts";

function setup(n: number, legRate: LegRate, roomRate: number) {
  const engine = new MediaEngine(() => {});
  engine.handle({ t: "room.create", roomId: "r", rate: roomRate });
  const rings: { ingress: PcmRing; egress: PcmRing }[] = [];
  const fb = frameBytes(legRate);
  const frame = new Uint8Array(fb);
  const pcm = new Int16Array(frame.buffer);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin(i / 3));
  for (let i = 0; i < n; i++) {
    const ingress = PcmRing.allocate(fb * 50);
    const egress = PcmRing.allocate(fb * 10);
    engine.handle({
      t: "endpoint.attach",
      endpointId: `e${i}`,
      rate: legRate,
      ingress,
      egress,
      speech: true,
    });
    engine.handle({
      t: "endpoint.join",
      endpointId: `e${i}`,
      roomId: "r",
      flags: { muted: false, deaf: false, role: "" },
    });
    rings.push({ ingress: new PcmRing(ingress), egress: new PcmRing(egress) });
  }
  engine.handle({ t: "stop" }); // drive ticks by hand
  const out = new Uint8Array(fb);
  return () => {
    for (const r of rings) r.ingress.write(frame);
    engine.tick();
    for (const r of rings) r.egress.read(out, fb);
  };
}

for (const n of [2, 5, 20]) {
  const same = setup(n, 16000, 16000);
  Deno.bench({
    name: `tick: ${n} legs @16k in a 16k room`,
    group: `tick-${n}`,
    baseline: true,
    fn: same,
  });
  const resampled = setup(n, 8000, 16000);
  Deno.bench({
    name: `tick: ${n} legs @8k in a 16k room (resampling)`,
    group: `tick-${n}`,
    fn: resampled,
  });
}
