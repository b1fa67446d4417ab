/**
 * Helpers shared by the SIP benchmark's three processes (harness, server, load client): the
 * JSON-lines framing they talk over stdin/stdout, and the percentile they all report.
 */

/** One JSON object, as carried by a line. */
export type Json = Record<string, unknown>;

/** Yields each line of `stream` that holds a JSON object; other lines (logs, blanks) are skipped. */
export async function* jsonLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<Json> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line.startsWith("{")) yield JSON.parse(line) as Json;
    }
  }
}

/** Writes `o` as one JSON line on stdout. */
export function emitJson(o: Json): void {
  console.log(JSON.stringify(o));
}

/** The nearest-rank `p` quantile of ascending `sorted`; `ifEmpty` when there is nothing. */
export function percentile(sorted: ArrayLike<number>, p: number, ifEmpty = NaN): number {
  if (sorted.length === 0) return ifEmpty;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}
