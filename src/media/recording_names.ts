/**
 * Recording file names: the default `YYYYMMDD_HHMMSS_<8hex>.wav` name, validation of a
 * caller-chosen `filename`, and reservation of the final path so two recordings never publish
 * to the same file.
 */

import { isAbsolute, join, resolve } from "node:path";
import { BadRequest, Conflict } from "../errors.ts";
import { randomHex8 } from "./file_util.ts";

const MAX_FILENAME_LENGTH = 200;
const ALLOWED = /^[A-Za-z0-9._-]+$/;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The default recording name for `now` in UTC: `YYYYMMDD_HHMMSS_<8 lowercase hex>.wav`. */
export function defaultRecordingName(now: Date, rand: () => string = randomHex8): string {
  const date = `${now.getUTCFullYear()}${pad2(now.getUTCMonth() + 1)}${pad2(now.getUTCDate())}`;
  const time = `${pad2(now.getUTCHours())}${pad2(now.getUTCMinutes())}${pad2(now.getUTCSeconds())}`;
  const suffix = rand().toLowerCase();
  if (!/^[0-9a-f]{8}$/.test(suffix)) {
    throw new Error(
      `Cannot name recording: random suffix must be 8 hex digits, got ${suffix.length}`,
    );
  }
  return `${date}_${time}_${suffix}.wav`;
}

/**
 * Validates a caller-supplied recording filename and returns it with `.wav` appended when it
 * has no `.wav` extension. Throws `BadRequest` for anything that could leave the recording
 * directory or hide the file (separators, `..`, NUL, a leading dot) and for unusual characters.
 */
export function validateRecordingFilename(name: string): string {
  if (name.length === 0) throw new BadRequest("filename must not be empty");
  if (name.length > MAX_FILENAME_LENGTH) {
    throw new BadRequest(`filename must be at most ${MAX_FILENAME_LENGTH} characters`);
  }
  if (name.includes("/") || name.includes("\\") || name.includes("\0")) {
    throw new BadRequest("filename must not contain path separators");
  }
  if (name.includes("..")) throw new BadRequest("filename must not contain '..'");
  if (name.startsWith(".")) throw new BadRequest("filename must not start with '.'");
  if (!ALLOWED.test(name)) {
    throw new BadRequest("filename may only contain letters, digits, '.', '_' and '-'");
  }
  const normalized = name.toLowerCase().endsWith(".wav") ? name : `${name}.wav`;
  // "x." would become "x..wav": reject it rather than invent another name.
  if (normalized.includes("..")) throw new BadRequest("filename must not contain '..'");
  return normalized;
}

/**
 * Reserves `dir/name` for a new recording and returns its absolute path, creating `dir` when
 * missing. `reserved` holds the absolute paths of recordings still in progress; the caller
 * deletes its path from the set once the recording is published or discarded. Throws
 * `Conflict` when the file already exists or another recording holds the same path.
 */
export async function reserveRecordingPath(
  dir: string,
  name: string,
  reserved: Set<string>,
): Promise<string> {
  // Defence in depth: callers pass validated or default names, but a path must never escape.
  const file = validateRecordingFilename(name);
  const base = isAbsolute(dir) ? dir : resolve(dir);
  const path = join(base, file);
  if (reserved.has(path)) throw new Conflict(`recording file ${file} already exists`);
  // Reserve before the first await so a concurrent request for the same name sees it.
  reserved.add(path);
  try {
    await Deno.mkdir(base, { recursive: true });
    try {
      await Deno.lstat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return path;
      throw err;
    }
    throw new Conflict(`recording file ${file} already exists`);
  } catch (err) {
    reserved.delete(path);
    throw err;
  }
}
