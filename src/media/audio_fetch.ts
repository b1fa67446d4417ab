/**
 * Fetches the bytes of a playback source: an http(s) URL, or a local file when allowed. Every
 * read is bounded (size and time) and every failure is reported without the URL's path or
 * query, which may carry access tokens.
 */

import { BadRequest } from "../errors.ts";

/** Where to fetch audio from. */
export interface AudioSource {
  url: string;
}

/** Limits and cancellation for {@linkcode fetchAudio}. */
export interface FetchAudioOptions {
  /** Largest body accepted, in bytes (default 50 MiB). */
  maxBytes?: number;
  /** Deadline for the whole fetch, body included, in milliseconds (default 15000). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Allow `file://` URLs and absolute paths (default false). */
  allowFile?: boolean;
}

/** The fetched bytes and the server's media type, if any. */
export interface FetchedAudio {
  bytes: Uint8Array;
  contentType: string | null;
}

/** Default size cap of a fetched audio source. */
export const DEFAULT_MAX_AUDIO_BYTES = 50 * 1024 * 1024;
/** Default deadline of an audio fetch. */
export const DEFAULT_AUDIO_FETCH_TIMEOUT_MS = 15_000;

type Target = { kind: "http"; url: URL } | { kind: "file"; path: string };

function parseSource(raw: string, allowFile: boolean): Target | string {
  if (raw.startsWith("/")) {
    return allowFile ? { kind: "file", path: raw } : "local files are not allowed";
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "invalid URL";
  }
  if (url.protocol === "http:" || url.protocol === "https:") return { kind: "http", url };
  if (url.protocol === "file:") {
    if (!allowFile) return "local files are not allowed";
    if (url.host !== "" && url.host !== "localhost") return "file URL must not name a host";
    try {
      return { kind: "file", path: decodeURIComponent(url.pathname) };
    } catch {
      return "invalid URL";
    }
  }
  return `unsupported URL scheme ${url.protocol.slice(0, -1)}`;
}

/**
 * Checks that `url` is a source {@linkcode fetchAudio} can read, for validation before a
 * request is accepted. Throws `BadRequest`.
 */
export function checkAudioUrl(url: string, opts: { allowFile?: boolean } = {}): void {
  const target = parseSource(url, opts.allowFile ?? false);
  if (typeof target === "string") throw new BadRequest(`url: ${target}`);
}

/**
 * Reads an audio source into memory. http(s) bodies are streamed and abandoned past `maxBytes`;
 * the timeout covers connecting, the headers and the whole body.
 */
export async function fetchAudio(
  source: AudioSource,
  opts: FetchAudioOptions = {},
): Promise<FetchedAudio> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_AUDIO_BYTES;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_AUDIO_FETCH_TIMEOUT_MS;
  const target = parseSource(source.url, opts.allowFile ?? false);
  if (typeof target === "string") throw new Error(`Cannot fetch audio: ${target}`);
  opts.signal?.throwIfAborted();
  if (target.kind === "file") {
    return { bytes: await readLocal(target.path, maxBytes, opts.signal), contentType: null };
  }
  return await fetchHttp(target.url, maxBytes, timeoutMs, opts.signal);
}

async function fetchHttp(
  url: URL,
  maxBytes: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<FetchedAudio> {
  const host = url.host;
  const ac = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort(new DOMException("audio fetch timed out", "TimeoutError"));
  }, timeoutMs);
  const onAbort = () => ac.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  let body: ReadableStream<Uint8Array> | null = null;
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: ac.signal, redirect: "follow" });
    } catch (err) {
      throw failure(err, `connection failed (${host})`);
    }
    body = res.body;
    if (!res.ok) throw new Error(`Cannot fetch audio: HTTP ${res.status}`);
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > maxBytes) throw tooLarge(maxBytes);
    const contentType = res.headers.get("content-type");
    if (body === null) return { bytes: new Uint8Array(0), contentType };
    const reader = body.getReader();
    body = null; // the reader owns it now; cancelled below on failure
    try {
      const bytes = await readBounded(reader, maxBytes, () => {
        throw tooLarge(maxBytes);
      });
      return { bytes, contentType };
    } catch (err) {
      await reader.cancel().catch(() => {});
      if (err instanceof Error && err.message.startsWith("Cannot fetch audio:")) throw err;
      throw failure(err, `connection lost (${host})`);
    } finally {
      reader.releaseLock();
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    if (body !== null) await body.cancel().catch(() => {});
  }

  function failure(err: unknown, otherwise: string): Error {
    if (timedOut) return new Error(`Cannot fetch audio: timed out after ${timeoutMs} ms`);
    if (signal?.aborted) return new Error("Cannot fetch audio: aborted", { cause: err });
    // The underlying message names the full URL; keep only the host.
    return new Error(`Cannot fetch audio: ${otherwise}`);
  }
}

function tooLarge(maxBytes: number): Error {
  return new Error(`Cannot fetch audio: larger than ${maxBytes} bytes`);
}

/** Reads until EOF, calling `overflow` (which throws) once more than `maxBytes` arrived. */
async function readBounded(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxBytes: number,
  overflow: () => never,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) overflow();
    parts.push(value);
  }
  return concat(parts, total);
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

async function readLocal(
  path: string,
  maxBytes: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    throw fileError(err);
  }
  try {
    const info = await file.stat();
    if (!info.isFile) throw new Error("Cannot read audio file: not a regular file");
    if (info.size > maxBytes) {
      throw new Error(`Cannot read audio file: larger than ${maxBytes} bytes`);
    }
    // The file may grow while we read: never hold more than maxBytes + 1 bytes.
    const cap = maxBytes + 1;
    let buf = new Uint8Array(Math.min(info.size + 1, cap));
    let off = 0;
    for (;;) {
      signal?.throwIfAborted();
      if (off === buf.length) {
        if (buf.length >= cap) {
          throw new Error(`Cannot read audio file: larger than ${maxBytes} bytes`);
        }
        const grown = new Uint8Array(Math.min(Math.max(buf.length * 2, 65536), cap));
        grown.set(buf);
        buf = grown;
      }
      const n = await file.read(buf.subarray(off));
      if (n === null) break;
      off += n;
    }
    return buf.subarray(0, off);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith("Cannot read audio file:")) throw err;
    if (signal?.aborted) throw new Error("Cannot fetch audio: aborted", { cause: err });
    throw fileError(err);
  } finally {
    file.close();
  }
}

function fileError(err: unknown): Error {
  if (err instanceof Deno.errors.NotFound) return new Error("Cannot read audio file: not found");
  if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
    return new Error("Cannot read audio file: not permitted");
  }
  if (err instanceof Deno.errors.IsADirectory) {
    return new Error("Cannot read audio file: not a regular file");
  }
  return new Error(`Cannot read audio file: ${err instanceof Error ? err.name : "error"}`);
}
