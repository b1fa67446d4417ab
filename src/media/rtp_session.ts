/**
 * One plain-RTP media session inside a media worker (RFC 3550, RFC 3551 audio profile): its
 * sockets, receive loops, and the two calls the engine's 20 ms tick makes —
 * {@link RtpSession.pullFrame} and {@link RtpSession.sendFrame}, both synchronous and
 * allocation-free in steady state.
 *
 * Sockets: RTP on `port`; RTCP on `port + 1`, or on the RTP socket with rtcp-mux (RFC 5761 §4:
 * a second octet in 192–223 is RTCP). Each socket has one receive loop and one reused 2 KiB
 * buffer; `receive(buf)` returns a view into it, so everything kept is copied before the next
 * receive (the jitter buffer copies payloads). Sends are never awaited (see `rtp_udp.ts`).
 *
 * Accepted RTP: version 2 and well formed, payload type of the codec or of telephone-event, from
 * the latched source (symmetric RTP, RFC 4961, see `rtp_latch.ts`). Everything else is dropped
 * and counted, never thrown. Shutdown order in {@link RtpSession.close}: stop ticking, send the
 * RTCP BYE, wait for in-flight sends, close the sockets, wait for the loops to end.
 *
 * @module
 */
import type { AudioCodec } from "../codecs/codec.ts";
import {
  bareHost,
  checkRemote,
  type RtpDirection,
  type RtpRemote,
  type RtpSessionEvent,
  type RtpSessionOptions,
  validateOptions,
} from "./rtp_options.ts";
import { isRtcpPacket, RtpPacket, unmarshalRtp } from "../rtp/packet.ts";
import type { RtpQuality } from "../rtp/receiver_stats.ts";
import { LATCH_ACCEPT, LATCH_FIRST, LATCH_REJECT, SourceLatch } from "./rtp_latch.ts";
import { INGEST_IGNORED, INGEST_NEW_SSRC, RtpReceiver } from "./rtp_receiver.ts";
import { RTCP_BYE_RECEIVED, RTCP_INVALID, RtcpAgent } from "./rtp_rtcp.ts";
import { random32, RtpSender } from "./rtp_sender.ts";
import { RTP_RECEIVE_BUFFER, udpAddr, UdpSender, unmapHost } from "./rtp_udp.ts";
import { buildStats, type RtpSessionStats } from "./rtp_stats.ts";

export type { RtpSessionStats } from "./rtp_stats.ts";
export type { RtpDirection, RtpRemote, RtpSessionEvent, RtpSessionOptions } from "./rtp_options.ts";

/** Consecutive receive errors after which a loop gives up (a broken socket, not ICMP noise). */
const MAX_RECEIVE_ERRORS = 1000;

