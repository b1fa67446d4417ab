/** Reproducible corruption of SDP text, for the "never throws anything else" tests. */

/** Small deterministic PRNG (mulberry32) so the mutation test is reproducible. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mutates SDP text the ways real corruption does: bytes flipped, dropped, lines shuffled. */
export function mutate(text: string, rand: () => number): string {
  const pick = (n: number) => Math.floor(rand() * n);
  const alphabet = "=: /0123456789abcmovtsAIPN\r\n\t-*.;\u00e9\0";
  let s = text;
  for (let k = 1 + pick(4); k > 0; k--) {
    const i = pick(s.length + 1);
    switch (pick(5)) {
      case 0:
        s = s.slice(0, i) + s.slice(i + 1);
        break;
      case 1:
        s = s.slice(0, i) + alphabet[pick(alphabet.length)] + s.slice(i);
        break;
      case 2:
        s = s.slice(0, i);
        break;
      case 3: {
        const lines = s.split("\n");
        const a = pick(lines.length);
        const b = pick(lines.length);
        [lines[a], lines[b]] = [lines[b], lines[a]];
        s = lines.join("\n");
        break;
      }
      default:
        s = s.slice(0, i) + String(pick(1_000_000)) + s.slice(i);
    }
  }
  return s;
}
