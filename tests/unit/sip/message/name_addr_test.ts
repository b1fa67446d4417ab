import assert from "node:assert/strict";
import {
  contactExpires,
  formatNameAddr,
  type NameAddr,
  nameAddr,
  parseContact,
  parseNameAddr,
  tagOf,
  withTag,
} from "../../../../src/sip/message/name_addr.ts";
import { sipUri } from "../../../../src/sip/message/uri.ts";

function na(text: string): NameAddr {
  const r = parseNameAddr(text);
  assert.ok(r.ok, r.ok ? "" : `${text}: ${r.error}`);
  return r.value;
}

Deno.test("parseNameAddr() reads a quoted display name with escapes", () => {
  const a = na('"Bob \\"the builder\\" \\\\ Jr" <sip:bob@example.com>;tag=abc');
  assert.equal(a.displayName, 'Bob "the builder" \\ Jr');
  assert.equal(tagOf(a), "abc");
});

Deno.test("parseNameAddr() joins token display names with single spaces", () => {
  assert.equal(na("Bob   the\tBuilder <sip:bob@example.com>").displayName, "Bob the Builder");
  assert.equal(na("<sip:bob@example.com>").displayName, undefined);
  assert.equal(na('"" <sip:bob@example.com>').displayName, "");
});

Deno.test("parseNameAddr() gives parameters after an addr-spec to the header (RFC 3261 §20.10)", () => {
  const a = na("sip:bob@example.com;tag=xyz;lr");
  assert.deepEqual(a.uri, sipUri({ user: "bob", host: "example.com" }));
  assert.deepEqual(a.params, [{ name: "tag", value: "xyz" }, { name: "lr", value: null }]);
});

Deno.test("parseNameAddr() keeps quoted parameter values raw and allows SWS around = and ;", () => {
  const a = na('<sip:a@b> ; p = "x;y" ;q=0.5 ; flag');
  assert.deepEqual(a.params, [
    { name: "p", value: '"x;y"' },
    { name: "q", value: "0.5" },
    { name: "flag", value: null },
  ]);
});

Deno.test("parseNameAddr() rejects malformed addresses", () => {
  for (
    const text of [
      '"unterminated <sip:a@b>',
      "Bell, Alexander <sip:a@b>",
      "< sip:a@b >",
      "<sip:a@b",
      "<sip:a@b>;",
      "<sip:a@b>;;tag=1",
      "<sip:a@b>;tag=",
      "<sip:a@b> trailing",
      "sip:a@b?Subject=x",
      '"name" sip:a@b',
      "",
      "<>",
    ]
  ) assert.equal(parseNameAddr(text).ok, false, text);
});

Deno.test("parseContact() reads the * wildcard and expires parameters", () => {
  const star = parseContact(" * ");
  assert.ok(star.ok);
  assert.equal(star.value, "*");
  const c = parseContact("<sip:a@192.0.2.1>;expires=3600;q=0.7");
  assert.ok(c.ok && c.value !== "*");
  assert.equal(c.value.params[0].value, "3600");
  assert.equal(contactExpires(c.value), 3600);
  assert.equal(contactExpires(star.value), undefined);
  const huge = parseContact("<sip:a@b>;expires=280297596632815");
  assert.ok(huge.ok);
  assert.equal(contactExpires(huge.value), undefined, "RFC 4475 §3.1.2.4: treat as absent");
});

Deno.test("formatNameAddr() always writes name-addr form that parses back equal", () => {
  const cases: NameAddr[] = [
    nameAddr({ uri: sipUri({ user: "a", host: "b" }) }),
    nameAddr({
      displayName: 'Quote " and \\ back',
      uri: sipUri({ user: "a;b", host: "b", params: [{ name: "lr", value: null }] }),
      params: [{ name: "tag", value: "t1" }],
    }),
    nameAddr({ displayName: "", uri: sipUri({ host: "[2001:db8::1]", port: 5060 }) }),
  ];
  for (const a of cases) assert.deepEqual(na(formatNameAddr(a)), a);
  assert.equal(
    formatNameAddr(cases[1]),
    '"Quote \\" and \\\\ back" <sip:a;b@b;lr>;tag=t1',
  );
});

Deno.test("formatNameAddr() cannot be used to inject a header through the display name", () => {
  const a = nameAddr({ displayName: "Eve\r\nVia: evil", uri: sipUri({ host: "x.example" }) });
  assert.equal(formatNameAddr(a), '"Eve  Via: evil" <sip:x.example>');
});

Deno.test("withTag() replaces or adds the tag parameter", () => {
  assert.equal(tagOf(withTag(na("<sip:a@b>"), "t9")), "t9");
  const retagged = withTag(na("<sip:a@b>;tag=old;x=1"), "new");
  assert.deepEqual(retagged.params, [{ name: "x", value: "1" }, { name: "tag", value: "new" }]);
});
