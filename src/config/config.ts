/**
 * Builds the typed, validated Config from an environment snapshot. This is the only module that
 * interprets environment variables; main.ts hands it `Deno.env.toObject()`. Variables are read in
 * the order of the product's configuration table and the first malformed one throws.
 */
import type { LogLevel } from "../log/logger.ts";
import {
  parseBool,
  parseDecimal,
  parseDecimalInt,
  parseGoDuration,
  parseList,
  parseListenAddr,
  parseSipCodecs,
} from "./env_values.ts";
import { type Cidr, parseCidr, parseIp } from "./ip_cidr.ts";
import type { Config, ListenAddr, RoomSampleRate, SipCodecName } from "./types.ts";

/** A malformed or inconsistent configuration; the message names the variable (never a secret). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Options for `loadConfig()`. */
export interface LoadConfigOptions {
  /** CPU count used for the `MEDIA_WORKERS` default (defaults to `navigator.hardwareConcurrency`). */
  readonly cpuCount?: number;
}

/** An environment snapshot such as `Deno.env.toObject()`. */
export type EnvSnapshot = Readonly<Record<string, string | undefined>>;

const SAMPLE_RATES: readonly RoomSampleRate[] = [8000, 16000, 48000];
const LOG_LEVELS: ReadonlyMap<string, LogLevel> = new Map([
  ["debug", "debug"],
  ["info", "info"],
  ["warn", "warn"],
  ["warning", "warn"],
  ["error", "error"],
]);
const DEFAULT_CODECS: readonly SipCodecName[] = ["PCMU", "PCMA"];
const MAX_MEDIA_WORKERS = 64;

/** Typed accessors over the snapshot; each throws a ConfigError naming the variable and value. */
class EnvReader {
  readonly #env: EnvSnapshot;

  constructor(env: EnvSnapshot) {
    this.#env = env;
  }

  /** The trimmed value, or undefined when unset or blank. */
  get(name: string): string | undefined {
    const value = this.#env[name]?.trim();
    return value ? value : undefined;
  }

  /** Free-form text (paths, URLs, secrets) taken verbatim; blank means the default. */
  text(name: string, fallback = ""): string {
    const value = this.#env[name];
    return value === undefined || value.trim() === "" ? fallback : value;
  }

  fail(name: string, value: string, why: string): never {
    throw new ConfigError(`invalid ${name}: ${JSON.stringify(value)} (${why})`);
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.get(name);
    if (value === undefined) return fallback;
    return parseBool(value) ??
      this.fail(name, value, "must be a boolean: true/false, 1/0, yes/no or on/off");
  }

  /** An integer that must lie in [min, max]. */
  int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.get(name);
    if (value === undefined) return fallback;
    const n = parseDecimalInt(value);
    if (n !== null && n >= min && n <= max) return n;
    const range = max === Number.MAX_SAFE_INTEGER ? ` >= ${min}` : ` ${min}-${max}`;
    return this.fail(name, value, `must be an integer${range}`);
  }

  /** An integer silently clamped into [min, max]; only a non-integer is an error. */
  clampedInt(name: string, fallback: number, min: number, max: number): number {
    const value = this.get(name);
    if (value === undefined) return fallback;
    const n = parseDecimalInt(value) ?? this.fail(name, value, "must be an integer");
    return Math.min(max, Math.max(min, n));
  }

  port(name: string, fallback: number): number {
    return this.int(name, fallback, 1, 65535);
  }

  /** An IP literal (brackets stripped, zone kept); `family` restricts it to IPv4 or IPv6. */
  ip(name: string, fallback: string, family?: 4 | 6): string {
    const value = this.get(name);
    if (value === undefined) return fallback;
    const parsed = parseIp(value);
    if (parsed === null || (family !== undefined && parsed.family !== family)) {
      const kind = family === undefined ? "an IP" : `an IPv${family}`;
      return this.fail(name, value, `must be ${kind} address`);
    }
    return value.startsWith("[") ? value.slice(1, -1) : value;
  }

  listenAddr(name: string, fallback: string): ListenAddr {
    const value = this.get(name) ?? fallback;
    return parseListenAddr(value) ??
      this.fail(name, value, "must be [host]:port with a port 0-65535");
  }

  bitrate(name: string, fallback: number): number {
    return this.int(name, fallback, 6000, 510000);
  }
}

function readAllowedIps(r: EnvReader): Cidr[] {
  const cidrs: Cidr[] = [];
  for (const entry of parseList(r.get("ALLOWED_IPS") ?? "")) {
    try {
      cidrs.push(parseCidr(entry));
    } catch {
      throw new ConfigError(`invalid ALLOWED_IPS entry: ${JSON.stringify(entry)}`);
    }
  }
  return cidrs;
}

