/**
 * The event envelope (compat-notes §2.2): one flat JSON object, keys in alphabetical order as the
 * Go implementation marshals them, `app_id` only when non-empty, no `data` wrapper.
 */

/** RFC 3339 UTC timestamp with sub-millisecond digits (trailing zeros trimmed, like Go's RFC3339Nano). */
export function rfc3339Nano(epochMs: number): string {
  const whole = Math.floor(epochMs);
  const iso = new Date(whole).toISOString(); // 2026-11-25T20:48:26.123Z
  const micros = Math.floor((epochMs - whole) * 1000);
  let frac = iso.slice(20, 23) + String(micros).padStart(3, "0");
  frac = frac.replace(/0+$/, "");
  return iso.slice(0, 19) + (frac ? "." + frac : "") + "Z";
}

/** Builds the flat envelope with sorted keys; `undefined` and empty `app_id` are omitted. */
export function buildEnvelope(
  base: { type: string; timestamp: string; event_id: string; instance_id: string },
  fields: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...fields, ...base };
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(merged).sort()) {
    const v = merged[key];
    if (v === undefined) continue;
    if (key === "app_id" && v === "") continue;
    out[key] = v;
  }
  return out;
}

/**
 * The legacy webhook body for hooks registered through `POST /v1/webhooks` (compat-notes C2):
 * the flat envelope plus a `data` object holding the event fields, so old clients that read
 * `event["data"]["leg_id"]` and new ones that read the flat key both work.
 */
export function legacyBody(envelope: Readonly<Record<string, unknown>>): string {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(envelope)) {
    if (k !== "type" && k !== "timestamp" && k !== "event_id" && k !== "instance_id") data[k] = v;
  }
  return JSON.stringify({ ...envelope, data });
}
