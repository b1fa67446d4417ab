/**
 * JSON responses in the contract's shape: every JSON object gets `instance_id` as its first key
 * (errors included); arrays are sent bare.
 */

/** Serializes `body` with `instance_id` first when it is a plain object. */
export function withInstanceId(instanceId: string, body: unknown): unknown {
  if (body !== null && typeof body === "object" && !Array.isArray(body)) {
    return { instance_id: instanceId, ...(body as Record<string, unknown>) };
  }
  return body;
}

/** A JSON Response with the contract's envelope. */
export function jsonResponse(
  instanceId: string,
  status: number,
  body: unknown,
  headers?: HeadersInit,
): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(JSON.stringify(withInstanceId(instanceId, body)), { status, headers: h });
}

/** The error envelope `{"instance_id":…,"error":…}`. */
export function errorResponse(
  instanceId: string,
  status: number,
  message: string,
  headers?: HeadersInit,
): Response {
  return jsonResponse(instanceId, status, { error: message }, headers);
}