function readWebrtcExternalIps(r: EnvReader): string[] {
  const entries = parseList(r.get("WEBRTC_EXTERNAL_IPS") ?? "");
  return entries.map((entry) => {
    // "auto" asks for STUN discovery of the public address at startup.
    if (entry.toLowerCase() === "auto") return "auto";
    if (parseIp(entry) === null) {
      throw new ConfigError(`invalid WEBRTC_EXTERNAL_IPS entry: ${JSON.stringify(entry)}`);
    }
    return entry;
  });
}

function readSampleRate(r: EnvReader): RoomSampleRate {
  const value = r.get("DEFAULT_SAMPLE_RATE");
  if (value === undefined) return 16000;
  const rate = SAMPLE_RATES.find((allowed) => String(allowed) === value);
  return rate ?? r.fail("DEFAULT_SAMPLE_RATE", value, `allowed: ${SAMPLE_RATES.join(", ")}`);
}

function readLogLevel(r: EnvReader): LogLevel {
  const value = r.get("LOG_LEVEL");
  if (value === undefined) return "info";
  return LOG_LEVELS.get(value.toLowerCase()) ??
    r.fail("LOG_LEVEL", value, "allowed: debug, info, warn, error");
}

function readRefreshRatio(r: EnvReader): number {
  const name = "SIP_OUTBOUND_REGISTRATION_REFRESH_RATIO";
  const value = r.get(name);
  if (value === undefined) return 0.5;
  const ratio = parseDecimal(value) ?? r.fail(name, value, "must be a number");
  // The table asks for a fallback rather than an error when the ratio is outside (0, 1).
  return ratio > 0 && ratio < 1 ? ratio : 0.5;
}

function readTokenTtl(r: EnvReader): number {
  const name = "LIVEKIT_DEFAULT_TOKEN_TTL";
  const value = r.get(name) ?? "6h";
  const ms = parseGoDuration(value);
  if (ms === null || ms <= 0) {
    return r.fail(name, value, "must be a positive Go duration such as 6h, 90m or 1h30m");
  }
  return ms;
}

function readMediaWorkers(r: EnvReader, cpuCount: number | undefined): number {
  const detected = Math.floor(cpuCount ?? navigator.hardwareConcurrency ?? 1);
  const fallback = Math.min(MAX_MEDIA_WORKERS, Math.max(1, detected || 1));
  return r.int("MEDIA_WORKERS", fallback, 1, MAX_MEDIA_WORKERS);
}

/**
 * Reads every configuration variable from `env`, applying the documented defaults, and returns
 * the validated Config. Throws a ConfigError for the first malformed variable in table order.
 */
