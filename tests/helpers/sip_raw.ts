/**
 * A raw SIP peer for integration tests: sends bytes exactly as given over UDP or TCP on loopback
 * and collects what the server sends back as text, split into its start line and header fields
 * without judging them (a 400 may echo a malformed To verbatim, RFC 3261 §8.2.6.2), plus our
 * parser's reading when it has one.
 */
import { headerKey, parseMessage, type SipMessage } from "../../src/sip/message/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A message's start line and unfolded header fields, keyed by lower-case long name. */
export interface RawFields {
  readonly startLine: string;
  readonly fields: readonly (readonly [key: string, value: string])[];
}

/**
 * Splits the header section of `text` (up to the first empty line) into fields: continuation
 * lines are joined (RFC 3261 §7.3.1), names mapped to their long lower-case form (`i` → `call-id`).
 */
export function rawFields(text: string | Uint8Array): RawFields {
  const s = typeof text === "string" ? text : dec.decode(text);
  const end = s.indexOf("\r\n\r\n");
  const lines = (end < 0 ? s : s.slice(0, end)).split("\r\n");
  const fields: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i];
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1])) line += " " + lines[++i];
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    fields.push([headerKey(line.slice(0, colon).trim()), line.slice(colon + 1).trim()]);
  }
  return { startLine: lines[0], fields };
}

/** Every value of header `name` in `f` (by long or compact name, any case). */
export function rawValues(f: RawFields, name: string): string[] {
  const key = headerKey(name);
  return f.fields.filter(([k]) => k === key).map(([, v]) => v);
}

/** One message from the server. */
export class RawReply {
  /** The wire text. */
  readonly raw: string;
  readonly fields: RawFields;
  /** Our parser's reading, when the message parses. */
  readonly message: SipMessage | undefined;

  constructor(bytes: Uint8Array) {
    this.raw = dec.decode(bytes);
    this.fields = rawFields(this.raw);
    const r = parseMessage(bytes);
    this.message = r.ok ? r.message : undefined;
  }

  /** The status code of a response; undefined for a request or an unreadable start line. */
  get status(): number | undefined {
    const m = /^SIP\/2\.0 (\d{3}) /.exec(this.fields.startLine);
    return m ? Number(m[1]) : undefined;
  }

  /** The reason phrase of a response. */
  get reason(): string {
    return this.fields.startLine.replace(/^SIP\/2\.0 \d{3} ?/, "");
  }

  /** Every value of header `name`. */
  values(name: string): string[] {
    return rawValues(this.fields, name);
  }

  /** The first value of header `name`. */
  value(name: string): string | undefined {
    return this.values(name)[0];
  }
}

/** A predicate on replies. */
export type ReplyMatch = (r: RawReply) => boolean;

/** Text with `\n` line ends turned into CRLF wire bytes. */
export function crlf(text: string): Uint8Array {
  return enc.encode(text.replaceAll("\r\n", "\n").replaceAll("\n", "\r\n"));
}

/** The common inbox of both peers: received replies and a waiter for the next one. */
abstract class RawPeer {
  /** Replies received and not yet taken by `next`. */
  readonly inbox: RawReply[] = [];
  /** Everything received, in order (including what `next` took). */
  readonly all: RawReply[] = [];
  #wake: (() => void) | undefined;

  protected push(bytes: Uint8Array): void {
    const r = new RawReply(bytes);
    this.inbox.push(r);
    this.all.push(r);
    this.wake();
  }

  protected wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Whether the peer can no longer receive (closed by us or the server). */
  abstract get done(): boolean;

