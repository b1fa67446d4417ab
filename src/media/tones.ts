/**
 * Built-in call-progress tones (compat "Playback": `{us,gb,de,fr,au,jp,it,in,br,pl,ru}_{ringback,
 * busy,dial,congestion}`, a bare type meaning US) and a generator that renders them into 20 ms
 * frames forever.
 *
 * Frequencies and cadences follow the national plans as collected in ITU-T E.180 Suppl. 2 (UK:
 * BT SIN 350; Australia: AS/CA S002). Tones described there as "f modulated by m Hz" are rendered
 * as real amplitude modulation (carrier plus two sidebands at f ± m), not approximated by a single
 * frequency. Where a plan does not define a separate congestion tone, it is the busy tone, as the
 * networks themselves do (Japan, Poland). Each component is sent at −13 dBm0, the usual level of
 * supervisory tones (G.711: a full-scale sine is +3.14 dBm0, so −13 dBm0 ≈ 0.156 full scale).
 */

/** One sinusoid of a tone; `amplitude` is relative to the nominal −13 dBm0. */
export interface ToneComponent {
  readonly freq: number;
  readonly amplitude: number;
}

/** One step of a cadence: `level` 0 is silence, 1 the nominal level. */
export interface ToneSegment {
  readonly ms: number;
  readonly level: number;
}

/** A call-progress tone: summed components, repeated through the cadence (empty = continuous). */
export interface ToneSpec {
  readonly name: string;
  readonly components: readonly ToneComponent[];
  readonly cadence: readonly ToneSegment[];
}

/** Countries with built-in tones. */
export const TONE_COUNTRIES = [
  "us",
  "gb",
  "de",
  "fr",
  "au",
  "jp",
  "it",
  "in",
  "br",
  "pl",
  "ru",
] as const;
/** Tone types every country defines; a bare type name means the US tone. */
export const TONE_TYPES = ["ringback", "busy", "dial", "congestion"] as const;

/** Peak amplitude of one component at −13 dBm0 (full-scale sine = +3.14 dBm0, G.711). */
export const TONE_AMPLITUDE = 32767 * Math.pow(10, (-13 - 3.14) / 20);

const single = (f: number): ToneComponent[] => [{ freq: f, amplitude: 1 }];
const dual = (f1: number, f2: number): ToneComponent[] => [
  { freq: f1, amplitude: 1 },
  { freq: f2, amplitude: 1 },
];
/** Carrier `f` amplitude-modulated at `m` Hz, depth 0.9 (carrier unsuppressed). */
const am = (f: number, m: number): ToneComponent[] => [
  { freq: f, amplitude: 1 },
  { freq: f - m, amplitude: 0.45 },
  { freq: f + m, amplitude: 0.45 },
];
/** Alternating on/off durations in ms, starting with "on". */
const onOff = (...ms: number[]): ToneSegment[] =>
  ms.map((d, i) => ({ ms: d, level: i % 2 ? 0 : 1 }));
const CONTINUOUS: ToneSegment[] = [];

type Row = readonly [ToneComponent[], ToneSegment[]];
type Plan = { readonly [T in typeof TONE_TYPES[number]]: Row };

const PLANS: { readonly [C in typeof TONE_COUNTRIES[number]]: Plan } = {
  // North American Precise Tone Plan.
  us: {
    dial: [dual(350, 440), CONTINUOUS],
    ringback: [dual(440, 480), onOff(2000, 4000)],
    busy: [dual(480, 620), onOff(500, 500)],
    congestion: [dual(480, 620), onOff(250, 250)], // "reorder" / fast busy
  },
  gb: {
    dial: [dual(350, 440), CONTINUOUS],
    ringback: [dual(400, 450), onOff(400, 200, 400, 2000)],
    busy: [single(400), onOff(375, 375)],
    congestion: [single(400), onOff(400, 350, 225, 525)],
  },
  de: {
    dial: [single(425), CONTINUOUS],
    ringback: [single(425), onOff(1000, 4000)],
    busy: [single(425), onOff(480, 480)],
    congestion: [single(425), onOff(240, 240)],
  },
  fr: {
    dial: [single(440), CONTINUOUS],
    ringback: [single(440), onOff(1500, 3500)],
    busy: [single(440), onOff(500, 500)],
    congestion: [single(440), onOff(250, 250)],
  },
  au: {
    dial: [am(425, 25), CONTINUOUS],
    ringback: [am(425, 25), onOff(400, 200, 400, 2000)], // AS/CA S002 "Ring Tone A"
    busy: [single(425), onOff(375, 375)],
    // Busy cadence with every second burst at a reduced level; the 6 dB step is our choice.
    congestion: [single(425), [
      { ms: 375, level: 1 },
      { ms: 375, level: 0 },
      { ms: 375, level: 0.5 },
      { ms: 375, level: 0 },
    ]],
  },
  jp: {
    dial: [single(400), CONTINUOUS],
    ringback: [am(400, 16), onOff(1000, 2000)],
    busy: [single(400), onOff(500, 500)],
    congestion: [single(400), onOff(500, 500)],
  },
  it: {
    dial: [single(425), onOff(200, 200, 600, 1000)], // Italy's dial tone is cadenced
    ringback: [single(425), onOff(1000, 4000)],
    busy: [single(425), onOff(500, 500)],
    congestion: [single(425), onOff(200, 200)],
  },
  in: {
    dial: [am(400, 25), CONTINUOUS],
    ringback: [am(400, 25), onOff(400, 200, 400, 2000)],
    busy: [single(400), onOff(750, 750)],
    congestion: [single(400), onOff(250, 250)],
  },
  br: {
    dial: [single(425), CONTINUOUS],
    ringback: [single(425), onOff(1000, 4000)],
    busy: [single(425), onOff(250, 250)],
    congestion: [single(425), onOff(250, 250, 750, 250)],
  },
  pl: {
    dial: [single(425), CONTINUOUS],
    ringback: [single(425), onOff(1000, 4000)],
    busy: [single(425), onOff(500, 500)],
    congestion: [single(425), onOff(500, 500)],
  },
  ru: {
    dial: [single(425), CONTINUOUS],
    ringback: [single(425), onOff(1000, 4000)],
    busy: [single(425), onOff(350, 350)],
    congestion: [single(425), onOff(175, 175)],
  },
};

