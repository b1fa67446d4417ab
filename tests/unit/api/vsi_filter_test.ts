import assert from "node:assert/strict";
import { compileAppIdFilter, translateRe2 } from "../../../src/api/vsi_filter.ts";
import { BadRequest } from "../../../src/errors.ts";

function matches(pattern: string, appId: string): boolean {
  const re = compileAppIdFilter(pattern);
  assert.ok(re, `pattern ${pattern} compiled to no filter`);
  return re.test(appId);
}

function assertRejected(pattern: string, fragment?: string): void {
  assert.throws(
    () => compileAppIdFilter(pattern),
    (err: unknown) => {
      assert.ok(err instanceof BadRequest, `expected BadRequest for ${pattern}`);
      assert.equal(err.status, 400);
      assert.match(err.message, /^invalid app_id regex: error parsing regexp: /);
      if (fragment) assert.ok(err.message.includes(fragment), err.message);
      return true;
    },
  );
}

Deno.test("compileAppIdFilter() treats an absent or empty pattern as no filter", () => {
  assert.equal(compileAppIdFilter(null), null);
  assert.equal(compileAppIdFilter(undefined), null);
  assert.equal(compileAppIdFilter(""), null);
});

Deno.test("compileAppIdFilter() matches unanchored like RE2, and ^$ selects only untagged events", () => {
  assert.equal(matches("tenant", "my-tenant-a"), true);
  assert.equal(matches("^tenant-a$", "tenant-a"), true);
  assert.equal(matches("^tenant-a$", "tenant-ab"), false);
  assert.equal(matches("^$", ""), true);
  assert.equal(matches("^$", "tenant-a"), false);
  assert.equal(matches("a|b", "xbx"), true);
});

Deno.test("compileAppIdFilter() turns leading RE2 flag groups into JS flags", () => {
  assert.deepEqual(translateRe2("(?i)TENANT"), { source: "TENANT", flags: "iu" });
  assert.deepEqual(translateRe2("(?is)a.b"), { source: "a.b", flags: "isu" });
  assert.deepEqual(translateRe2("(?m)(?s)^a"), { source: "^a", flags: "msu" });
  assert.equal(matches("(?i)TENANT", "tenant-a"), true);
  assert.equal(matches("(?s)a.b", "a\nb"), true);
  assert.equal(matches("a.b", "a\nb"), false);
  assert.equal(matches("(?m)^b$", "a\nb\nc"), true);
  assert.equal(matches("^b$", "a\nb\nc"), false);
});

Deno.test("compileAppIdFilter() scopes a mid-pattern flag group to the rest of its group, across |", () => {
  // RE2: `a(?i)b|c` is `ab` or `c`, both with b and c case-insensitive.
  assert.equal(translateRe2("a(?i)b|c").source, "a(?i:b)|(?i:c)");
  assert.equal(matches("^a(?i)b|^c$", "aB"), true);
  assert.equal(matches("^a(?i)b|^c$", "AB"), false);
  assert.equal(matches("^a(?i)b|^c$", "C"), true);
  assert.equal(translateRe2("(x(?i)y)z").source, "(x(?i:y))z");
  assert.equal(matches("^(x(?i)y)z$", "xYz"), true);
  assert.equal(matches("^(x(?i)y)z$", "xYZ"), false);
  assert.equal(matches("^(?i:ab)c$", "ABc"), true);
  assert.equal(matches("(?i)^a(?-i:b)$", "Ab"), true);
  assert.equal(matches("(?i)^a(?-i:b)$", "AB"), false);
});

Deno.test("compileAppIdFilter() translates RE2-only syntax with a JS equivalent", () => {
  assert.equal(matches("(?P<t>tenant)-a", "tenant-a"), true);
  assert.equal(matches("\\Atenant\\z", "tenant"), true);
  assert.equal(matches("\\Atenant\\z", "tenant\n"), false);
  assert.equal(matches("(?m)\\Ab$", "a\nb"), false);
  assert.equal(matches("^\\pL+$", "tenant"), true);
  assert.equal(matches("^\\PL+$", "123"), true);
  assert.equal(matches("^\\x{41}$", "A"), true);
  assert.equal(matches("^\\Qa.b*\\E$", "a.b*"), true);
  assert.equal(matches("^\\Qa.b*\\E$", "axbb"), false);
  assert.equal(matches("^[[:alpha:]]+-[[:digit:]]$", "tenant-7"), true);
  assert.equal(matches("^[[:alpha:]]+$", "tenant-7"), false);
  assert.equal(matches("^[]a]+$", "]a]"), true);
  assert.equal(matches("^a{,2}$", "a{,2}"), true);
  assert.equal(matches("^a}]$", "a}]"), true);
  assert.equal(matches("^a{2,3}$", "aaa"), true);
  // Escaped or bracketed look-alikes are ordinary syntax, not lookaround.
  assert.equal(matches("^\\(?=$", "(="), true);
  assert.equal(matches("^[(?=]+$", "(?="), true);
  assert.equal(matches("^\\\\1$", "\\1"), true);
});

Deno.test("compileAppIdFilter() rejects RE2-incompatible syntax with 400 invalid app_id regex", () => {
  assertRejected("(?=a)", "`(?=`");
  assertRejected("a(?!b)", "`(?!`");
  assertRejected("(?<=a)b", "`(?<=`");
  assertRejected("(?<!a)b", "`(?<!`");
  assertRejected("(a)\\1", "`\\1`");
  assertRejected("(a)\\9", "`\\9`");
  assertRejected("(?<n>a)\\k<n>", "`\\k<`");
  assertRejected("(?P<n>a)(?P=n)", "`(?P=`");
  assertRejected("(?U)a+", "`(?U)`");
  assertRejected("(?x)a", "`(?x)`");
  assertRejected("a{1001}", "invalid repeat count");
  assertRejected("[[:^alpha:]]");
  assertRejected("[[:nope:]]", "invalid character class range");
  assertRejected("(?)");
});

Deno.test("compileAppIdFilter() reports malformed patterns JS cannot compile", () => {
  for (const p of ["(", "a)", "[a", "*a", "a**", "\\", "\\q", "(?>a)"]) assertRejected(p);
});
