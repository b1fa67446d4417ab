/**
 * Single-frequency power (Goertzel) and RMS over Int16 PCM. Used to check audio by content —
 * "is this tone present in that output?" — in tests and in tone/DTMF-style detectors, so it takes
 * a window (start, len) instead of forcing callers to slice (no per-call allocation).
 *
 * The generalised Goertzel recurrence is used (the target frequency need not fall on a DFT bin),
 * with a rectangular window: callers that need leakage margins pick a window long enough that
 * neighbouring tones are many bins away.
 */

/**
 * Squared magnitude of the DFT of `samples[start .. start+len)` at `freq` Hz. A sinusoid of
 * amplitude A spanning the whole window yields ≈ (A·len/2)².
 */
export function goertzelPower(
  samples: Int16Array,
  sampleRate: number,
  freq: number,
  start = 0,
  len: number = samples.length - start,
): number {
  checkWindow(samples, start, len);
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  const end = start + len;
  for (let i = start; i < end; i++) {
    const s0 = samples[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  // |X|² from the last two states; exact for any (non-bin) frequency's magnitude.
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/** Σx² over `samples[start .. start+len)` (signal energy in Int16² units). */
export function energy(
  samples: Int16Array,
  start = 0,
  len: number = samples.length - start,
): number {
  checkWindow(samples, start, len);
  let e = 0;
  const end = start + len;
  for (let i = start; i < end; i++) e += samples[i] * samples[i];
  return e;
}

/** Root-mean-square of `samples[start .. start+len)`, in Int16 units (0 for an empty window). */
export function rms(samples: Int16Array, start = 0, len: number = samples.length - start): number {
  return len > 0 ? Math.sqrt(energy(samples, start, len) / len) : 0;
}

/**
 * The share of the window's energy that sits at `freq`: ≈1 for a pure tone at `freq`, ≈1/k for
 * each of k equal tones, ≈0 when the tone is absent (and 0 for silence). Scale-free, so a test can
 * assert presence (> 0.1) or absence (< 0.01) without knowing levels.
 */
export function toneRatio(
  samples: Int16Array,
  sampleRate: number,
  freq: number,
  start = 0,
  len: number = samples.length - start,
): number {
  const e = energy(samples, start, len);
  if (e === 0) return 0;
  // Parseval: a tone of amplitude A has energy A²·len/2 and |X|² = (A·len/2)², so
  // 2·|X|²/(len·E) = 1 when all the energy is at freq.
  return (2 * goertzelPower(samples, sampleRate, freq, start, len)) / (len * e);
}

function checkWindow(samples: Int16Array, start: number, len: number): void {
  if (start < 0 || len < 0 || start + len > samples.length) {
    throw new RangeError(
      `Cannot analyse window [${start}, ${start + len}) of ${samples.length} samples`,
    );
  }
}
