/**
 * Format-specific parameters (`a=fmtp`): the `key=value;key=value` convention most payload
 * formats use (RFC 7587 §7 for Opus, RFC 4867 §8.1 for AMR), and the AMR rules this server
 * negotiates — framing (octet-align) and the mode-set that bounds the encoder.
 */

/** Parses `k=v; k2=v2` into a map with lower-cased keys; a bare `k` maps to "". */
export function parseFmtpParameters(parameters: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of parameters.split(";")) {
    const p = part.trim();
    if (p === "") continue;
    const eq = p.indexOf("=");
    const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (!out.has(key)) out.set(key, eq < 0 ? "" : p.slice(eq + 1).trim());
  }
  return out;
}

/** Highest AMR-NB (RFC 4867 §3.2) and AMR-WB (§3.3) speech mode. */
export const AMR_MAX_MODE = { "AMR-NB": 7, "AMR-WB": 8 } as const;

/** Which AMR flavour a helper applies to. */
export type AmrVariant = keyof typeof AMR_MAX_MODE;

/** What an AMR payload type's fmtp says about framing and modes. */
export interface AmrParameters {
  /** RFC 4867 §8.1: octet-align=1; absent or 0 means bandwidth-efficient. */
  readonly octetAligned: boolean;
  /** Allowed speech modes, ascending; empty means every mode (RFC 4867 §8.1 `mode-set`). */
  readonly modeSet: readonly number[];
  /**
   * RFC 4867 §8.3.1: we implement neither interleaving, CRCs nor robust sorting, and a
   * payload type that asks for any of them (or more than one channel) cannot be accepted.
   */
  readonly supported: boolean;
}

/** Reads the AMR parameters from an fmtp parameter string ("" when there is no fmtp). */
export function parseAmrParameters(
  variant: AmrVariant,
  parameters: string,
  channels = 1,
): AmrParameters {
  const p = parseFmtpParameters(parameters);
  const flag = (k: string) => p.get(k) === "1";
  const max = AMR_MAX_MODE[variant];
  const modes = new Set<number>();
  for (const tok of (p.get("mode-set") ?? "").split(",")) {
    const t = tok.trim();
    if (/^\d$/.test(t) && Number(t) <= max) modes.add(Number(t));
  }
  return {
    octetAligned: flag("octet-align"),
    modeSet: [...modes].sort((a, b) => a - b),
    supported: channels === 1 && !flag("crc") && !flag("robust-sorting") &&
      !p.has("interleaving"),
  };
}

/** Builds our AMR fmtp text (`octet-align=1; mode-set=0,1,2`), or "" when nothing needs saying. */
export function formatAmrParameters(octetAligned: boolean, modeSet: readonly number[]): string {
  const parts: string[] = [];
  if (octetAligned) parts.push("octet-align=1");
  if (modeSet.length > 0) parts.push(`mode-set=${modeSet.join(",")}`);
  return parts.join("; ");
}

/**
 * The mode our encoder sends: the configured ceiling, clamped into the peer's mode-set (the
 * highest allowed mode not above the ceiling, else the lowest allowed mode). An empty set
 * allows everything; the ceiling itself is clamped to the variant's range first.
 */
export function clampAmrMode(
  variant: AmrVariant,
  ceiling: number,
  modeSet: readonly number[],
): number {
  const c = Math.min(Math.max(Math.trunc(ceiling), 0), AMR_MAX_MODE[variant]);
  if (modeSet.length === 0) return c;
  let best = -1;
  for (const m of modeSet) if (m <= c && m > best) best = m;
  return best >= 0 ? best : Math.min(...modeSet);
}
