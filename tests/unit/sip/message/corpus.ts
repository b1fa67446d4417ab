/**
 * Access to the shared SIP torture corpus (RFC 4475, RFC 5118), read in place: nothing of it is
 * copied into this repository.
 */
import assert from "node:assert/strict";
import { buildErrorResponse } from "../../../../src/sip/message/build_response.ts";
import type { SipMessage, SipRequest, SipResponse } from "../../../../src/sip/message/message.ts";
import type { Contact, NameAddr } from "../../../../src/sip/message/name_addr.ts";
import type { ParseError } from "../../../../src/sip/message/parse_error.ts";
import { parseMessage } from "../../../../src/sip/message/parser.ts";
import type { SipUri, Uri } from "../../../../src/sip/message/uri.ts";

/** A corpus directory. */
export type Dir = "rfc4475" | "rfc5118";

/** /work/shared/corpora/sip-torture/, five levels up from this directory. */
export const CORPUS = new URL("../../../../../shared/corpora/sip-torture/", import.meta.url);

/** The raw bytes of one corpus file, e.g. `corpusBytes("rfc4475", "wsinv.dat")`. */
export function corpusBytes(dir: Dir, file: string): Uint8Array {
  return Deno.readFileSync(new URL(`${dir}/${file}`, CORPUS));
}

/** File names of one corpus directory, sorted. */
export function corpusFiles(dir: Dir): string[] {
  return [...Deno.readDirSync(new URL(`${dir}/`, CORPUS))].map((e) => e.name).sort();
}

/** Parse a corpus file and assert it is a valid message. */
export function valid(dir: Dir, file: string): SipMessage {
  const r = parseMessage(corpusBytes(dir, file));
  assert.ok(r.ok, r.ok ? "" : `${file} should parse: ${r.error.message}`);
  return r.message;
}

/** Parse a corpus file and assert it is a valid request. */
export function validRequest(dir: Dir, file: string): SipRequest {
  const m = valid(dir, file);
  assert.equal(m.kind, "request");
  return m as SipRequest;
}

/** Parse a corpus file and assert it is a valid response. */
export function validResponse(dir: Dir, file: string): SipResponse {
  const m = valid(dir, file);
  assert.equal(m.kind, "response");
  return m as SipResponse;
}

/** Parse a corpus file and assert it is refused; returns the error. */
export function invalid(dir: Dir, file: string): ParseError {
  const r = parseMessage(corpusBytes(dir, file));
  assert.ok(!r.ok, `${file} should be refused`);
  return r.error;
}

/** Narrow a URI to a SIP URI, failing the test otherwise. */
export function asSip(uri: Uri): SipUri {
  assert.equal(uri.kind, "sip");
  return uri as SipUri;
}

/** Narrow a Contact to an address, failing the test on `*`. */
export function addr(c: Contact): NameAddr {
  assert.notEqual(c, "*");
  return c as NameAddr;
}

/** Assert a refused request is answered with `status` and `reason`, its Via copied. */
export function answered(dir: Dir, file: string, status: number, reason: string): void {
  const err = invalid(dir, file);
  assert.equal(err.status, status, err.message);
  assert.equal(err.reason, reason);
  assert.equal(err.canRespond, true);
  const res = buildErrorResponse(err, { toTag: "t1" });
  assert.ok(res);
  assert.equal(res.status, status);
  assert.ok(res.headers.getAll("Via").length >= 1, "the response copies the Via");
}

/** Assert a refused response is dropped without an answer. */
export function dropped(dir: Dir, file: string): void {
  const err = invalid(dir, file);
  assert.equal(err.canRespond, false);
  assert.equal(buildErrorResponse(err), undefined);
}
