import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chooseChallenge,
  digestResponse,
  parseDigestChallenge,
} from "../../../../src/sip/auth/digest.ts";
import type { AuthValue } from "../../../../src/sip/message/auth_header.ts";

const p = (name: string, value: string, quoted = true) => ({ name, value, quoted });
const get = (v: AuthValue, name: string) => v.params.find((x) => x.name === name)?.value;

Deno.test("digestResponse() reproduces the RFC 2617 §3.5 example (MD5, qop=auth)", () => {
  const challenge = parseDigestChallenge({
    scheme: "Digest",
    params: [
      p("realm", "testrealm@host.com"),
      p("qop", "auth,auth-int"),
      p("nonce", "dcd98b7102dd2f0e8b11d0f600bfb0c093"),
      p("opaque", "5ccc069c403ebaf9f0171e9517f40e41"),
    ],
  })!;
  const v = digestResponse(challenge, { username: "Mufasa", password: "Circle Of Life" }, {
    method: "GET",
    uri: "/dir/index.html",
  }, { nc: 1, cnonce: "0a4f113b" });
  assert.equal(get(v, "response"), "6629fae49393a05397450978507c4ef1");
  assert.equal(get(v, "nc"), "00000001");
  assert.equal(get(v, "qop"), "auth");
  assert.equal(get(v, "opaque"), "5ccc069c403ebaf9f0171e9517f40e41");
});

Deno.test("digestResponse() reproduces the RFC 7616 §3.9.1 SHA-256 example", () => {
  const challenge = parseDigestChallenge({
    scheme: "Digest",
    params: [
      p("realm", "http-auth@example.org"),
      p("qop", "auth, auth-int"),
      p("algorithm", "SHA-256", false),
      p("nonce", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"),
      p("opaque", "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"),
    ],
  })!;
  assert.equal(challenge.algorithm, "SHA-256");
  const v = digestResponse(challenge, { username: "Mufasa", password: "Circle of Life" }, {
    method: "GET",
    uri: "/dir/index.html",
  }, { nc: 1, cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ" });
  assert.equal(
    get(v, "response"),
    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
  );
});

Deno.test("digestResponse() without qop uses the RFC 2069 form and omits nc/cnonce", () => {
  const challenge = parseDigestChallenge({
    scheme: "Digest",
    params: [p("realm", "asterisk"), p("nonce", "abc")],
  })!;
  const v = digestResponse(challenge, { username: "alice", password: "pw" }, {
    method: "INVITE",
    uri: "sip:bob@127.0.0.1",
  });
  const md5 = (x: string) => createHash("md5").update(x).digest("hex");
  const expected = md5(`${md5("alice:asterisk:pw")}:abc:${md5("INVITE:sip:bob@127.0.0.1")}`);
  assert.equal(get(v, "response"), expected);
  assert.equal(get(v, "nc"), undefined);
  assert.equal(get(v, "cnonce"), undefined);
  assert.equal(get(v, "algorithm"), "MD5");
});

Deno.test("chooseChallenge() prefers SHA-256 and skips schemes and algorithms it cannot answer", () => {
  const chosen = chooseChallenge([
    { scheme: "Bearer", params: [], token68: "x" },
    {
      scheme: "Digest",
      params: [p("realm", "r"), p("nonce", "n"), p("algorithm", "SHA-512-256", false)],
    },
    { scheme: "Digest", params: [p("realm", "r"), p("nonce", "n1")] },
    {
      scheme: "Digest",
      params: [p("realm", "r"), p("nonce", "n2"), p("algorithm", "SHA-256", false)],
    },
  ]);
  assert.equal(chosen?.nonce, "n2");
  assert.equal(
    parseDigestChallenge({ scheme: "Digest", params: [p("realm", "r")] }),
    undefined,
    "no nonce",
  );
});
