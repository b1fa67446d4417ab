/**
 * Writes a {@link SessionDescription} as RFC 8866 text: CRLF line ends (§5), the fixed field
 * order of §5 (v o s i u e p c b t r z k a, then each m= with i c b k a), and attributes in one
 * canonical order so the same description always yields the same bytes:
 *
 * session: direction, then the other attributes as stored;
 * media:   for each format in m= order its rtpmap then its fmtp, then ptime, maxptime,
 *          direction, rtcp, rtcp-mux, then the other attributes as stored.
 */

import type { Attribute, Connection, MediaDescription, SessionDescription } from "./types.ts";

const CRLF = "\r\n";

/** Serializes a description; the inverse of `parseSdp` for anything this module produced. */
export function serializeSdp(sd: SessionDescription): string {
  const out: string[] = ["v=0"];
  const o = sd.origin;
  out.push(`o=${o.username} ${o.sessionId} ${o.sessionVersion} IN ${o.family} ${o.address}`);
  out.push(`s=${sd.sessionName === "" ? " " : sd.sessionName}`);
  if (sd.info !== undefined) out.push(`i=${sd.info}`);
  if (sd.uri !== undefined) out.push(`u=${sd.uri}`);
  for (const e of sd.emails) out.push(`e=${e}`);
  for (const p of sd.phones) out.push(`p=${p}`);
  if (sd.connection) out.push(connectionLine(sd.connection));
  for (const b of sd.bandwidths) out.push(`b=${b.type}:${b.value}`);
  const timing = sd.timing.length > 0 ? sd.timing : [{ start: 0, stop: 0, repeats: [] }];
  for (const t of timing) {
    out.push(`t=${t.start} ${t.stop}`);
    for (const r of t.repeats) out.push(`r=${r}`);
  }
  if (sd.timeZones !== undefined) out.push(`z=${sd.timeZones}`);
  if (sd.key !== undefined) out.push(`k=${sd.key}`);
  if (sd.direction) out.push(`a=${sd.direction}`);
  pushAttributes(out, sd.attributes);
  for (const m of sd.media) pushMedia(out, m);
  return out.join(CRLF) + CRLF;
}

/** `c=IN <family> <address>[/ttl][/count]`. */
function connectionLine(c: Connection): string {
  return `c=${connectionValue(c)}`;
}

function connectionValue(c: Connection): string {
  let addr = c.address;
  if (c.ttl !== undefined) addr += `/${c.ttl}`;
  if (c.count !== undefined) addr += `/${c.count}`;
  return `IN ${c.family} ${addr}`;
}

function pushAttributes(out: string[], attrs: readonly Attribute[]): void {
  for (const a of attrs) out.push(a.value === undefined ? `a=${a.name}` : `a=${a.name}:${a.value}`);
}

function pushMedia(out: string[], m: MediaDescription): void {
  const port = m.portCount === undefined ? `${m.port}` : `${m.port}/${m.portCount}`;
  out.push(`m=${m.media} ${port} ${m.proto} ${m.formats.join(" ")}`);
  if (m.info !== undefined) out.push(`i=${m.info}`);
  if (m.connection) out.push(connectionLine(m.connection));
  for (const b of m.bandwidths) out.push(`b=${b.type}:${b.value}`);
  if (m.key !== undefined) out.push(`k=${m.key}`);
  for (const f of m.formats) {
    const map = m.rtpmaps.find((r) => String(r.payloadType) === f);
    if (map) {
      const ch = map.channels === undefined ? "" : `/${map.channels}`;
      out.push(`a=rtpmap:${map.payloadType} ${map.encodingName}/${map.clockRate}${ch}`);
    }
    const fmtp = m.fmtps.find((x) => x.format === f);
    if (fmtp) {
      out.push(
        fmtp.parameters === ""
          ? `a=fmtp:${fmtp.format}`
          : `a=fmtp:${fmtp.format} ${fmtp.parameters}`,
      );
    }
  }
  if (m.ptime !== undefined) out.push(`a=ptime:${m.ptime}`);
  if (m.maxptime !== undefined) out.push(`a=maxptime:${m.maxptime}`);
  if (m.direction) out.push(`a=${m.direction}`);
  if (m.rtcp) {
    out.push(
      m.rtcp.connection
        ? `a=rtcp:${m.rtcp.port} ${connectionValue(m.rtcp.connection)}`
        : `a=rtcp:${m.rtcp.port}`,
    );
  }
  if (m.rtcpMux) out.push("a=rtcp-mux");
  pushAttributes(out, m.attributes);
}
