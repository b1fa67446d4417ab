/** Helpers for transport tests on real loopback sockets. */

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Text with `\n` line ends turned into wire bytes. */
export function wire(text: string): Uint8Array {
  return enc.encode(text.replaceAll("\n", "\r\n"));
}

/** Bytes as text. */
export function str(bytes: Uint8Array): string {
  return dec.decode(bytes);
}

/** An OPTIONS request with the given Via (`\n` line ends: pass it through `wire`). */
export function options(via: string, callId = "opt-1"): string {
  return `OPTIONS sip:bob@127.0.0.1 SIP/2.0
Via: ${via}
From: <sip:alice@example.com>;tag=a1
To: <sip:bob@example.com>
Call-ID: ${callId}
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

`;
}

/** Resolves with `p`, or rejects after `ms` (the timer is always cleared). */
export async function within<T>(p: Promise<T>, ms = 3000, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `cond()` holds, polling every 5 ms (at most `ms`). */
export async function until(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > ms) throw new Error(`${what} not met after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A raw UDP peer on 127.0.0.1 (or `::1`). */
export function udpPeer(hostname = "127.0.0.1"): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
}

/** Receives one datagram as text. */
export async function receiveText(sock: Deno.DatagramConn, ms = 3000): Promise<string> {
  const [data] = await within(sock.receive(), ms, "UDP receive");
  return str(data);
}

/** Reads from a raw stream connection until `text` contains `needle`. */
export async function readUntil(conn: Deno.Conn, needle: string, ms = 3000): Promise<string> {
  const buf = new Uint8Array(65536);
  let text = "";
  await within(
    (async () => {
      while (!text.includes(needle)) {
        const n = await conn.read(buf);
        if (n === null) throw new Error(`connection closed before ${JSON.stringify(needle)}`);
        text += str(buf.subarray(0, n));
      }
    })(),
    ms,
    `read of ${JSON.stringify(needle)}`,
  );
  return text;
}

/** Whether an IPv6 loopback socket can be opened here. */
export function ipv6Available(): boolean {
  try {
    const s = Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 });
    s.close();
    return true;
  } catch {
    return false;
  }
}
