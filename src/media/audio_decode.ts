/**
 * Decodes a playback source (WAV, MP3 or raw 16-bit PCM) to mono 16-bit samples at the file's
 * own rate; resampling to the leg or room rate happens downstream. The container is detected
 * from magic bytes first, then the declared media type, then the URL's extension.
 */

import wavefile from "wavefile";
import { MPEGDecoder } from "mpg123-decoder";
import { ALAW_TO_PCM, ULAW_TO_PCM } from "../codecs/g711.ts";

/** Mono audio at the source's sample rate. */
export interface DecodedAudio {
  sampleRate: number;
  /** Mono samples: multi-channel sources are averaged. */
  samples: Int16Array;
  /** Channel count of the source, before the downmix. */
  channels: number;
  durationMs: number;
}

/** What the caller knows about the bytes: the declared media type and where they came from. */
export interface DecodeHint {
  mimeType?: string;
  url?: string;
}

/** Sample rates accepted from a source, in Hz. */
export const MIN_SOURCE_RATE = 4000;
/** Highest sample rate accepted from a source, in Hz. */
export const MAX_SOURCE_RATE = 192000;
/** Longest source accepted: 30 minutes. */
export const MAX_SOURCE_DURATION_MS = 30 * 60 * 1000;
const MAX_SOURCE_CHANNELS = 32;

type Container =
  | { kind: "wav" }
  | { kind: "mp3" }
  | { kind: "raw"; rate: number; channels: number; bigEndian: boolean };

interface MediaType {
  base: string;
  params: Map<string, string>;
}

function parseMediaType(value: string | undefined): MediaType | null {
  if (!value) return null;
  const [base, ...rest] = value.split(";");
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    params.set(
      p.slice(0, eq).trim().toLowerCase(),
      p.slice(eq + 1).trim().replace(/^"|"$/g, ""),
    );
  }
  return { base: base.trim().toLowerCase(), params };
}

const WAV_TYPES = new Set(["audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"]);
const MP3_TYPES = new Set(["audio/mpeg", "audio/mp3", "audio/mpeg3", "audio/x-mpeg-3"]);
const RAW_LE_TYPES = new Set(["audio/pcm", "audio/x-pcm", "audio/raw"]);
const RAW_BE_TYPES = new Set(["audio/l16", "audio/x-l16"]);

function ascii(b: Uint8Array, off: number, len: number): string {
  if (b.length < off + len) return "";
  return String.fromCharCode(...b.subarray(off, off + len));
}

/** Parses an MPEG audio frame header (ISO 11172-3 §2.4.2.3) at `i`; null when there is none. */
function mpegHeaderAt(b: Uint8Array, i: number): { channels: number } | null {
  if (i + 4 > b.length || b[i] !== 0xff || (b[i + 1] & 0xe0) !== 0xe0) return null;
  const version = (b[i + 1] >> 3) & 3;
  const layer = (b[i + 1] >> 1) & 3;
  const bitrate = b[i + 2] >> 4;
  const rate = (b[i + 2] >> 2) & 3;
  // Reserved values; layer 0 is also how ADTS (AAC) marks itself.
  if (version === 1 || layer === 0 || bitrate === 15 || rate === 3) return null;
  return { channels: (b[i + 3] >> 6) === 3 ? 1 : 2 };
}

/** Size of a leading ID3v2 tag, footer included, or 0. */
function id3Size(b: Uint8Array): number {
  if (ascii(b, 0, 3) !== "ID3" || b.length < 10) return 0;
  const size = ((b[6] & 0x7f) << 21) | ((b[7] & 0x7f) << 14) | ((b[8] & 0x7f) << 7) |
    (b[9] & 0x7f);
  return 10 + size + ((b[5] & 0x10) ? 10 : 0);
}

function extensionOf(url: string | undefined): string {
  if (!url) return "";
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url.split(/[?#]/, 1)[0];
  }
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot + 1);
}

function rawContainer(type: MediaType, bigEndian: boolean): Container {
  const rateText = type.params.get("rate");
  if (rateText === undefined) {
    throw new Error(`Cannot decode audio: ${type.base} needs a rate parameter`);
  }
  const rate = Number(rateText);
  const channels = Number(type.params.get("channels") ?? "1");
  checkRate(rate);
  checkChannels(channels);
  return { kind: "raw", rate, channels, bigEndian };
}

