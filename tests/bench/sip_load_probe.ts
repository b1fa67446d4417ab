/**
 * What the SIP load client (sip_load_client.ts) checks in the audio it hears: the mouth-to-ear
 * latency probe (1 kHz bursts timed to the sample) and the mix-minus check by Goertzel (each call
 * hears its room-mates' tones, not its own). Every call sends its own multiple-of-50 Hz tone.
 */
import { PCM_TO_ULAW, ULAW_TO_PCM } from "../../src/codecs/g711.ts";
import { RTP_HEADER_SIZE } from "../../src/rtp/packet.ts";
import { toneRatio } from "../../src/media/goertzel.ts";

/** Samples in a 20 ms PCMU frame at 8 kHz. */
export const SAMPLES = 160;
const PCMU_SILENCE = 0xff;
const BURST_HZ = 1000;
const BURST_TICKS = 2;
/** Silence before the first burst: flushes up to 500 ms of the caller's queued tone. */
const LEAD_IN_TICKS = 25;
/** A decoded sample above this (the burst's amplitude is 8000) marks the burst's onset. */
const ONSET_THRESHOLD = 2000;

/** Call i's tone: a multiple of 50 Hz, so a 20 ms frame holds whole periods (clean Goertzel). */
export function toneHz(index: number): number {
  return 200 + (index % 40) * 50;
}

/** One 20 ms PCMU frame of a sine at `hz`. */
export function encodeTone(hz: number, amplitude: number): Uint8Array {
  const out = new Uint8Array(SAMPLES);
  for (let k = 0; k < SAMPLES; k++) {
    const v = Math.round(amplitude * Math.sin((2 * Math.PI * hz * k) / 8000));
    out[k] = PCM_TO_ULAW[v & 0xffff];
  }
  return out;
}

// Pre-encoded payloads of the probe's caller, and the scratch buffer every check decodes into.
const silence = new Uint8Array(SAMPLES).fill(PCMU_SILENCE);
const burst = encodeTone(BURST_HZ, 8000);
const decoded = new Int16Array(SAMPLES);

/** Decodes the PCMU payload of RTP packet `data` into `decoded`; returns the sample count. */
function decodePayload(data: Uint8Array): number {
  const start = RTP_HEADER_SIZE + 4 * (data[0] & 0x0f);
  const n = Math.min(SAMPLES, data.length - start);
  for (let k = 0; k < n; k++) decoded[k] = ULAW_TO_PCM[data[start + k]];
  return n;
}

/** What a finished probe reports. */
export interface ProbeResult {
  latencies: number[];
  missed: number;
  /** Lowest 1 kHz share over the detected bursts (0 when none was checked). */
  toneRatioMin: number;
}

/**
 * A running latency probe from call `from` to call `to` (any call type): `from` sends silence
 * for the lead-in, then a 40 ms 1 kHz burst every `periodTicks`; `to` times each burst's onset.
 */
export class LatencyProbe<C> {
  readonly from: C;
  readonly to: C;
  readonly #periodTicks: number;
  #bursts: number;
  /** Tick at which the first burst goes out (silence before it flushes what was queued). */
  readonly #firstTick: number;
  /** performance.now() when the current burst's first packet was sent; -1 when none pending. */
  #armedAt = -1;
  /** The current period carries a burst (the last period is silent, to catch a late onset). */
  #burstOn = false;
  readonly #latencies: number[] = [];
  /** 1 kHz share of each detected burst's first packet from the onset on (content check). */
  readonly #ratios: number[] = [];
  #missed = 0;
  #finished = false;
  readonly #done = Promise.withResolvers<ProbeResult>();

  constructor(from: C, to: C, o: { bursts: number; periodTicks: number; tick: number }) {
    this.from = from;
    this.to = to;
    this.#bursts = o.bursts;
    this.#periodTicks = o.periodTicks;
    this.#firstTick = o.tick + LEAD_IN_TICKS;
  }