/** A bound RTP session; see the module doc. Create with {@link RtpSession.open}. */
export class RtpSession {
  /** Bound RTP port. */
  readonly localPort: number;
  /** Bound RTCP port (equal to {@link localPort} with rtcp-mux). */
  readonly localRtcpPort: number;
  /** Our SSRC (RFC 3550 §8.1: random). */
  readonly ssrc: number;
  /** The codec instance (its `sampleRate` and `frameSamples` size the engine's frames). */
  readonly codec: AudioCodec;
  readonly rtcpMux: boolean;
  readonly #bindHost: string;
  readonly #symmetric: boolean;
  readonly #pt: number;
  readonly #tePt: number;
  readonly #rtpConn: Deno.DatagramConn;
  readonly #rtcpConn: Deno.DatagramConn | null;
  readonly #rtpUdp: UdpSender;
  readonly #rtcpUdp: UdpSender;
  readonly #receiver: RtpReceiver;
  readonly #sender: RtpSender;
  readonly #rtcp: RtcpAgent;
  readonly #latch: SourceLatch;
  readonly #rtcpLatch: SourceLatch;
  readonly #onEvent: ((kind: RtpSessionEvent) => void) | undefined;
  readonly #rx = new RtpPacket();
  readonly #dropped = { malformed: 0, oversize: 0, unknownPayloadType: 0, foreignSource: 0 };
  readonly #received = { packets: 0, octets: 0, ignored: 0 };
  readonly #loops: Promise<void>[];
  #remote: RtpRemote | null = null;
  #rtcpTarget: Deno.NetAddr | null = null;
  #direction: RtpDirection = "sendrecv";
  #lastPacketAt: number;
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(
    options: RtpSessionOptions,
    codec: AudioCodec,
    rtpConn: Deno.DatagramConn,
    rtcpConn: Deno.DatagramConn | null,
  ) {
    const ptimeMs = options.ptimeMs ?? 20;
    this.codec = codec;
    this.rtcpMux = options.rtcpMux;
    this.#bindHost = options.bindHost;
    this.#symmetric = options.symmetric ?? true;
    this.#pt = options.codec.payloadType;
    this.#tePt = options.telephoneEventPt ?? -1;
    this.#rtpConn = rtpConn;
    this.#rtcpConn = rtcpConn;
    this.localPort = (rtpConn.addr as Deno.NetAddr).port;
    this.localRtcpPort = rtcpConn ? (rtcpConn.addr as Deno.NetAddr).port : this.localPort;
    this.ssrc = random32();
    this.#onEvent = options.onEvent;
    this.#rtpUdp = new UdpSender(rtpConn);
    this.#rtcpUdp = rtcpConn ? new UdpSender(rtcpConn, 2) : this.#rtpUdp;
    this.#receiver = new RtpReceiver({
      codec,
      payloadType: this.#pt,
      telephoneEventPt: options.telephoneEventPt,
      jitter: options.jitter,
      ptimeMs,
      onDtmf: options.onDtmf,
    });
    this.#sender = new RtpSender({
      codec,
      payloadType: this.#pt,
      telephoneEventPt: options.telephoneEventPt,
      ssrc: this.ssrc,
      ptimeMs,
      udp: this.#rtpUdp,
    });
    this.#rtcp = new RtcpAgent({
      ssrc: this.ssrc,
      cname: options.cname ?? `vb-${this.ssrc.toString(16).padStart(8, "0")}`,
      stats: this.#receiver.stats,
      intervalMs: options.rtcpIntervalMs,
      ptimeMs,
    });
    const quietMs = options.relatchQuietMs ?? 2000;
    this.#latch = new SourceLatch({ symmetric: this.#symmetric, quietMs });
    this.#rtcpLatch = new SourceLatch({ symmetric: this.#symmetric, quietMs });
    this.#lastPacketAt = performance.now();
    if (options.remote) this.updateRemote(options.remote);
    this.#loops = [this.#receiveLoop(rtpConn, false)];
    if (rtcpConn) this.#loops.push(this.#receiveLoop(rtcpConn, true));
  }

  /**
   * Validates the options and binds the socket(s). Rejects with a RangeError for bad options
   * (unknown codec, payload types, remote host not an IP literal) and with the bind error
   * (`Deno.errors.AddrInUse` when the port is taken: allocate another).
   */
  static open(options: RtpSessionOptions): Promise<RtpSession> {
    let rtp: Deno.DatagramConn | undefined;
    try {
      const codec = validateOptions(options);
      const hostname = bareHost(options.bindHost);
      rtp = Deno.listenDatagram({ transport: "udp", hostname, port: options.port });
      let rtcp: Deno.DatagramConn | null = null;
      if (!options.rtcpMux) {
        // RFC 3550 §11: RTCP on the next (odd) port.
        const port = options.port === 0 ? 0 : options.port + 1;
        rtcp = Deno.listenDatagram({ transport: "udp", hostname, port });
      }
      return Promise.resolve(new RtpSession(options, codec, rtp, rtcp));
    } catch (err) {
      try {
        rtp?.close();
      } catch { /* already closed */ }
      return Promise.reject(err);
    }
  }

  /** PCM sample rate of the frames `pullFrame`/`sendFrame` exchange (16000 for G.722). */
  get sampleRate(): number {
    return this.codec.sampleRate;
  }

  /** Samples per 20 ms frame at {@link sampleRate}. */
  get frameSamples(): number {
    return this.codec.frameSamples;
  }

  /** Current direction (RFC 3264). */
  get direction(): RtpDirection {
    return this.#direction;
  }

  /** Whether the session is closed or closing. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Where RTP goes now: the latched source, else the signalled remote; null when neither is
   * known. A fresh object; not for the 20 ms path.
   */
  get remote(): RtpRemote | null {
    const t = this.#sender.target;
    if (!t) return null;
    const rtcp = this.#rtcpTarget;
    return { host: unmapHost(t.hostname), port: t.port, rtcpPort: rtcp ? rtcp.port : t.port };
  }

  /**
   * Monotonic time (`performance.now()`, ms) of the last accepted RTP packet, for the leg's RTP
   * timeout (30 s). Paused while the direction expects no media: it reads "now" then, and
   * restarts from the moment receiving resumes. Starts at the session's opening.
   */
  get lastPacketAt(): number {
    return this.#receiver.receiving ? this.#lastPacketAt : performance.now();
  }

  /**
   * Sets our direction (hold is the caller's policy: typically sendonly when we hold the peer,
   * recvonly/inactive when the peer holds us). Not sending: ticks send nothing and the next
   * packet carries the marker. Not receiving: packets are counted but not played, no DTMF.
   */
  setDirection(direction: RtpDirection): void {
    const receiving = direction === "sendrecv" || direction === "recvonly";
    if (receiving && !this.#receiver.receiving) {
      this.#lastPacketAt = performance.now();
      this.#receiver.flush();
    }
    this.#direction = direction;
    this.#receiver.receiving = receiving;
    this.#sender.sending = direction === "sendrecv" || direction === "sendonly";
  }

  /**
   * The peer's address changed (re-INVITE, or the answer to our offer). Forgets the latch, so
   * with symmetric RTP the next valid packet latches again (not one from the old source for a
   * quiet period); until then RTP goes to `remote`. An unchanged address keeps the latch.
   */
  updateRemote(remote: RtpRemote): void {
    checkRemote(remote);
    const old = this.#remote;
    if (
      old !== null && old.host === remote.host && old.port === remote.port &&
      old.rtcpPort === remote.rtcpPort
    ) {
      return;
    }
    this.#remote = remote;
    const now = performance.now();
    this.#latch.reset(now);
    this.#rtcpLatch.reset(now);
    this.#retarget();
  }

  /**
   * The 20 ms receive tick: the next frame (codec sample rate, {@link frameSamples} long) into
   * `out`. True when it holds audio (decoded, or the attenuated repeat that conceals one
   * missing frame); false when it is silence (zeroed). Synchronous, allocation-free.
   */
  pullFrame(out: Int16Array): boolean {
    return this.#receiver.pull(out);
  }

  /**
   * The 20 ms send tick: encodes `pcm` (codec sample rate) into one RTP packet — or sends the
   * due DTMF packet instead — and sends it without awaiting; also sends RTCP when due. Call it
   * every tick, with silence when there is nothing to say: the RTP clock advances per call.
   */
  sendFrame(pcm: Int16Array): void {
    if (this.#closed) return;
    const sender = this.#sender;
    this.#rtcp.tick(this.#rtcpUdp, this.#rtcpTarget, sender.counters, sender.timestamp);
    sender.frame(pcm);
  }

  /**
   * Queues RFC 4733 digits (0-9 * # A-D) that replace audio packets on the next ticks (4 updates
   * and 3 end packets per digit, PT `telephoneEventPt`). Throws when telephone-event was not
   * negotiated or a digit is invalid.
   */
  sendDtmf(digits: string): void {
    this.#sender.queueDtmf(digits);
  }

  /** True while queued DTMF digits are still being sent. */
  get dtmfSending(): boolean {
    return this.#sender.dtmfBusy;
  }

  /** The CDR quality block (compat-notes §2.6), or null when no RTP packet arrived. */
  quality(): RtpQuality | null {
    return this.#receiver.stats.quality();
  }

  /** A snapshot of every counter (allocates: for metrics, logs and tests). */
  stats(): RtpSessionStats {
    return buildStats({
      localPort: this.localPort,
      localRtcpPort: this.localRtcpPort,
      ssrc: this.ssrc,
      latched: this.#latch.latched,
      relatches: this.#latch.moves,
      remote: this.remote,
      direction: this.#direction,
      received: this.#received,
      dropped: this.#dropped,
      receiver: this.#receiver,
      sender: this.#sender.counters,
      rtpUdp: this.#rtpUdp,
      rtcpUdp: this.#rtcpConn ? this.#rtcpUdp.stats : null,
      rtcp: this.#rtcp.counters,
    });
  }

  /**
   * Sends an RTCP BYE, waits for pending sends, closes the sockets and waits for the receive
   * loops to end. Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** `await using` support. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    if (this.#rtcpTarget) {
      const s = this.#sender;
      this.#rtcp.sendBye(this.#rtcpUdp, this.#rtcpTarget, s.counters, s.timestamp);
    }
    await Promise.all([this.#rtpUdp.idle(), this.#rtcpUdp.idle()]);
    for (const conn of [this.#rtpConn, this.#rtcpConn]) {
      try {
        conn?.close();
      } catch { /* already closed */ }
    }
    await Promise.all(this.#loops);
  }

  async #receiveLoop(conn: Deno.DatagramConn, rtcpSocket: boolean): Promise<void> {
    // One buffer per socket for its whole life; receive() answers a view into it.
    const buf = new Uint8Array(RTP_RECEIVE_BUFFER);
    let errors = 0;
    while (!this.#closed) {
      let view: Uint8Array;
      let addr: Deno.Addr;
      try {
        [view, addr] = await conn.receive(buf);
        errors = 0;
      } catch {
        if (this.#closed) break;
        if (++errors >= MAX_RECEIVE_ERRORS) {
          this.#emit("receive_failed");
          break;
        }
        continue;
      }
      if (this.#closed) break;
      const from = addr as Deno.NetAddr;
      if (view.length >= RTP_RECEIVE_BUFFER) this.#dropped.oversize++;
      else if (rtcpSocket || (this.rtcpMux && isRtcpPacket(view))) this.#onRtcp(view, from);
      else this.#onRtp(view, from);
    }
  }

  #onRtp(view: Uint8Array, from: Deno.NetAddr): void {
    const pkt = this.#rx;
    if (!unmarshalRtp(view, pkt)) {
      this.#dropped.malformed++;
      return;
    }
    const pt = pkt.payloadType;
    if (pt !== this.#pt && pt !== this.#tePt) {
      this.#dropped.unknownPayloadType++;
      return;
    }
    const now = performance.now();
    const latch = this.#latch.check(from.hostname, from.port, now);
    if (latch === LATCH_REJECT) {
      this.#dropped.foreignSource++;
      return;
    }
    if (latch !== LATCH_ACCEPT) {
      this.#retarget();
      this.#emit(latch === LATCH_FIRST ? "latched" : "relatched");
    }
    this.#lastPacketAt = now;
    this.#received.packets++;
    this.#received.octets += pkt.payload.length;
    const r = this.#receiver.ingest(pkt, now);
    if (r === INGEST_NEW_SSRC) this.#emit("ssrc_changed");
    else if (r === INGEST_IGNORED) this.#received.ignored++;
  }

  #onRtcp(view: Uint8Array, from: Deno.NetAddr): void {
    // With symmetric RTP, RTCP must come from the latched peer's host.
    if (this.#symmetric && this.#latch.latched && from.hostname !== this.#latch.host) {
      this.#dropped.foreignSource++;
      return;
    }
    const r = this.#rtcp.handle(view, performance.now());
    if (r === RTCP_INVALID) return;
    if (!this.rtcpMux && this.#symmetric) {
      // RFC 4961: RTCP, too, goes back where the peer's RTCP comes from.
      if (this.#rtcpLatch.check(from.hostname, from.port, performance.now()) !== LATCH_ACCEPT) {
        this.#retarget();
      }
    }
    if (r === RTCP_BYE_RECEIVED) this.#emit("bye");
  }

  /** Recomputes the RTP and RTCP send addresses after a latch or remote change. */
  #retarget(): void {
    const remote = this.#remote;
    const latch = this.#latch;
    let rtp: Deno.NetAddr | null = null;
    if (latch.latched) rtp = { transport: "udp", hostname: latch.host, port: latch.port };
    else if (remote) rtp = udpAddr(this.#bindHost, remote.host, remote.port);
    this.#sender.target = rtp;
    if (this.rtcpMux || rtp === null) {
      this.#rtcpTarget = rtp;
    } else if (this.#rtcpLatch.latched) {
      const l = this.#rtcpLatch;
      this.#rtcpTarget = { transport: "udp", hostname: l.host, port: l.port };
    } else if (remote && !latch.latched) {
      const port = remote.rtcpPort ?? remote.port + 1;
      this.#rtcpTarget = udpAddr(this.#bindHost, remote.host, port);
    } else {
      // Latched RTP but no RTCP seen yet: the RFC 3550 §11 convention, RTP port + 1.
      const port = remote?.rtcpPort !== undefined && unmapHost(rtp.hostname) === remote.host
        ? remote.rtcpPort
        : rtp.port + 1;
      this.#rtcpTarget = { transport: "udp", hostname: rtp.hostname, port };
    }
  }

  #emit(kind: RtpSessionEvent): void {
    try {
      this.#onEvent?.(kind);
    } catch {
      // a failing listener must not stop the receive loop
    }
  }
}