function detect(bytes: Uint8Array, hint: DecodeHint): Container {
  const type = parseMediaType(hint.mimeType);
  const riff = ascii(bytes, 0, 4);
  if ((riff === "RIFF" || riff === "RIFX" || riff === "RF64") && ascii(bytes, 8, 4) === "WAVE") {
    return { kind: "wav" };
  }
  // A declared raw type wins over the weak MPEG sync test: PCM silence is full of 0xFFFx words.
  if (type !== null && RAW_LE_TYPES.has(type.base)) return rawContainer(type, false);
  if (type !== null && RAW_BE_TYPES.has(type.base)) return rawContainer(type, true);
  if (ascii(bytes, 0, 3) === "ID3" || mpegHeaderAt(bytes, 0) !== null) return { kind: "mp3" };
  if (type !== null && WAV_TYPES.has(type.base)) return { kind: "wav" };
  if (type !== null && MP3_TYPES.has(type.base)) return { kind: "mp3" };
  const ext = extensionOf(hint.url);
  if (ext === "wav" || ext === "wave") return { kind: "wav" };
  if (ext === "mp3") return { kind: "mp3" };
  const what = type !== null ? ` (${type.base})` : "";
  throw new Error(`Cannot decode audio: unrecognized format${what}`);
}

function checkRate(rate: number): void {
  if (!Number.isInteger(rate) || rate < MIN_SOURCE_RATE || rate > MAX_SOURCE_RATE) {
    throw new Error(
      `Cannot decode audio: sample rate ${rate} outside ${MIN_SOURCE_RATE}..${MAX_SOURCE_RATE}`,
    );
  }
}

function checkChannels(channels: number): void {
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_SOURCE_CHANNELS) {
    throw new Error(`Cannot decode audio: invalid channel count ${channels}`);
  }
}

function checkDuration(frames: number, rate: number): void {
  if (frames > rate * (MAX_SOURCE_DURATION_MS / 1000)) {
    throw new Error("Cannot decode audio: longer than 30 minutes");
  }
}

function result(samples: Int16Array, sampleRate: number, channels: number): DecodedAudio {
  if (samples.length === 0) throw new Error("Cannot decode audio: no samples");
  return {
    sampleRate,
    samples,
    channels,
    durationMs: Math.round(samples.length * 1000 / sampleRate),
  };
}

function clamp16(v: number): number {
  // NaN (a corrupt float sample) becomes silence.
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r || 0;
}

/**
 * Decodes `bytes` to mono 16-bit samples. Throws an Error whose message starts with
 * `Cannot decode` for anything unsupported, corrupt, empty or absurd (rate outside
 * 4–192 kHz, no channels, longer than 30 minutes).
 */
export async function decodeAudio(bytes: Uint8Array, hint: DecodeHint = {}): Promise<DecodedAudio> {
  const container = detect(bytes, hint);
  switch (container.kind) {
    case "wav":
      return await decodeWav(bytes);
    case "mp3":
      return await decodeMp3(bytes);
    case "raw":
      return await decodeRaw(bytes, container.rate, container.channels, container.bigEndian);
  }
}

/** Longest stretch of decoding between yields, so a media worker's 20 ms clock keeps ticking. */
const SLICE_MS = 5;
const BLOCK_FRAMES = 4096;

/** Returns a function that yields to the event loop once SLICE_MS of work has passed. */
function pacer(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < SLICE_MS) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    last = performance.now();
  };
}

type SampleReader = (view: DataView, off: number) => number;

/** Reads `frames` interleaved frames of `width`-byte samples and averages them to mono. */
async function downmix(
  view: DataView,
  frames: number,
  channels: number,
  width: number,
  read: SampleReader,
): Promise<Int16Array> {
  const out = new Int16Array(frames);
  const pace = pacer();
  for (let start = 0; start < frames; start += BLOCK_FRAMES) {
    const end = Math.min(frames, start + BLOCK_FRAMES);
    let off = start * channels * width;
    if (channels === 1) {
      for (let f = start; f < end; f++, off += width) out[f] = clamp16(read(view, off));
    } else {
      for (let f = start; f < end; f++) {
        let sum = 0;
        for (let c = 0; c < channels; c++, off += width) sum += read(view, off);
        out[f] = clamp16(sum / channels);
      }
    }
    await pace();
  }
  return out;
}

async function decodeRaw(
  bytes: Uint8Array,
  rate: number,
  channels: number,
  bigEndian: boolean,
): Promise<DecodedAudio> {
  const frames = Math.floor(bytes.length / (2 * channels));
  checkDuration(frames, rate);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = !bigEndian;
  const out = await downmix(view, frames, channels, 2, (v, o) => v.getInt16(o, le));
  return result(out, rate, channels);
}

