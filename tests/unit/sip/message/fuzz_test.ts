/**
 * Robustness: 2 000+ hostile inputs, generated deterministically. The parser must never throw and
 * must always answer with a message or a ParseError; whatever it accepts must serialize and
 * parse again. Loops are bounded; nothing is asserted on time.
 */
import assert from "node:assert/strict";
import { buildErrorResponse } from "../../../../src/sip/message/build_response.ts";
import { parseMessage } from "../../../../src/sip/message/parser.ts";
import { serialize } from "../../../../src/sip/message/serializer.ts";
import { StreamFramer } from "../../../../src/sip/message/stream_framer.ts";
import { INVITE, REGISTER } from "./fixtures.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function prng(seed: number): () => number {
  // mulberry32: small, deterministic, good enough to scatter mutations.
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function* hostileInputs(): Generator<[string, Uint8Array]> {
  const sample = enc.encode(INVITE);
  const rnd = prng(4475);
  const int = (n: number) => Math.floor(rnd() * n);
  // Truncated at every offset.
  for (let i = 0; i < sample.length; i++) yield [`truncated at ${i}`, sample.slice(0, i)];
  // Random byte flips.
  for (let i = 0; i < 600; i++) {
    const b = sample.slice();
    for (let n = 1 + int(8); n > 0; n--) b[int(b.length)] = int(256);
    yield [`flips #${i}`, b];
  }
  // NULs and other control bytes dropped into random places.
  for (let i = 0; i < 150; i++) {
    const b = sample.slice();
    b[int(b.length)] = [0, 1, 7, 8, 11, 12, 27, 127][int(8)];
    yield [`control #${i}`, b];
  }
  // Header injection: CR, LF or CRLF inside header values.
  const lines = INVITE.split("\r\n");
  for (let i = 0; i < 150; i++) {
    const at = 1 + int(12);
    const line = lines[at];
    const cut = line.indexOf(":") + 1 + int(Math.max(1, line.length - line.indexOf(":") - 1));
    const bad =
      ["\r", "\n", "\r\n", "\r\nVia: SIP/2.0/UDP evil;branch=z9hG4bKevil", "\r\n\r\n"][int(5)];
    const mutated = [...lines];
    mutated[at] = line.slice(0, cut) + bad + line.slice(cut);
    yield [`injection #${i}`, enc.encode(mutated.join("\r\n"))];
  }
  // Bad Content-Length values.
  const lengths = [
    "-1",
    "abc",
    "",
    " ",
    "1e3",
    "0x20",
    "99999999999999999999",
    "1 2",
    "+5",
    "5,5",
    "2147483648",
    "18446744073709551616",
    "-0",
    "00000000000000000000000001",
    "١٢",
  ];
  for (const cl of lengths) {
    yield [
      `content-length ${cl}`,
      enc.encode(INVITE.replace(/Content-Length: \d+/, `Content-Length: ${cl}`)),
    ];
    yield [`l ${cl}`, enc.encode(REGISTER.replace("Content-Length: 0", `l: ${cl}`))];
  }
  // Huge header lines and many headers.
  for (const size of [65_000, 65_536, 65_537, 70_000, 200_000]) {
    yield [
      `header line of ${size}`,
      enc.encode(
        REGISTER.replace("Content-Length: 0", `X-Big: ${"a".repeat(size)}\r\nContent-Length: 0`),
      ),
    ];
    yield [
      `Via of ${size}`,
      enc.encode(
        REGISTER.replace(
          "Max-Forwards: 70",
          `Via: ${"SIP/2.0/UDP h;branch=z9hG4bKx,".repeat(size / 30)}`,
        ),
      ),
    ];
  }
  yield [
    "10 000 headers",
    enc.encode(
      REGISTER.replace("Content-Length: 0", "X: 1\r\n".repeat(10_000) + "Content-Length: 0"),
    ),
  ];
  yield ["deep quotes", enc.encode(REGISTER.replace("To: <", `To: ${'"\\'.repeat(5000)} <`))];
  yield ["angle soup", enc.encode(REGISTER.replace("To: <", `To: ${"<".repeat(5000)}`))];
  // Pure garbage of various sizes.
  for (let i = 0; i < 150; i++) {
    yield [`garbage #${i}`, Uint8Array.from({ length: int(600) }, () => int(256))];
  }
  // Splices of two messages at random points.
  const other = enc.encode(REGISTER);
  for (let i = 0; i < 100; i++) {
    const a = sample.subarray(0, int(sample.length));
    const b = other.subarray(int(other.length));
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    yield [`splice #${i}`, out];
  }
}

Deno.test("parseMessage() never throws and always returns a message or a ParseError on 2 000+ hostile inputs", () => {
  let count = 0;
  let accepted = 0;
  for (const [label, bytes] of hostileInputs()) {
    count++;
    let r;
    try {
      r = parseMessage(bytes);
    } catch (e) {
      assert.fail(`${label}: threw ${e}`);
    }
    if (r.ok) {
      accepted++;
      const again = parseMessage(serialize(r.message));
      assert.ok(again.ok, `${label}: accepted but its serialization does not parse`);
    } else {
      assert.equal(typeof r.error.message, "string", label);
      assert.ok(r.error.status >= 400 && r.error.status <= 599, label);
      assert.ok(!/[\r\n]/.test(r.error.reason), `${label}: reason phrase is one line`);
      const res = buildErrorResponse(r.error);
      assert.equal(res !== undefined, r.error.canRespond, label);
      if (res) serialize(res);
    }
  }
  assert.ok(count >= 2000, `generated ${count}`);
  assert.ok(accepted > 0 && accepted < count);
});

Deno.test("StreamFramer never throws on the same hostile inputs, whole or byte-split", () => {
  let i = 0;
  for (const [label, bytes] of hostileInputs()) {
    if (i++ % 4 !== 0) continue;
    const framer = new StreamFramer();
    try {
      const half = bytes.length >> 1;
      framer.push(bytes.subarray(0, half));
      framer.push(bytes.subarray(half));
    } catch (e) {
      assert.fail(`${label}: threw ${e}`);
    }
  }
});

Deno.test("truncating a datagram anywhere before its last body byte gives a ParseError", () => {
  const sample = enc.encode(INVITE);
  for (let i = 0; i < sample.length; i++) {
    const r = parseMessage(sample.slice(0, i));
    assert.equal(
      r.ok,
      false,
      `accepted a message truncated at ${i}: ${dec.decode(sample.slice(0, i)).slice(-20)}`,
    );
  }
  assert.ok(parseMessage(sample).ok);
});
