/**
 * The typed configuration. Every variable of the product description's configuration table has a
 * field here (camelCase of its name) with its documented default applied by `loadConfig()`.
 */
import type { LogLevel } from "../log/logger.ts";
import type { Cidr } from "./ip_cidr.ts";

/** Mixer sample rates a room may run at. */
export type RoomSampleRate = 8000 | 16000 | 48000;

/** SIP codec names as `SIP_CODECS` spells them (canonical case). */
export type SipCodecName = "PCMU" | "PCMA" | "G722" | "opus" | "AMR-WB" | "AMR-NB";

/** A parsed `host:port` listen address (`:8080` → hostname undefined = all interfaces). */
export interface ListenAddr {
  readonly hostname?: string;
  readonly port: number;
}

/** The whole server configuration. */
export interface Config {
  readonly instanceId: string;
  readonly httpAddr: ListenAddr;
  /** Empty = allow all. */
  readonly allowedIps: readonly Cidr[];
  readonly trustProxyHeaders: boolean;

  readonly sipBindIp: string;
  readonly sipListenIp: string;
  readonly sipBindIpv6: string;
  readonly sipListenIpv6: string;
  readonly sipPort: number;
  /** undefined = TLS disabled. */
  readonly sipTlsPort?: number;
  readonly sipTlsCert: string;
  readonly sipTlsKey: string;
  /** `SIP_TLS_CA_FILE`: PEM bundle of extra CAs for outbound TLS ("" = system roots only). */
  readonly sipTlsCaFile: string;
  readonly sipDebug: boolean;
  readonly sipDomain: string;
  readonly sipHost: string;
  readonly sipExternalIp: string;
  readonly sipCodecs: readonly SipCodecName[];
  readonly sipReferAutoDial: boolean;
  readonly sipAutoRinging: boolean;
  readonly sipUseSourceSocket: boolean;
  readonly sipJitterBufferMs: number;
  readonly sipJitterBufferMaxMs: number;
  readonly sipRegistrationDefaultExpiresSeconds: number;
  readonly sipRegistrationMaxExpiresSeconds: number;
  readonly sipRegistrationSweepIntervalMs: number;
  readonly sipRegistrationAllowMultipleContacts: boolean;
  readonly sipOutboundRegistrationDefaultExpiresSeconds: number;
  readonly sipOutboundRegistrationMinExpiresSeconds: number;
  readonly sipOutboundRegistrationMaxExpiresSeconds: number;
  readonly sipOutboundRegistrationRefreshRatio: number;
  readonly sipOutboundRegistrationFailureBackoffMaxMs: number;

  readonly iceServers: readonly string[];
  readonly webrtcExternalIps: readonly string[];

  readonly recordingDir: string;
  readonly logLevel: LogLevel;
  readonly webhookUrl: string;
  readonly webhookSecret: string;

  readonly elevenlabsApiKey: string;
  readonly vapiApiKey: string;
  readonly deepgramApiKey: string;
  readonly azureSpeechKey: string;
  readonly azureSpeechRegion: string;

  readonly s3Bucket: string;
  readonly s3Region: string;
  readonly s3Endpoint: string;
  readonly s3Prefix: string;
  readonly googleApplicationCredentials: string;

  readonly ttsCacheEnabled: boolean;
  readonly ttsCacheDir: string;
  readonly ttsCacheIncludeApiKey: boolean;

  readonly rtpPortMin: number;
  readonly rtpPortMax: number;
  readonly defaultSampleRate: RoomSampleRate;
  readonly speechDetectionEnabled: boolean;

  readonly amrwbMode: number;
  readonly amrwbOctetAligned: boolean;
  readonly amrnbMode: number;
  readonly amrnbOctetAligned: boolean;

  readonly vsiEventBufferSize: number;

  readonly moqEnabled: boolean;
  readonly moqListenAddr: ListenAddr;
  readonly moqTlsCertFile: string;
  readonly moqTlsKeyFile: string;
  readonly moqOpusBitrate: number;

  readonly livekitEnabled: boolean;
  readonly livekitUrl: string;
  readonly livekitOpusBitrate: number;
  readonly livekitTokenSigningEnabled: boolean;
  readonly livekitApiKey: string;
  readonly livekitApiSecret: string;
  /** Parsed from a Go duration string (default `6h`). */
  readonly livekitDefaultTokenTtlMs: number;

  /** Media worker pool size (`MEDIA_WORKERS`, default: CPU count). */
  readonly mediaWorkers: number;
}