// ---------------------------------------------------------------------------------------------
// WAV

/** The fields of wavefile's `fmt` object that we read. */
interface WavFmt {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  subformat?: number[];
}

interface WavData {
  chunkSize: number;
  samples: Uint8Array;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_ALAW = 6;
const WAVE_FORMAT_MULAW = 7;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Streaming writers that cannot seek back leave the size at its maximum. */
const UNKNOWN_SIZE = 0xffff_ffff;

function wavError(detail: string): Error {
  return new Error(`Cannot decode WAV: ${detail}`);
}

function parseWav(bytes: Uint8Array): { fmt: WavFmt; data: WavData; bigEndian: boolean } {
  if (ascii(bytes, 0, 4) === "RF64") throw wavError("RF64 is not supported");
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(bytes, true);
  } catch (err) {
    const msg = err instanceof Error ? err.message : "";
    if (msg.includes('"fmt "')) throw wavError("missing fmt chunk");
    if (msg.includes('"data"')) throw wavError("missing data chunk");
    throw wavError("malformed header");
  }
  return {
    fmt: wav.fmt as unknown as WavFmt,
    data: wav.data as unknown as WavData,
    bigEndian: wav.container === "RIFX",
  };
}

function sampleReader(format: number, bits: number, width: number, be: boolean): SampleReader {
  const le = !be;
  if (format === WAVE_FORMAT_PCM) {
    // Values are left-justified in their container, so reading the container is enough.
    switch (width) {
      case 1:
        return (v, o) => (v.getUint8(o) - 128) * 256;
      case 2:
        return (v, o) => v.getInt16(o, le);
      case 3:
        return (v, o) => {
          const lo = le ? v.getUint8(o) : v.getUint8(o + 2);
          const hi = le ? v.getInt16(o + 1, true) : v.getInt16(o, false);
          return (hi * 256 + lo) / 256;
        };
      case 4:
        return (v, o) => v.getInt32(o, le) / 65536;
    }
  }
  if (format === WAVE_FORMAT_IEEE_FLOAT && bits === 32 && width === 4) {
    return (v, o) => v.getFloat32(o, le) * 32768;
  }
  if (format === WAVE_FORMAT_IEEE_FLOAT && bits === 64 && width === 8) {
    return (v, o) => v.getFloat64(o, le) * 32768;
  }
  if (format === WAVE_FORMAT_MULAW && bits === 8 && width === 1) {
    const table = ULAW_TO_PCM;
    return (v, o) => table[v.getUint8(o)];
  }
  if (format === WAVE_FORMAT_ALAW && bits === 8 && width === 1) {
    const table = ALAW_TO_PCM;
    return (v, o) => table[v.getUint8(o)];
  }
  throw wavError(`unsupported format ${format} bits ${bits}`);
}

async function decodeWav(bytes: Uint8Array): Promise<DecodedAudio> {
  const { fmt, data, bigEndian } = parseWav(bytes);
  const channels = fmt.numChannels;
  const bits = fmt.bitsPerSample;
  const format = fmt.audioFormat === WAVE_FORMAT_EXTENSIBLE && fmt.subformat
    ? fmt.subformat[0]
    : fmt.audioFormat;
  if (!Number.isInteger(channels) || channels < 1) throw wavError("no channels");
  checkChannels(channels);
  checkRate(fmt.sampleRate);
  if (!Number.isInteger(bits) || bits < 1 || bits > 64) throw wavError(`invalid bits ${bits}`);
  // The block alignment gives the container width (e.g. 20-bit samples in 3 bytes).
  const width = fmt.blockAlign > 0 && fmt.blockAlign % channels === 0
    ? fmt.blockAlign / channels
    : Math.ceil(bits / 8);
  if (width < Math.ceil(bits / 8)) throw wavError(`block align ${fmt.blockAlign} too small`);
  const read = sampleReader(format, bits, width, bigEndian);

  const declared = data.chunkSize;
  const present = data.samples.length;
  if (declared !== UNKNOWN_SIZE && declared > present) {
    throw wavError(`truncated data chunk (${present} of ${declared} bytes)`);
  }
  const usable = declared === UNKNOWN_SIZE ? present : Math.min(declared, present);
  const blockAlign = width * channels;
  const frames = Math.floor(usable / blockAlign);
  if (frames === 0) throw wavError("no samples");
  checkDuration(frames, fmt.sampleRate);

  const view = new DataView(data.samples.buffer, data.samples.byteOffset, usable);
  const out = await downmix(view, frames, channels, width, read);
  return result(out, fmt.sampleRate, channels);
}