  /** Settles once the last burst's period is over. */
  get done(): Promise<ProbeResult> {
    return this.#done.promise;
  }

  /** True once the probe has ended (on the tick that ended it). */
  get finished(): boolean {
    return this.#finished;
  }

  /** True while a burst was sent and its onset not yet heard. */
  get armed(): boolean {
    return this.#armedAt >= 0;
  }

  /** Advances to send tick `tick`; returns what `from` sends on it. */
  payload(tick: number): Uint8Array {
    if (tick < this.#firstTick) return silence;
    const phase = (tick - this.#firstTick) % this.#periodTicks;
    if (phase === 0) {
      if (this.#armedAt >= 0) this.#missed++;
      this.#armedAt = -1;
      if (this.#bursts === 0) {
        this.#finish();
      } else {
        this.#bursts--;
        this.#burstOn = true;
        this.#armedAt = performance.now();
      }
    }
    if (phase === BURST_TICKS) this.#burstOn = false;
    return this.#burstOn ? burst : silence;
  }

  /** Times the burst's onset: the first loud sample of the first loud packet after it was sent. */
  onPacket(data: Uint8Array, now: number): void {
    const n = decodePayload(data);
    let onset = -1;
    for (let k = 0; k < n; k++) {
      if (decoded[k] > ONSET_THRESHOLD || decoded[k] < -ONSET_THRESHOLD) {
        onset = k;
        break;
      }
    }
    if (onset < 0) return;
    this.#latencies.push(now + (onset * 1000) / 8000 - this.#armedAt);
    this.#armedAt = -1;
    // Is what was heard the burst? Checked on the rest of this packet when enough of it is left.
    if (n - onset >= 80) {
      this.#ratios.push(toneRatio(decoded, 8000, BURST_HZ, onset, n - onset));
    }
  }

  #finish(): void {
    this.#finished = true;
    const ratios = this.#ratios.sort((a, b) => a - b);
    this.#done.resolve({
      latencies: this.#latencies,
      missed: this.#missed,
      toneRatioMin: ratios[0] ?? 0,
    });
  }
}

/** The mix-minus check: calls whose next packet is checked against their room-mates' tones. */
export class HearingCheck {
  readonly #pending = new Map<number, { others: number[]; done: (pass: boolean) => void }>();

  /** True while some call's next packet is awaited. */
  get active(): boolean {
    return this.#pending.size > 0;
  }

  /**
   * Checks call `index`'s packet if one is awaited: it must be (nearly) all the room-mates' tones
   * and not the call's own tone.
   */
  onPacket(index: number, data: Uint8Array): void {
    const want = this.#pending.get(index);
    if (!want) return;
    this.#pending.delete(index);
    const n = decodePayload(data);
    let others = 0;
    for (const hz of want.others) others += toneRatio(decoded, 8000, hz, 0, n);
    const own = toneRatio(decoded, 8000, toneHz(index), 0, n);
    want.done(n === SAMPLES && others > 0.8 && own < 0.05);
  }

  /**
   * Checks every call of `rooms` (lists of call indices) that `isUp` once, within 5 s; rooms
   * with a shared tone are skipped.
   */
  async verify(rooms: number[][], isUp: (index: number) => boolean) {
    let checked = 0;
    let passed = 0;
    let skipped = 0;
    const waits: Promise<void>[] = [];
    for (const members of rooms) {
      const tones = members.map(toneHz);
      if (new Set(tones).size !== tones.length) {
        skipped += members.length;
        continue;
      }
      for (const index of members) {
        if (!isUp(index)) continue;
        checked++;
        const others = members.filter((m) => m !== index).map(toneHz);
        waits.push(
          new Promise<void>((resolve) => {
            this.#pending.set(index, {
              others,
              done: (pass) => {
                if (pass) passed++;
                resolve();
              },
            });
          }),
        );
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(waits),
      new Promise<void>((r) => timer = setTimeout(r, 5000)),
    ]);
    clearTimeout(timer);
    this.#pending.clear();
    return { checked, passed, skipped };
  }
}