  /**
   * Takes the first reply matching `match` (default: any), waiting up to `ms` for one;
   * undefined when none came in time or the peer closed.
   */
  async next(match: ReplyMatch = () => true, ms = 3000): Promise<RawReply | undefined> {
    const deadline = performance.now() + ms;
    while (true) {
      const i = this.inbox.findIndex(match);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      const left = deadline - performance.now();
      if (left <= 0 || this.done) return undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** The next response (optionally: final only, with this status, to this Call-ID). */
  response(
    opts: { status?: number; callId?: string; final?: boolean; ms?: number } = {},
  ): Promise<RawReply | undefined> {
    return this.next((r) =>
      r.status !== undefined &&
      (opts.status === undefined || r.status === opts.status) &&
      (opts.final !== true || r.status >= 200) &&
      (opts.callId === undefined || r.value("Call-ID") === opts.callId), opts.ms);
  }
}

/** A UDP peer on 127.0.0.1 sending datagrams to one SIP port. */
export class RawUdpPeer extends RawPeer {
  readonly socket: Deno.DatagramConn;
  readonly to: Deno.NetAddr;
  #closed = false;
  readonly #loop: Promise<void>;

  constructor(port: number, hostname = "127.0.0.1") {
    super();
    this.socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
    this.to = { transport: "udp", hostname, port };
    this.#loop = this.#receive();
  }

  /** Our local port (what the server sees as the source). */
  get port(): number {
    return (this.socket.addr as Deno.NetAddr).port;
  }

  get done(): boolean {
    return this.#closed;
  }

  /** Sends one datagram (text as given; use `crlf` for `\n`-written text). */
  async send(data: Uint8Array | string): Promise<void> {
    await this.socket.send(typeof data === "string" ? enc.encode(data) : data, this.to);
  }

  async #receive(): Promise<void> {
    while (!this.#closed) {
      let data: Uint8Array;
      try {
        [data] = await this.socket.receive();
      } catch {
        break;
      }
      this.push(data.slice());
    }
    this.wake();
  }

  /** Closes the socket and waits for the receive loop; idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.socket.close();
      } catch {
        // already closed
      }
    }
    await this.#loop;
  }
}

const CRLF2 = [13, 10, 13, 10];

/** Where the first empty line of `buf` starts, or -1. */
function headerEnd(buf: Uint8Array): number {
  outer: for (let i = 0; i + 3 < buf.length; i++) {
    for (let k = 0; k < 4; k++) if (buf[i + k] !== CRLF2[k]) continue outer;
    return i;
  }
  return -1;
}

/** A TCP connection to one SIP port; the server's output is framed by its Content-Length. */
export class RawTcpPeer extends RawPeer {
  readonly conn: Deno.TcpConn;
  /** Set when the server closed the connection. */
  closedByPeer = false;
  /** RFC 5626 keep-alive CRLFs received. */
  pongs = 0;
  #closed = false;
  #buf = new Uint8Array(0);
  readonly #loop: Promise<void>;

  private constructor(conn: Deno.TcpConn) {
    super();
    this.conn = conn;
    this.#loop = this.#read();
  }

  /** Connects to 127.0.0.1:`port`. */
  static async connect(port: number, hostname = "127.0.0.1"): Promise<RawTcpPeer> {
    return new RawTcpPeer(await Deno.connect({ hostname, port, transport: "tcp" }));
  }

  /** Our local port. */
  get port(): number {
    return (this.conn.localAddr as Deno.NetAddr).port;
  }

  get done(): boolean {
    return this.#closed || this.closedByPeer;
  }

  /** Writes bytes to the stream; false when the write failed (connection gone). */
  async send(data: Uint8Array | string): Promise<boolean> {
    const bytes = typeof data === "string" ? enc.encode(data) : data;
    try {
      let off = 0;
      while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
      return true;
    } catch {
      return false;
    }
  }

  /** Waits up to `ms` for the server to close the connection; true when it did. */
  async waitClosed(ms = 3000): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!this.done && performance.now() < deadline) {
      await this.next(() => false, Math.max(1, Math.min(50, deadline - performance.now())));
    }
    return this.closedByPeer;
  }

  #frame(): void {
    while (this.#buf.length > 0) {
      if (this.#buf[0] === 13 && this.#buf[1] === 10) {
        this.pongs++;
        this.#buf = this.#buf.subarray(2);
        continue;
      }
      const end = headerEnd(this.#buf);
      if (end < 0) return;
      const head = rawFields(this.#buf.subarray(0, end + 4));
      const length = Number(rawValues(head, "Content-Length")[0] ?? 0);
      const total = end + 4 + (Number.isFinite(length) ? length : 0);
      if (this.#buf.length < total) return;
      this.push(this.#buf.slice(0, total));
      this.#buf = this.#buf.subarray(total);
    }
  }

  async #read(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      while (!this.#closed) {
        let n: number | null;
        try {
          n = await this.conn.read(chunk);
        } catch {
          break;
        }
        if (n === null) break;
        const next = new Uint8Array(this.#buf.length + n);
        next.set(this.#buf);
        next.set(chunk.subarray(0, n), this.#buf.length);
        this.#buf = next;
        this.#frame();
      }
    } finally {
      if (!this.#closed) this.closedByPeer = true;
      this.wake();
    }
  }

  /** Closes the connection and waits for the read loop; idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.conn.close();
      } catch {
        // closed by the peer already
      }
    }
    await this.#loop;
  }
}

/** Options for `optionsRequest`. */
export interface OptionsRequestOptions {
  readonly transport?: "UDP" | "TCP";
  /** Port written in Via sent-by (our local port). */
  readonly port: number;
  readonly callId: string;
  readonly branch?: string;
  readonly cseq?: number;
}

/** A well-formed OPTIONS from 127.0.0.1 with `rport`, as CRLF wire text. */
export function optionsRequest(o: OptionsRequestOptions): string {
  const branch = o.branch ?? `z9hG4bK-${o.callId}`;
  return [
    "OPTIONS sip:probe@127.0.0.1 SIP/2.0",
    `Via: SIP/2.0/${o.transport ?? "UDP"} 127.0.0.1:${o.port};rport;branch=${branch}`,
    "Max-Forwards: 70",
    "From: <sip:tester@127.0.0.1>;tag=tester",
    "To: <sip:probe@127.0.0.1>",
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} OPTIONS`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}

/**
 * The ACK for a non-2xx final `response` to `request` (RFC 3261 §17.1.1.3): the request's
 * Request-URI, top Via, From, Call-ID and CSeq number, the response's To (with its tag).
 */
export function ackFor(request: RawFields, response: RawReply): string {
  const uri = request.startLine.split(" ")[1];
  const cseq = (rawValues(request, "CSeq")[0] ?? "").trim().split(/\s+/)[0];
  const topVia = response.values("Via")[0] ?? "";
  return [
    `ACK ${uri} SIP/2.0`,
    `Via: ${topVia.replace(/;received=[^;,]*/, "").replace(/;rport=\d+/, ";rport")}`,
    "Max-Forwards: 70",
    `From: ${response.value("From") ?? ""}`,
    `To: ${response.value("To") ?? ""}`,
    `Call-ID: ${response.value("Call-ID") ?? ""}`,
    `CSeq: ${Number(cseq)} ACK`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
}
