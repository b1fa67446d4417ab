/**
 * The VSI wire frames (compat-notes §2.4, asyncapi `frame_*`): the server's control frames and
 * command replies, and the decoding of client frames. Event frames are the bus's pre-serialized
 * envelope bytes and never pass through here.
 */

/** Largest client frame processed; larger ones get an error frame and are ignored. */
export const MAX_CLIENT_FRAME_BYTES = 1 << 20;

/** First frame after the upgrade. */
export const CONNECTED_FRAME = '{"type":"connected"}';

/** Reply to an undecodable client frame: no code, no request_id (compat §2.4). */
export const INVALID_JSON_FRAME = '{"type":"error","data":{"message":"invalid JSON"}}';

/** A decoded client frame: `pong`, `stop`, or a command. */
export interface CommandFrame {
  readonly type: string;
  readonly requestId?: string;
  readonly payload?: unknown;
}

/** Keepalive; `event_id` is the deprecated integer alias of `seq`. */
export function pingFrame(seq: number): string {
  return `{"type":"ping","seq":${seq},"event_id":${seq}}`;
}

/** Announces `count` events dropped since the previous notice. */
export function droppedFrame(count: number): string {
  return `{"type":"events_dropped","count":${count}}`;
}

/** `{"type":"<cmd>.result","request_id":…,"data":…}`; throws if `data` cannot be serialized. */
export function resultFrame(command: string, requestId: string | undefined, data: unknown): string {
  return JSON.stringify(
    requestId === undefined
      ? { type: `${command}.result`, data }
      : { type: `${command}.result`, request_id: requestId, data },
  );
}

/** `{"type":"error",…}` with the contract's `{code, message}` data. */
export function errorFrame(requestId: string | undefined, code: number, message: string): string {
  return JSON.stringify(
    requestId === undefined
      ? { type: "error", data: { code, message } }
      : { type: "error", request_id: requestId, data: { code, message } },
  );
}

/**
 * Parses a client text frame. Null for anything upstream's decoder rejects as `invalid JSON`:
 * malformed JSON, a non-object, a missing or non-string `type`, a non-string `request_id`.
 */
export function parseClientFrame(text: string): CommandFrame | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return null;
  const obj = raw as Record<string, unknown>;
  if (typeof obj.type !== "string" || obj.type === "") return null;
  const rid = obj.request_id;
  if (rid !== undefined && rid !== null && typeof rid !== "string") return null;
  return {
    type: obj.type,
    // Like upstream's `omitempty`, an empty request_id is not echoed.
    requestId: typeof rid === "string" && rid !== "" ? rid : undefined,
    payload: obj.payload,
  };
}

/** Whether the UTF-8 encoding of `s` is longer than `limit` bytes, without encoding it. */
export function utf8Exceeds(s: string, limit: number): boolean {
  if (s.length > limit) return true; // every UTF-16 unit is at least one byte
  if (s.length * 3 <= limit) return false; // and at most three
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
    if (bytes > limit) return true;
  }
  return false;
}
