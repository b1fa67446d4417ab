/**
 * The end of a recording on the control plane: assembling a leg recording's segments into the
 * final file, uploading finished files to S3, and the fields of `recording.finished`. Only file
 * bytes are moved here (never samples), always off any media tick.
 */

import { concatWavParts, publishFile, removeQuietly } from "../media/recorder_files.ts";
import type { ChannelInfo } from "../media/recording_protocol.ts";
import { type S3Target, uploadFile } from "../storage/s3_upload.ts";

/** Milliseconds per recorded frame. */
export const FRAME_MS = 20;

/** Longest silence inserted between two segments (a move between workers takes milliseconds). */
const MAX_GAP_FRAMES = 60 * 50;

/** One finished segment of a leg recording, as its worker reported it. */
export interface PartResult {
  readonly path: string;
  readonly ok: boolean;
  /** 20 ms ticks recorded. */
  readonly frames: number;
  readonly startWallMs: number;
  readonly error?: string;
}

/** What a finished recording produced (local paths; `""` = nothing was kept). */
export interface FinishResult {
  readonly file: string;
  readonly durationMs: number;
  readonly error?: string;
  readonly multiFile?: string;
  readonly channels?: Readonly<Record<string, ChannelInfo>>;
  readonly omitted?: readonly string[];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Ticks (20 ms) of silence between `prev` and `next`, placed on the wall clock. */
export function gapFrames(prev: PartResult, next: PartResult): number {
  const prevEnd = prev.startWallMs + prev.frames * FRAME_MS;
  const gap = Math.round((next.startWallMs - prevEnd) / FRAME_MS);
  return Math.max(0, Math.min(MAX_GAP_FRAMES, gap));
}

/**
 * Publishes a leg recording at `file` from its segments: one segment is linked into place,
 * several are concatenated with the silence between them. Segment files are removed either way.
 */
export async function assembleLegFile(
  file: string,
  rate: number,
  parts: readonly PartResult[],
): Promise<FinishResult> {
  const ok = parts.filter((p) => p.ok);
  const withAudio = ok.filter((p) => p.frames > 0);
  const used = withAudio.length > 0 ? withAudio : ok.slice(0, 1);
  try {
    if (used.length === 0) {
      const why = parts.find((p) => p.error !== undefined)?.error ?? "nothing was recorded";
      return { file: "", durationMs: 0, error: why };
    }
    if (used.length === 1) {
      await publishFile(used[0].path, file);
      return { file, durationMs: used[0].frames * FRAME_MS };
    }
    // Parts count 20 ms ticks; the file counts sample frames.
    const perTick = rate / 50;
    const samples = await concatWavParts(
      file,
      rate,
      2,
      used.map((p, i) => ({
        path: p.path,
        gapFrames: i === 0 ? 0 : gapFrames(used[i - 1], p) * perTick,
      })),
    );
    return { file, durationMs: Math.round(samples / perTick) * FRAME_MS };
  } catch (err) {
    return { file: "", durationMs: 0, error: message(err) };
  } finally {
    await Promise.all(parts.map((p) => removeQuietly(p.path)));
  }
}

/** The `recording.finished` fields for a result (paths or URLs as given). */
export function finishedFields(r: FinishResult, multi: boolean): Record<string, unknown> {
  const fields: Record<string, unknown> = { file: r.file, duration_ms: r.durationMs };
  if (multi) {
    fields.multi_channel_file = r.multiFile ?? "";
    fields.channels = r.channels ?? {};
    if (r.omitted !== undefined && r.omitted.length > 0) fields.omitted_legs = [...r.omitted];
  }
  if (r.error !== undefined) fields.error = r.error;
  return fields;
}

/**
 * Uploads the result's files and returns it with `s3://` URLs in place of the local paths. On
 * failure the local paths stay and `error` says what went wrong (the local files are kept).
 */
export async function uploadResult(target: S3Target, r: FinishResult): Promise<FinishResult> {
  if (r.file === "") return r;
  try {
    const main = await uploadFile(target, r.file);
    let multiFile = r.multiFile;
    if (multiFile !== undefined && multiFile !== "") {
      multiFile = (await uploadFile(target, multiFile)).url;
    }
    return { ...r, file: main.url, multiFile };
  } catch (err) {
    // The SDK error text names the bucket, key and HTTP status — never the credentials.
    return { ...r, error: message(err) };
  }
}