// ---------------------------------------------------------------------------------------------
// MP3

/**
 * Bytes handed to the decoder per call (≈2 s at 128 kbit/s): small enough to yield between
 * calls and to enforce the 30-minute cap while decoding.
 */
const MP3_FEED_BYTES = 32 * 1024;

/** Channel count from the first frame header after any ID3v2 tag (the decoder always outputs two). */
function mp3Channels(bytes: Uint8Array): number {
  const start = id3Size(bytes);
  const end = Math.min(bytes.length - 4, start + 64 * 1024);
  for (let i = start; i < end; i++) {
    const h = mpegHeaderAt(bytes, i);
    if (h !== null) return h.channels;
  }
  return 2;
}

/** mpg123 return codes (mpg123.h). */
const MPG123_OK = 0;
const MPG123_NEED_MORE = -10;
const MPG123_NEW_FORMAT = -11;
/** Consecutive read failures after which the rest of a chunk is treated as garbage. */
const MAX_CONSECUTIVE_READ_FAILURES = 64;

interface Mpg123Internals {
  _common?: { wasm?: { mpeg_decoder_read?: (...args: number[]) => number } };
}

/**
 * mpg123-decoder 1.0.3 logs every failed `mpeg_decoder_read` with console.error and retries
 * it in an unbounded loop. Report a failure to the library as "new format" (which it skips
 * silently) and give up on the chunk after too many failures in a row, so corrupt input can
 * neither flood the log nor spin the media worker.
 */
function guardDecoderReads(decoder: MPEGDecoder): { failures: number } {
  const wasm = (decoder as unknown as Mpg123Internals)._common?.wasm;
  const read = wasm?.mpeg_decoder_read;
  if (wasm === undefined || typeof read !== "function") {
    throw new Error("Cannot decode MP3: unexpected mpg123-decoder internals");
  }
  const stats = { failures: 0 };
  let streak = 0;
  wasm.mpeg_decoder_read = (...args: number[]) => {
    const code = read(...args);
    if (code === MPG123_OK || code === MPG123_NEED_MORE || code === MPG123_NEW_FORMAT) {
      streak = 0;
      return code;
    }
    stats.failures++;
    if (++streak >= MAX_CONSECUTIVE_READ_FAILURES) {
      streak = 0;
      return MPG123_NEED_MORE;
    }
    return MPG123_NEW_FORMAT;
  };
  return stats;
}

async function decodeMp3(bytes: Uint8Array): Promise<DecodedAudio> {
  const decoder = new MPEGDecoder();
  let out = new Int16Array(0);
  let frames = 0;
  let rate = 0;
  let stats = { failures: 0 };
  const pace = pacer();
  try {
    await decoder.ready;
    stats = guardDecoderReads(decoder);
    for (let off = 0; off < bytes.length; off += MP3_FEED_BYTES) {
      await pace();
      const decoded = decoder.decode(bytes.subarray(off, off + MP3_FEED_BYTES));
      const n = decoded.samplesDecoded;
      if (n === 0) continue;
      if (rate === 0) {
        rate = decoded.sampleRate;
        checkRate(rate);
      } else if (decoded.sampleRate !== rate) {
        throw new Error("Cannot decode MP3: sample rate changes mid-stream");
      }
      checkDuration(frames + n, rate);
      if (frames + n > out.length) {
        const grown = new Int16Array(Math.max(frames + n, out.length * 2, rate));
        grown.set(out.subarray(0, frames));
        out = grown;
      }
      const ch = decoded.channelData;
      if (ch.length === 1) {
        for (let i = 0; i < n; i++) out[frames + i] = clamp16(ch[0][i] * 32768);
      } else {
        const l = ch[0];
        const r = ch[1];
        for (let i = 0; i < n; i++) out[frames + i] = clamp16((l[i] + r[i]) * 16384);
      }
      frames += n;
    }
  } catch (err) {
    if (err instanceof Error && err.message.startsWith("Cannot decode")) throw err;
    throw new Error(`Cannot decode MP3: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    try {
      decoder.free();
    } catch {
      // Nothing to free when the WASM module never instantiated.
    }
  }
  if (frames === 0) {
    const why = stats.failures > 0 ? ` (${stats.failures} decoder errors)` : "";
    throw new Error(`Cannot decode MP3: no audio frames${why}`);
  }
  return result(out.slice(0, frames), rate, mp3Channels(bytes));
}