export function loadConfig(env: EnvSnapshot, options: LoadConfigOptions = {}): Config {
  const r = new EnvReader(env);

  const instanceId = r.get("INSTANCE_ID") ?? crypto.randomUUID();
  const httpAddr = r.listenAddr("HTTP_ADDR", ":8080");
  const allowedIps = readAllowedIps(r);
  const trustProxyHeaders = r.bool("TRUST_PROXY_HEADERS", false);

  const sipBindIp = r.ip("SIP_BIND_IP", "127.0.0.1");
  const sipListenIp = r.ip("SIP_LISTEN_IP", sipBindIp);
  const sipBindIpv6 = r.ip("SIP_BIND_IPV6", "", 6);
  const sipListenIpv6 = r.ip("SIP_LISTEN_IPV6", sipBindIpv6, 6);
  // 0 asks for an ephemeral port (tests); the SIP stack reports the one it bound.
  const sipPort = r.int("SIP_PORT", 5060, 0, 65535);
  // As for SIP_PORT, 0 asks for an ephemeral port.
  const sipTlsPort = r.get("SIP_TLS_PORT") === undefined
    ? undefined
    : r.int("SIP_TLS_PORT", 0, 0, 65535);
  const sipTlsCert = r.text("SIP_TLS_CERT");
  const sipTlsKey = r.text("SIP_TLS_KEY");
  if (sipTlsPort !== undefined && (sipTlsCert === "" || sipTlsKey === "")) {
    throw new ConfigError("SIP_TLS_PORT is set but SIP_TLS_CERT and SIP_TLS_KEY are required");
  }
  // Extra CAs (PEM) trusted on outbound TLS dials; a peer's self-signed certificate may be pinned.
  const sipTlsCaFile = r.text("SIP_TLS_CA_FILE");
  const sipDebug = r.bool("SIP_DEBUG", false);
  // Empty means "use the advertised IP"; the SIP layer applies that fallback.
  const sipDomain = r.get("SIP_DOMAIN") ?? "";
  const sipHost = r.get("SIP_HOST") ?? "voiceblender";

  const iceServersText = r.get("ICE_SERVERS");
  const iceServers = iceServersText === undefined
    ? ["stun:stun.l.google.com:19302"]
    : parseList(iceServersText);
  const webrtcExternalIps = readWebrtcExternalIps(r);

  const recordingDir = r.text("RECORDING_DIR", "/tmp/recordings");
  const logLevel = readLogLevel(r);
  const webhookUrl = r.get("WEBHOOK_URL") ?? "";
  const webhookSecret = r.text("WEBHOOK_SECRET");
  const elevenlabsApiKey = r.text("ELEVENLABS_API_KEY");
  const vapiApiKey = r.text("VAPI_API_KEY");
  const deepgramApiKey = r.text("DEEPGRAM_API_KEY");
  const azureSpeechKey = r.text("AZURE_SPEECH_KEY");
  const azureSpeechRegion = r.get("AZURE_SPEECH_REGION") ?? "eastus";

  const s3Bucket = r.get("S3_BUCKET") ?? "";
  // AWS_REGION stands in only when S3_REGION is not given.
  const s3Region = r.get("S3_REGION") ?? r.get("AWS_REGION") ?? "us-east-1";
  const s3Endpoint = r.get("S3_ENDPOINT") ?? "";
  const s3Prefix = r.text("S3_PREFIX");
  const googleApplicationCredentials = r.text("GOOGLE_APPLICATION_CREDENTIALS");

  const ttsCacheEnabled = r.bool("TTS_CACHE_ENABLED", false);
  const ttsCacheDir = r.text("TTS_CACHE_DIR", "/tmp/tts_cache");
  const ttsCacheIncludeApiKey = r.bool("TTS_CACHE_INCLUDE_API_KEY", false);

  const rtpPortMin = r.port("RTP_PORT_MIN", 10000);
  const rtpPortMax = r.port("RTP_PORT_MAX", 20000);
  if (rtpPortMin > rtpPortMax) {
    throw new ConfigError(
      `invalid RTP port range: RTP_PORT_MIN ${rtpPortMin} > RTP_PORT_MAX ${rtpPortMax}`,
    );
  }
  const sipJitterBufferMs = r.int("SIP_JITTER_BUFFER_MS", 0, 0);
  const sipJitterBufferMaxMs = r.int("SIP_JITTER_BUFFER_MAX_MS", 300, 0);
  const sipExternalIp = r.ip("SIP_EXTERNAL_IP", "", 4);
  const defaultSampleRate = readSampleRate(r);
  const sipCodecsParsed = parseSipCodecs(r.get("SIP_CODECS") ?? "");
  const sipCodecs = sipCodecsParsed.length > 0 ? sipCodecsParsed : [...DEFAULT_CODECS];
  const sipReferAutoDial = r.bool("SIP_REFER_AUTO_DIAL", false);
  const sipAutoRinging = r.bool("SIP_AUTO_RINGING", false);
  const sipUseSourceSocket = r.bool("SIP_USE_SOURCE_SOCKET", false);

  const sipRegistrationDefaultExpiresSeconds = r.int(
    "SIP_REGISTRATION_DEFAULT_EXPIRES_SECONDS",
    3600,
    1,
  );
  const sipRegistrationMaxExpiresSeconds = r.int("SIP_REGISTRATION_MAX_EXPIRES_SECONDS", 7200, 1);
  const sipRegistrationSweepIntervalMs = r.int("SIP_REGISTRATION_SWEEP_INTERVAL_MS", 1000, 1);
  const sipRegistrationAllowMultipleContacts = r.bool(
    "SIP_REGISTRATION_ALLOW_MULTIPLE_CONTACTS",
    true,
  );
  const sipOutboundRegistrationDefaultExpiresSeconds = r.int(
    "SIP_OUTBOUND_REGISTRATION_DEFAULT_EXPIRES_SECONDS",
    3600,
    1,
  );
  const sipOutboundRegistrationMinExpiresSeconds = r.int(
    "SIP_OUTBOUND_REGISTRATION_MIN_EXPIRES_SECONDS",
    60,
    1,
  );
  const sipOutboundRegistrationMaxExpiresSeconds = r.int(
    "SIP_OUTBOUND_REGISTRATION_MAX_EXPIRES_SECONDS",
    7200,
    1,
  );
  const sipOutboundRegistrationRefreshRatio = readRefreshRatio(r);
  const sipOutboundRegistrationFailureBackoffMaxMs = r.int(
    "SIP_OUTBOUND_REGISTRATION_FAILURE_BACKOFF_MAX_MS",
    300000,
    1,
  );
  const speechDetectionEnabled = r.bool("SPEECH_DETECTION_ENABLED", false);

  const amrwbMode = r.clampedInt("AMRWB_MODE", 2, 0, 8);
  const amrwbOctetAligned = r.bool("AMRWB_OCTET_ALIGNED", true);
  const amrnbMode = r.clampedInt("AMRNB_MODE", 7, 0, 7);
  const amrnbOctetAligned = r.bool("AMRNB_OCTET_ALIGNED", true);
  const vsiEventBufferSize = r.clampedInt("VSI_EVENT_BUFFER_SIZE", 256, 16, 1_000_000);

  const moqEnabled = r.bool("MOQ_ENABLED", false);
  const moqListenAddr = r.listenAddr("MOQ_LISTEN_ADDR", ":8443");
  const moqTlsCertFile = r.text("MOQ_TLS_CERT_FILE");
  const moqTlsKeyFile = r.text("MOQ_TLS_KEY_FILE");
  if (moqEnabled && (moqTlsCertFile === "" || moqTlsKeyFile === "")) {
    throw new ConfigError(
      "MOQ_ENABLED is true but MOQ_TLS_CERT_FILE and MOQ_TLS_KEY_FILE are required",
    );
  }
  const moqOpusBitrate = r.bitrate("MOQ_OPUS_BITRATE", 24000);

  const livekitEnabled = r.bool("LIVEKIT_ENABLED", false);
  // A missing LIVEKIT_URL is fine: each request may carry its own url.
  const livekitUrl = r.get("LIVEKIT_URL") ?? "";
  const livekitOpusBitrate = r.bitrate("LIVEKIT_OPUS_BITRATE", 24000);
  const livekitTokenSigningEnabled = r.bool("LIVEKIT_TOKEN_SIGNING_ENABLED", false);
  const livekitApiKey = r.text("LIVEKIT_API_KEY");
  const livekitApiSecret = r.text("LIVEKIT_API_SECRET");
  if (livekitTokenSigningEnabled && (livekitApiKey === "" || livekitApiSecret === "")) {
    throw new ConfigError(
      "LIVEKIT_TOKEN_SIGNING_ENABLED is true but LIVEKIT_API_KEY and LIVEKIT_API_SECRET are required",
    );
  }
  const livekitDefaultTokenTtlMs = readTokenTtl(r);

  const mediaWorkers = readMediaWorkers(r, options.cpuCount);

  return {
    instanceId,
    httpAddr,
    allowedIps,
    trustProxyHeaders,
    sipBindIp,
    sipListenIp,
    sipBindIpv6,
    sipListenIpv6,
    sipPort,
    sipTlsPort,
    sipTlsCaFile,
    sipTlsCert,
    sipTlsKey,
    sipDebug,
    sipDomain,
    sipHost,
    sipExternalIp,
    sipCodecs,
    sipReferAutoDial,
    sipAutoRinging,
    sipUseSourceSocket,
    sipJitterBufferMs,
    sipJitterBufferMaxMs,
    sipRegistrationDefaultExpiresSeconds,
    sipRegistrationMaxExpiresSeconds,
    sipRegistrationSweepIntervalMs,
    sipRegistrationAllowMultipleContacts,
    sipOutboundRegistrationDefaultExpiresSeconds,
    sipOutboundRegistrationMinExpiresSeconds,
    sipOutboundRegistrationMaxExpiresSeconds,
    sipOutboundRegistrationRefreshRatio,
    sipOutboundRegistrationFailureBackoffMaxMs,
    iceServers,
    webrtcExternalIps,
    recordingDir,
    logLevel,
    webhookUrl,
    webhookSecret,
    elevenlabsApiKey,
    vapiApiKey,
    deepgramApiKey,
    azureSpeechKey,
    azureSpeechRegion,
    s3Bucket,
    s3Region,
    s3Endpoint,
    s3Prefix,
    googleApplicationCredentials,
    ttsCacheEnabled,
    ttsCacheDir,
    ttsCacheIncludeApiKey,
    rtpPortMin,
    rtpPortMax,
    defaultSampleRate,
    speechDetectionEnabled,
    amrwbMode,
    amrwbOctetAligned,
    amrnbMode,
    amrnbOctetAligned,
    vsiEventBufferSize,
    moqEnabled,
    moqListenAddr,
    moqTlsCertFile,
    moqTlsKeyFile,
    moqOpusBitrate,
    livekitEnabled,
    livekitUrl,
    livekitOpusBitrate,
    livekitTokenSigningEnabled,
    livekitApiKey,
    livekitApiSecret,
    livekitDefaultTokenTtlMs,
    mediaWorkers,
  };
}
