/**
 * The whole test suite in one command (`deno task test`): runs every test file under tests/unit
 * and tests/integration with the permissions they need, then prints a final `N passed, N failed`
 * line computed from the JUnit report. Exit status is non-zero when anything failed.
 */
const junit = await Deno.makeTempFile({ prefix: "vb-junit-", suffix: ".xml" });
const args = [
  "test",
  "--unstable-net",
  "--unstable-no-legacy-abort",
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-run",
  "--allow-sys",
  `--junit-path=${junit}`,
  ...Deno.args,
  "tests/unit",
  "tests/integration",
];
const child = new Deno.Command(Deno.execPath(), {
  args,
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
const status = await child.status;

let passed = 0;
let failed = 0;
try {
  const xml = await Deno.readTextFile(junit);
  // Count <testcase> elements; a failed one contains <failure …> or <error …>.
  for (const m of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const inner = m[2] ?? "";
    if (/<(failure|error)\b/.test(inner)) failed++;
    else if (!/<skipped\b/.test(inner)) passed++;
  }
} catch {
  // No report: the runner itself failed (e.g. a type error); count that as one failure.
}
if (!status.success && failed === 0) failed = 1;
await Deno.remove(junit).catch(() => {});
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 && status.success ? 0 : 1);
