/**
 * Recording upload to S3 or an S3-compatible store. A request's `s3_*` fields override the
 * configured defaults; the target is validated (bucket present, endpoint safe) and its bucket
 * probed with HeadBucket before a recording starts, so a bad target fails the request with 400
 * instead of losing the recording at stop. Credentials are never logged or returned.
 */

import { HeadBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { BadRequest } from "../errors.ts";

/** Where a recording goes. Credentials absent means the SDK's default chain (env, files, IMDS). */
export interface S3Target {
  bucket: string;
  region: string;
  /** An S3-compatible endpoint (`https://…`, or `http://` on a private host); path-style. */
  endpoint?: string;
  /** Key prefix without leading or trailing slashes; joined to the file name with `/`. */
  prefix?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** The `s3_*` fields of a record request, as the API receives them. */
export interface S3RequestFields {
  s3_bucket?: string;
  s3_region?: string;
  s3_endpoint?: string;
  s3_prefix?: string;
  s3_access_key?: string;
  s3_secret_key?: string;
}

/** Configured defaults (`S3_BUCKET`, `S3_REGION`, `S3_ENDPOINT`, `S3_PREFIX`). */
export interface S3Defaults {
  s3Bucket?: string;
  s3Region?: string;
  s3Endpoint?: string;
  s3Prefix?: string;
  /** Accept an `http://` endpoint on a public host (`S3_ALLOW_INSECURE_ENDPOINT`). */
  s3AllowInsecureEndpoint?: boolean;
}

/** Where an upload landed. */
export interface S3Upload {
  /** `s3://bucket/key` */
  url: string;
  key: string;
  bytes: number;
}

const DEFAULT_REGION = "us-east-1";
const BUCKET_NAME = /^[A-Za-z0-9._-]{1,255}$/;

function pick(request: string | undefined, fallback: string | undefined): string | undefined {
  const r = request?.trim();
  if (r) return r;
  const f = fallback?.trim();
  return f ? f : undefined;
}

/** True for loopback and private addresses and names: RFC 1918, 127/8, ::1, fc00::/7, localhost. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) return isPrivateV4(v4.slice(1).map(Number));
  if (!host.includes(":")) return false;
  if (host === "::1") return true;
  // WHATWG URL prints an IPv4-mapped address as ::ffff:xxxx:yyyy.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (mapped) {
    const hi = parseInt(mapped[1], 16);
    const lo = parseInt(mapped[2], 16);
    return isPrivateV4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  }
  const first = host.startsWith(":") ? 0 : parseInt(host.split(":")[0], 16);
  return (first & 0xfe00) === 0xfc00; // RFC 4193 unique local
}

function isPrivateV4([a, b]: number[]): boolean {
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/**
 * Merges a request's `s3_*` fields over the configured defaults (the request wins field by
 * field) and validates the result. Throws `BadRequest`.
 */
export function resolveS3Target(request: S3RequestFields, defaults: S3Defaults): S3Target {
  const bucket = pick(request.s3_bucket, defaults.s3Bucket);
  if (bucket === undefined) throw new BadRequest("s3 bucket is required");
  if (!BUCKET_NAME.test(bucket)) throw new BadRequest("invalid s3 bucket name");
  const region = pick(request.s3_region, defaults.s3Region) ?? DEFAULT_REGION;
  const target: S3Target = { bucket, region };

  const endpoint = pick(request.s3_endpoint, defaults.s3Endpoint);
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new BadRequest("s3 endpoint must be an http(s) URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new BadRequest("s3 endpoint must be an http(s) URL");
    }
    if (url.username || url.password) {
      throw new BadRequest("s3 endpoint must not carry credentials");
    }
    if (
      url.protocol === "http:" && !defaults.s3AllowInsecureEndpoint && !isPrivateHost(url.hostname)
    ) {
      throw new BadRequest("insecure http S3 endpoint on a public host");
    }
    target.endpoint = endpoint;
  }

  const prefix = pick(request.s3_prefix, defaults.s3Prefix)?.replace(/^\/+|\/+$/g, "");
  if (prefix) target.prefix = prefix;

  const accessKeyId = request.s3_access_key?.trim() || undefined;
  const secretAccessKey = request.s3_secret_key?.trim() || undefined;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new BadRequest("s3_access_key and s3_secret_key must be given together");
  }
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    target.accessKeyId = accessKeyId;
    target.secretAccessKey = secretAccessKey;
  }
  return target;
}

/** Failures are reported through thrown errors; the SDK must not print to the console. */
const SILENT_LOGGER = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};