const SPECS = new Map<string, ToneSpec>();
for (const country of TONE_COUNTRIES) {
  for (const type of TONE_TYPES) {
    const [components, cadence] = PLANS[country][type];
    const name = `${country}_${type}`;
    const spec: ToneSpec = Object.freeze({ name, components, cadence });
    SPECS.set(name, spec);
    if (country === "us") SPECS.set(type, spec);
  }
}

/** Every accepted tone name (country-qualified and bare). */
export const TONE_NAMES: readonly string[] = [...SPECS.keys()];

/** The tone called `name` (case-insensitive), or undefined for an unknown name. */
export function lookupTone(name: string): ToneSpec | undefined {
  return SPECS.get(name.toLowerCase());
}

/**
 * Renders a tone as a never-ending stream at 8, 16, 24 or 48 kHz. Oscillators are rotating
 * phasors (four multiplies per sample and component, no `Math.sin` per sample); they keep running
 * across calls, so consecutive frames join without a click. Rounding makes a phasor's magnitude
 * random-walk by ~1e-16 per sample — invisible in minutes, but a tone can play for days, so it is
 * renormalised once per call. The cadence is counted in samples, never in timers.
 */
export class ToneGenerator {
  /** Output sample rate, Hz. */
  readonly sampleRate: number;
  /** Samples per 20 ms frame. */
  readonly frameSize: number;
  readonly #osc: Float64Array; // per component: re, im, cos ω, sin ω, amplitude
  readonly #segSamples: Int32Array;
  readonly #segLevel: Float64Array;
  #seg = 0;
  #segLeft: number;

  constructor(spec: ToneSpec, sampleRate: number) {
    if (![8000, 16000, 24000, 48000].includes(sampleRate)) {
      throw new RangeError(`Cannot generate tones at ${sampleRate} Hz`);
    }
    this.sampleRate = sampleRate;
    this.frameSize = sampleRate / 50;
    const comps = spec.components;
    this.#osc = new Float64Array(comps.length * 5);
    for (let k = 0; k < comps.length; k++) {
      const w = (2 * Math.PI * comps[k].freq) / sampleRate;
      this.#osc.set([1, 0, Math.cos(w), Math.sin(w), comps[k].amplitude * TONE_AMPLITUDE], k * 5);
    }
    const cadence = spec.cadence.length ? spec.cadence : [{ ms: 1000, level: 1 }];
    this.#segSamples = Int32Array.from(cadence, (s) => Math.round((s.ms * sampleRate) / 1000));
    this.#segLevel = Float64Array.from(cadence, (s) => s.level);
    this.#segLeft = this.#segSamples[0];
  }

  /** Writes the next `len` samples (default one 20 ms frame) into `out` from index 0. */
  fill(out: Int16Array, len: number = this.frameSize): void {
    if (len > out.length) throw new RangeError(`Cannot write ${len} samples into ${out.length}`);
    let pos = 0;
    while (pos < len) {
      const run = Math.min(this.#segLeft, len - pos);
      const level = this.#segLevel[this.#seg];
      if (level === 0) out.fill(0, pos, pos + run);
      else this.#synth(out, pos, run, level);
      pos += run;
      this.#segLeft -= run;
      if (this.#segLeft === 0) {
        this.#seg = (this.#seg + 1) % this.#segSamples.length;
        this.#segLeft = this.#segSamples[this.#seg];
      }
    }
    this.#renormalise();
  }

  #synth(out: Int16Array, pos: number, run: number, level: number): void {
    const osc = this.#osc;
    const end = pos + run;
    for (let i = pos; i < end; i++) {
      let v = 0;
      for (let k = 0; k < osc.length; k += 5) {
        const re = osc[k];
        const im = osc[k + 1];
        v += im * osc[k + 4];
        osc[k] = re * osc[k + 2] - im * osc[k + 3];
        osc[k + 1] = re * osc[k + 3] + im * osc[k + 2];
      }
      out[i] = Math.round(v * level); // ≤ 2.9 × TONE_AMPLITUDE: cannot overflow Int16
    }
  }

  #renormalise(): void {
    const osc = this.#osc;
    for (let k = 0; k < osc.length; k += 5) {
      const m = 1 / Math.hypot(osc[k], osc[k + 1]);
      osc[k] *= m;
      osc[k + 1] *= m;
    }
  }
}
