import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../../src/config/config.ts";
import type { Config } from "../../../src/config/types.ts";

type Env = Record<string, string | undefined>;

/** Every documented default, except the random instance id and the CPU-derived worker count. */
const DEFAULTS: Omit<Config, "instanceId" | "mediaWorkers"> = {
  httpAddr: { port: 8080 },
  allowedIps: [],
  trustProxyHeaders: false,
  sipBindIp: "127.0.0.1",
  sipListenIp: "127.0.0.1",
  sipBindIpv6: "",
  sipListenIpv6: "",
  sipPort: 5060,
  sipTlsPort: undefined,
  sipTlsCert: "",
  sipTlsKey: "",
  sipTlsCaFile: "",
  sipDebug: false,
  sipDomain: "",
  sipHost: "voiceblender",
  sipExternalIp: "",
  sipCodecs: ["PCMU", "PCMA"],
  sipReferAutoDial: false,
  sipAutoRinging: false,
  sipUseSourceSocket: false,
  sipJitterBufferMs: 0,
  sipJitterBufferMaxMs: 300,
  sipRegistrationDefaultExpiresSeconds: 3600,
  sipRegistrationMaxExpiresSeconds: 7200,
  sipRegistrationSweepIntervalMs: 1000,
  sipRegistrationAllowMultipleContacts: true,
  sipOutboundRegistrationDefaultExpiresSeconds: 3600,
  sipOutboundRegistrationMinExpiresSeconds: 60,
  sipOutboundRegistrationMaxExpiresSeconds: 7200,
  sipOutboundRegistrationRefreshRatio: 0.5,
  sipOutboundRegistrationFailureBackoffMaxMs: 300000,
  iceServers: ["stun:stun.l.google.com:19302"],
  webrtcExternalIps: [],
  recordingDir: "/tmp/recordings",
  logLevel: "info",
  webhookUrl: "",
  webhookSecret: "",
  elevenlabsApiKey: "",
  vapiApiKey: "",
  deepgramApiKey: "",
  azureSpeechKey: "",
  azureSpeechRegion: "eastus",
  s3Bucket: "",
  s3Region: "us-east-1",
  s3Endpoint: "",
  s3Prefix: "",
  googleApplicationCredentials: "",
  ttsCacheEnabled: false,
  ttsCacheDir: "/tmp/tts_cache",
  ttsCacheIncludeApiKey: false,
  rtpPortMin: 10000,
  rtpPortMax: 20000,
  defaultSampleRate: 16000,
  speechDetectionEnabled: false,
  amrwbMode: 2,
  amrwbOctetAligned: true,
  amrnbMode: 7,
  amrnbOctetAligned: true,
  vsiEventBufferSize: 256,
  moqEnabled: false,
  moqListenAddr: { port: 8443 },
  moqTlsCertFile: "",
  moqTlsKeyFile: "",
  moqOpusBitrate: 24000,
  livekitEnabled: false,
  livekitUrl: "",
  livekitOpusBitrate: 24000,
  livekitTokenSigningEnabled: false,
  livekitApiKey: "",
  livekitApiSecret: "",
  livekitDefaultTokenTtlMs: 6 * 3_600_000,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function withoutGenerated(config: Config): Omit<Config, "instanceId" | "mediaWorkers"> {
  const { instanceId: _id, mediaWorkers: _workers, ...rest } = config;
  return rest;
}

Deno.test("loadConfig() applies every documented default to an empty environment", () => {
  const config = loadConfig({}, { cpuCount: 4 });
  assert.deepEqual(withoutGenerated(config), DEFAULTS);
  assert.match(config.instanceId, UUID);
  assert.equal(config.mediaWorkers, 4);
});

Deno.test("loadConfig() treats blank values as unset", () => {
  const env: Env = { SIP_PORT: "", LOG_LEVEL: "  ", SIP_DEBUG: "", ALLOWED_IPS: " , " };
  assert.deepEqual(withoutGenerated(loadConfig(env, { cpuCount: 1 })), DEFAULTS);
});

Deno.test("loadConfig() generates a fresh INSTANCE_ID when unset and keeps a given one", () => {
  assert.notEqual(loadConfig({}).instanceId, loadConfig({}).instanceId);
  assert.match(loadConfig({ INSTANCE_ID: "" }).instanceId, UUID);
  assert.equal(loadConfig({ INSTANCE_ID: "vb-1" }).instanceId, "vb-1");
});

const GOOD: [string, Env, Partial<Config>][] = [
  ["HTTP_ADDR with a host", { HTTP_ADDR: "127.0.0.1:9000" }, {
    httpAddr: { hostname: "127.0.0.1", port: 9000 },
  }],
  ["HTTP_ADDR with a bracketed IPv6 host", { HTTP_ADDR: "[::1]:8081" }, {
    httpAddr: { hostname: "::1", port: 8081 },
  }],
  ["HTTP_ADDR with port 0", { HTTP_ADDR: "0.0.0.0:0" }, {
    httpAddr: { hostname: "0.0.0.0", port: 0 },
  }],
  ["HTTP_ADDR with a host name", { HTTP_ADDR: "localhost:8080" }, {
    httpAddr: { hostname: "localhost", port: 8080 },
  }],
  ["booleans in every accepted spelling", {
    TRUST_PROXY_HEADERS: "TRUE",
    SIP_DEBUG: "1",
    SIP_REFER_AUTO_DIAL: "yes",
    SIP_AUTO_RINGING: "On",
    SIP_REGISTRATION_ALLOW_MULTIPLE_CONTACTS: "off",
    AMRWB_OCTET_ALIGNED: "0",
    AMRNB_OCTET_ALIGNED: "No",
    TTS_CACHE_ENABLED: "false",
  }, {
    trustProxyHeaders: true,
    sipDebug: true,
    sipReferAutoDial: true,
    sipAutoRinging: true,
    sipRegistrationAllowMultipleContacts: false,
    amrwbOctetAligned: false,
    amrnbOctetAligned: false,
    ttsCacheEnabled: false,
  }],
  ["SIP listen addresses following their bind addresses", {
    SIP_BIND_IP: "10.0.0.5",
    SIP_BIND_IPV6: "2001:db8::5",
  }, {
    sipBindIp: "10.0.0.5",
    sipListenIp: "10.0.0.5",
    sipBindIpv6: "2001:db8::5",
    sipListenIpv6: "2001:db8::5",
  }],
  ["separate SIP listen addresses", {
    SIP_BIND_IP: "203.0.113.4",
    SIP_LISTEN_IP: "0.0.0.0",
    SIP_BIND_IPV6: "2001:db8::5",
    SIP_LISTEN_IPV6: "[::]",
  }, {
    sipBindIp: "203.0.113.4",
    sipListenIp: "0.0.0.0",
    sipBindIpv6: "2001:db8::5",
    sipListenIpv6: "::",
  }],
  ["SIP over TLS with cert and key", {
    SIP_TLS_PORT: "5061",
    SIP_TLS_CERT: "/certs/fullchain.pem",
    SIP_TLS_KEY: "/certs/privkey.pem",
  }, {
    sipTlsPort: 5061,
    sipTlsCert: "/certs/fullchain.pem",
    sipTlsKey: "/certs/privkey.pem",
  }],
  ["SIP TLS on an ephemeral port with a pinned CA for outbound dials", {
    SIP_TLS_PORT: "0",
    SIP_TLS_CERT: "/certs/fullchain.pem",
    SIP_TLS_KEY: "/certs/privkey.pem",
    SIP_TLS_CA_FILE: "/certs/peer.pem",
  }, {
    sipTlsPort: 0,
    sipTlsCert: "/certs/fullchain.pem",
    sipTlsKey: "/certs/privkey.pem",
    sipTlsCaFile: "/certs/peer.pem",
  }],
  ["SIP_CODECS normalized, AMR meaning AMR-NB, repeats and unknowns dropped", {
    SIP_CODECS: " OPUS, g722 ,amr, pcmu, ilbc, PCMU, amr-wb, Amr-Nb",
  }, { sipCodecs: ["opus", "G722", "AMR-NB", "PCMU", "AMR-WB"] }],
  ["SIP_CODECS with only unknown names falling back to the default", {
    SIP_CODECS: "speex,,ilbc",
  }, { sipCodecs: ["PCMU", "PCMA"] }],
  ["VSI_EVENT_BUFFER_SIZE clamped up to 16", { VSI_EVENT_BUFFER_SIZE: "5" }, {
    vsiEventBufferSize: 16,
  }],
  ["VSI_EVENT_BUFFER_SIZE clamped down to 1000000", { VSI_EVENT_BUFFER_SIZE: "5000000" }, {
    vsiEventBufferSize: 1_000_000,
  }],
  ["AMR modes clamped into range", { AMRWB_MODE: "12", AMRNB_MODE: "-3" }, {
    amrwbMode: 8,
    amrnbMode: 0,
  }],
  ["AMR modes in range kept", { AMRWB_MODE: "8", AMRNB_MODE: "4" }, {
    amrwbMode: 8,
    amrnbMode: 4,
  }],
  ["an out-of-range refresh ratio falling back to 0.5", {
    SIP_OUTBOUND_REGISTRATION_REFRESH_RATIO: "1.5",
  }, { sipOutboundRegistrationRefreshRatio: 0.5 }],
  ["a zero refresh ratio falling back to 0.5", {
    SIP_OUTBOUND_REGISTRATION_REFRESH_RATIO: "0",
  }, { sipOutboundRegistrationRefreshRatio: 0.5 }],
  ["an in-range refresh ratio kept", { SIP_OUTBOUND_REGISTRATION_REFRESH_RATIO: ".8" }, {
    sipOutboundRegistrationRefreshRatio: 0.8,
  }],
  ["LOG_LEVEL in any case, warning meaning warn", { LOG_LEVEL: "WARNING" }, {
    logLevel: "warn",
  }],
  ["LOG_LEVEL debug", { LOG_LEVEL: "Debug" }, { logLevel: "debug" }],
  ["ALLOWED_IPS mixing IPv4, IPv6 and networks", {
    ALLOWED_IPS: " 127.0.0.1, 10.0.0.0/8,,2001:db8::/32 ,::1",
  }, {
    allowedIps: [
      { family: 4, bytes: new Uint8Array([127, 0, 0, 1]), prefix: 32, text: "127.0.0.1/32" },
      { family: 4, bytes: new Uint8Array([10, 0, 0, 0]), prefix: 8, text: "10.0.0.0/8" },
      {
        family: 6,
        bytes: new Uint8Array([0x20, 0x01, 0x0d, 0xb8, ...new Array(12).fill(0)]),
        prefix: 32,
        text: "2001:db8::/32",
      },
      {
        family: 6,
        bytes: new Uint8Array([...new Array(15).fill(0), 1]),
        prefix: 128,
        text: "::1/128",
      },
    ],
  }],
  ["ICE_SERVERS and WEBRTC_EXTERNAL_IPS as trimmed lists", {
    ICE_SERVERS: "stun:a.example:3478 , turn:b.example:3478",
    WEBRTC_EXTERNAL_IPS: "203.0.113.7, 2001:db8::7 , AUTO",
  }, {
    iceServers: ["stun:a.example:3478", "turn:b.example:3478"],
    webrtcExternalIps: ["203.0.113.7", "2001:db8::7", "auto"],
  }],
  ["LIVEKIT_DEFAULT_TOKEN_TTL as a compound Go duration", {
    LIVEKIT_DEFAULT_TOKEN_TTL: "1h30m",
  }, { livekitDefaultTokenTtlMs: 90 * 60_000 }],
  ["LIVEKIT_DEFAULT_TOKEN_TTL in minutes", { LIVEKIT_DEFAULT_TOKEN_TTL: "90m" }, {
    livekitDefaultTokenTtlMs: 90 * 60_000,
  }],
  ["LIVEKIT_DEFAULT_TOKEN_TTL in seconds", { LIVEKIT_DEFAULT_TOKEN_TTL: "45s" }, {
    livekitDefaultTokenTtlMs: 45_000,
  }],
  ["LIVEKIT_DEFAULT_TOKEN_TTL with a fraction", { LIVEKIT_DEFAULT_TOKEN_TTL: "1.5h" }, {
    livekitDefaultTokenTtlMs: 90 * 60_000,
  }],
  ["LiveKit enabled without a default URL", { LIVEKIT_ENABLED: "true" }, {
    livekitEnabled: true,
    livekitUrl: "",
  }],
  ["LiveKit token signing with key and secret", {
    LIVEKIT_TOKEN_SIGNING_ENABLED: "true",
    LIVEKIT_API_KEY: "key",
    LIVEKIT_API_SECRET: "secret",
  }, { livekitTokenSigningEnabled: true, livekitApiKey: "key", livekitApiSecret: "secret" }],
  ["MoQ enabled with cert and key", {
    MOQ_ENABLED: "true",
    MOQ_TLS_CERT_FILE: "/c.pem",
    MOQ_TLS_KEY_FILE: "/k.pem",
    MOQ_LISTEN_ADDR: "[::]:4443",
    MOQ_OPUS_BITRATE: "6000",
  }, {
    moqEnabled: true,
    moqTlsCertFile: "/c.pem",
    moqTlsKeyFile: "/k.pem",
    moqListenAddr: { hostname: "::", port: 4443 },
    moqOpusBitrate: 6000,
  }],
  ["bitrates at the upper bound", { LIVEKIT_OPUS_BITRATE: "510000" }, {
    livekitOpusBitrate: 510000,
  }],
  ["sample rate and RTP range overrides", {
    DEFAULT_SAMPLE_RATE: "48000",
    RTP_PORT_MIN: "30000",
    RTP_PORT_MAX: "30000",
  }, { defaultSampleRate: 48000, rtpPortMin: 30000, rtpPortMax: 30000 }],
  ["S3_REGION falling back to AWS_REGION", { AWS_REGION: "eu-west-1" }, {
    s3Region: "eu-west-1",
  }],
  ["S3_REGION winning over AWS_REGION", { AWS_REGION: "eu-west-1", S3_REGION: "us-west-2" }, {
    s3Region: "us-west-2",
  }],
  ["string overrides", {
    SIP_HOST: "vb",
    SIP_DOMAIN: "sip.example.com",
    SIP_EXTERNAL_IP: "198.51.100.1",
    RECORDING_DIR: "/data/rec",
    WEBHOOK_URL: "https://hooks.example/vb",
    WEBHOOK_SECRET: " s3cret ",
    AZURE_SPEECH_REGION: "westeurope",
    SIP_JITTER_BUFFER_MS: "60",
    SIP_JITTER_BUFFER_MAX_MS: "200",
  }, {
    sipHost: "vb",
    sipDomain: "sip.example.com",
    sipExternalIp: "198.51.100.1",
    recordingDir: "/data/rec",
    webhookUrl: "https://hooks.example/vb",
    webhookSecret: " s3cret ",
    azureSpeechRegion: "westeurope",
    sipJitterBufferMs: 60,
    sipJitterBufferMaxMs: 200,
  }],
];

for (const [what, env, expected] of GOOD) {
  Deno.test(`loadConfig() accepts ${what}`, () => {
    // Everything not overridden must keep its default.
    assert.deepEqual(withoutGenerated(loadConfig(env)), { ...DEFAULTS, ...expected });
  });
}

Deno.test("loadConfig() sizes MEDIA_WORKERS from the CPU count within 1..64", () => {
  assert.equal(loadConfig({}, { cpuCount: 8 }).mediaWorkers, 8);
  assert.equal(loadConfig({}, { cpuCount: 0 }).mediaWorkers, 1);
  assert.equal(loadConfig({}, { cpuCount: 256 }).mediaWorkers, 64);
  assert.equal(loadConfig({ MEDIA_WORKERS: "3" }, { cpuCount: 8 }).mediaWorkers, 3);
  const detected = loadConfig({}).mediaWorkers;
  assert.ok(detected >= 1 && detected <= 64);
});

const BAD: [Env, string][] = [
  [{ HTTP_ADDR: "8080" }, 'invalid HTTP_ADDR: "8080" (must be [host]:port with a port 0-65535)'],
  [
    { HTTP_ADDR: ":65536" },
    'invalid HTTP_ADDR: ":65536" (must be [host]:port with a port 0-65535)',
  ],
  [
    { HTTP_ADDR: "::1:8080" },
    'invalid HTTP_ADDR: "::1:8080" (must be [host]:port with a port 0-65535)',
  ],
  [{ ALLOWED_IPS: "10.0.0.1, 10.0.0.300" }, 'invalid ALLOWED_IPS entry: "10.0.0.300"'],
  [{ ALLOWED_IPS: "::1/129" }, 'invalid ALLOWED_IPS entry: "::1/129"'],
  [
    { TRUST_PROXY_HEADERS: "maybe" },
    'invalid TRUST_PROXY_HEADERS: "maybe" (must be a boolean: true/false, 1/0, yes/no or on/off)',
  ],
  [{ SIP_BIND_IP: "example.com" }, 'invalid SIP_BIND_IP: "example.com" (must be an IP address)'],
  [{ SIP_BIND_IPV6: "10.0.0.1" }, 'invalid SIP_BIND_IPV6: "10.0.0.1" (must be an IPv6 address)'],
  [{ SIP_PORT: "abc" }, 'invalid SIP_PORT: "abc" (must be an integer 0-65535)'],
  [{ SIP_PORT: "-1" }, 'invalid SIP_PORT: "-1" (must be an integer 0-65535)'],
  [{ SIP_PORT: "65536" }, 'invalid SIP_PORT: "65536" (must be an integer 0-65535)'],
  [{ SIP_PORT: "0x13c4" }, 'invalid SIP_PORT: "0x13c4" (must be an integer 0-65535)'],
  [{ SIP_TLS_PORT: "5061.5" }, 'invalid SIP_TLS_PORT: "5061.5" (must be an integer 0-65535)'],
  [{ SIP_TLS_PORT: "5061" }, "SIP_TLS_PORT is set but SIP_TLS_CERT and SIP_TLS_KEY are required"],
  [
    { SIP_TLS_PORT: "5061", SIP_TLS_CERT: "/c.pem" },
    "SIP_TLS_PORT is set but SIP_TLS_CERT and SIP_TLS_KEY are required",
  ],
  [
    { WEBRTC_EXTERNAL_IPS: "1.2.3.4,nat.example" },
    'invalid WEBRTC_EXTERNAL_IPS entry: "nat.example"',
  ],
  [{ LOG_LEVEL: "verbose" }, 'invalid LOG_LEVEL: "verbose" (allowed: debug, info, warn, error)'],
  [{ RTP_PORT_MIN: "70000" }, 'invalid RTP_PORT_MIN: "70000" (must be an integer 1-65535)'],
  [
    { RTP_PORT_MIN: "20000", RTP_PORT_MAX: "10000" },
    "invalid RTP port range: RTP_PORT_MIN 20000 > RTP_PORT_MAX 10000",
  ],
  [
    { SIP_JITTER_BUFFER_MS: "-20" },
    'invalid SIP_JITTER_BUFFER_MS: "-20" (must be an integer >= 0)',
  ],
  [
    { SIP_EXTERNAL_IP: "2001:db8::1" },
    'invalid SIP_EXTERNAL_IP: "2001:db8::1" (must be an IPv4 address)',
  ],
  [
    { DEFAULT_SAMPLE_RATE: "11025" },
    'invalid DEFAULT_SAMPLE_RATE: "11025" (allowed: 8000, 16000, 48000)',
  ],
  [
    { SIP_REGISTRATION_SWEEP_INTERVAL_MS: "0" },
    'invalid SIP_REGISTRATION_SWEEP_INTERVAL_MS: "0" (must be an integer >= 1)',
  ],
  [
    { SIP_OUTBOUND_REGISTRATION_REFRESH_RATIO: "half" },
    'invalid SIP_OUTBOUND_REGISTRATION_REFRESH_RATIO: "half" (must be a number)',
  ],
  [{ AMRWB_MODE: "high" }, 'invalid AMRWB_MODE: "high" (must be an integer)'],
  [{ VSI_EVENT_BUFFER_SIZE: "1e3" }, 'invalid VSI_EVENT_BUFFER_SIZE: "1e3" (must be an integer)'],
  [
    { MOQ_ENABLED: "true" },
    "MOQ_ENABLED is true but MOQ_TLS_CERT_FILE and MOQ_TLS_KEY_FILE are required",
  ],
  [
    { MOQ_OPUS_BITRATE: "5999" },
    'invalid MOQ_OPUS_BITRATE: "5999" (must be an integer 6000-510000)',
  ],
  [
    { LIVEKIT_OPUS_BITRATE: "510001" },
    'invalid LIVEKIT_OPUS_BITRATE: "510001" (must be an integer 6000-510000)',
  ],
  [
    { LIVEKIT_TOKEN_SIGNING_ENABLED: "true", LIVEKIT_API_KEY: "k" },
    "LIVEKIT_TOKEN_SIGNING_ENABLED is true but LIVEKIT_API_KEY and LIVEKIT_API_SECRET are required",
  ],
  [
    { LIVEKIT_DEFAULT_TOKEN_TTL: "6 hours" },
    'invalid LIVEKIT_DEFAULT_TOKEN_TTL: "6 hours" (must be a positive Go duration such as 6h, 90m or 1h30m)',
  ],
  [
    { LIVEKIT_DEFAULT_TOKEN_TTL: "3600" },
    'invalid LIVEKIT_DEFAULT_TOKEN_TTL: "3600" (must be a positive Go duration such as 6h, 90m or 1h30m)',
  ],
  [
    { LIVEKIT_DEFAULT_TOKEN_TTL: "-1h" },
    'invalid LIVEKIT_DEFAULT_TOKEN_TTL: "-1h" (must be a positive Go duration such as 6h, 90m or 1h30m)',
  ],
  [{ MEDIA_WORKERS: "65" }, 'invalid MEDIA_WORKERS: "65" (must be an integer 1-64)'],
];

for (const [env, message] of BAD) {
  const what = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ");
  Deno.test(`loadConfig() rejects ${what}`, () => {
    assert.throws(() => loadConfig(env), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.name, "ConfigError");
      assert.equal(err.message, message);
      return true;
    });
  });
}

Deno.test("loadConfig() reports the first bad variable in table order", () => {
  const env: Env = { DEFAULT_SAMPLE_RATE: "1", SIP_PORT: "x", LOG_LEVEL: "loud" };
  assert.throws(() => loadConfig(env), {
    message: 'invalid SIP_PORT: "x" (must be an integer 0-65535)',
  });
});

Deno.test("loadConfig() never puts a secret value in an error message", () => {
  const env: Env = {
    WEBHOOK_SECRET: "hook-secret-value",
    LIVEKIT_API_KEY: "lk-key-value",
    LIVEKIT_TOKEN_SIGNING_ENABLED: "true",
    ELEVENLABS_API_KEY: "el-key-value",
  };
  assert.throws(() => loadConfig(env), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    for (const secret of ["hook-secret-value", "lk-key-value", "el-key-value"]) {
      assert.ok(!err.message.includes(secret), err.message);
    }
    return true;
  });
});

Deno.test("loadConfig() accepts SIP_PORT=0 as an ephemeral port", () => {
  assert.equal(loadConfig({ SIP_PORT: "0" }).sipPort, 0);
});