function createClient(target: S3Target, maxAttempts: number): S3Client {
  return new S3Client({
    region: target.region,
    endpoint: target.endpoint,
    // Custom endpoints (MinIO, s3rver, Ceph…) rarely serve virtual-hosted bucket names.
    forcePathStyle: target.endpoint !== undefined,
    credentials: target.accessKeyId !== undefined && target.secretAccessKey !== undefined
      ? { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey }
      : undefined,
    // The default CRC trailers use aws-chunked uploads that many S3-compatible stores reject.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts,
    logger: SILENT_LOGGER,
  });
}

interface SdkError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError | null)?.$metadata?.httpStatusCode;
}

function nameOf(err: unknown): string {
  const e = err as SdkError | null;
  return e?.code ?? e?.name ?? "error";
}

function endpointHost(target: S3Target): string {
  if (target.endpoint === undefined) return "AWS";
  return new URL(target.endpoint).host;
}

/**
 * Checks that the bucket exists and is reachable (HeadBucket, bounded by `timeoutMs`). Throws
 * `BadRequest` when it is missing, forbidden or unreachable.
 */
export async function preflightBucket(
  target: S3Target,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const client = createClient(target, 1);
  const ac = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, timeoutMs);
  const onAbort = () => ac.abort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await client.send(new HeadBucketCommand({ Bucket: target.bucket }), {
      abortSignal: ac.signal,
    });
  } catch (err) {
    const status = statusOf(err);
    if (status === 404 || nameOf(err) === "NotFound" || nameOf(err) === "NoSuchBucket") {
      throw new BadRequest(`s3 bucket ${target.bucket} not found`);
    }
    if (status === 401 || status === 403) {
      throw new BadRequest(`s3 bucket ${target.bucket} is not accessible (HTTP ${status})`);
    }
    if (timedOut) {
      throw new BadRequest(
        `s3 endpoint ${endpointHost(target)} did not answer within ${timeoutMs} ms`,
      );
    }
    if (opts.signal?.aborted) throw new BadRequest("s3 preflight aborted");
    if (nameOf(err) === "CredentialsProviderError") {
      throw new BadRequest("s3 credentials are not configured");
    }
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      // The AWS SDK needs --allow-env, --allow-sys=osRelease and --allow-net to the endpoint.
      throw new BadRequest(`s3 preflight not permitted by the runtime (${nameOf(err)})`);
    }
    if (status !== undefined) {
      throw new BadRequest(`s3 bucket ${target.bucket} check failed (HTTP ${status})`);
    }
    throw new BadRequest(`s3 endpoint ${endpointHost(target)} unreachable (${nameOf(err)})`);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
    client.destroy();
  }
}

/** The object key for `name` under the target's prefix. */
export function s3KeyFor(target: S3Target, name: string): string {
  return target.prefix ? `${target.prefix}/${name}` : name;
}

/** Attempts of an upload; a streamed body cannot be replayed by the SDK, so we retry here. */
const UPLOAD_ATTEMPTS = 3;
const UPLOAD_RETRY_BASE_MS = 250;

function isRetryable(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return false;
  const status = statusOf(err);
  // No status: the connection failed or broke. 5xx and throttling: the store asks to retry.
  return status === undefined || status >= 500 || status === 429;
}

/**
 * Uploads `localPath` (streamed, `Content-Type: audio/wav`) to `key`, by default the file's
 * name under the target's prefix. Network failures and 5xx answers are retried up to three
 * times. The local file is left in place.
 */
export async function uploadFile(
  target: S3Target,
  localPath: string,
  key?: string,
  opts: { signal?: AbortSignal } = {},
): Promise<S3Upload> {
  const objectKey = key ?? s3KeyFor(target, basename(localPath));
  let size: number;
  try {
    size = (await Deno.stat(localPath)).size;
  } catch (err) {
    throw new Error(`Cannot upload recording: ${nameOf(err)}`, { cause: err });
  }
  const client = createClient(target, 1);
  try {
    for (let attempt = 1;; attempt++) {
      const body = createReadStream(localPath);
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: target.bucket,
            Key: objectKey,
            Body: body,
            ContentLength: size,
            ContentType: "audio/wav",
          }),
          { abortSignal: opts.signal },
        );
        break;
      } catch (err) {
        if (attempt < UPLOAD_ATTEMPTS && isRetryable(err, opts.signal)) {
          await new Promise((r) => setTimeout(r, UPLOAD_RETRY_BASE_MS * 2 ** (attempt - 1)));
          continue;
        }
        const status = statusOf(err);
        const why = status !== undefined ? `HTTP ${status} ${nameOf(err)}` : nameOf(err);
        throw new Error(`Cannot upload recording to s3://${target.bucket}/${objectKey}: ${why}`, {
          cause: err,
        });
      } finally {
        body.destroy();
      }
    }
  } finally {
    client.destroy();
  }
  return { url: `s3://${target.bucket}/${objectKey}`, key: objectKey, bytes: size };
}
