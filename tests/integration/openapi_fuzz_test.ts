/**
 * Property-based fuzzing of the REST API against its own served OpenAPI document with
 * schemathesis (pinned in tests/fuzz/requirements.txt). The run is bounded (fixed seed, a fixed
 * number of examples per operation, a hard timeout) and must find no server errors and no
 * response that breaks the documented status codes, content types or schemas.
 *
 * The schemathesis CLI lives in `.ci/venv`; on a fresh machine this test creates the venv and
 * installs the pinned requirements itself, so the single test command works everywhere.
 */
import assert from "node:assert/strict";
import { startTestServer } from "../helpers/server.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
const VENV = `${ROOT}.ci/venv`;
const ST = `${VENV}/bin/st`;
const PYTHON = `${VENV}/bin/python`;
const REQUIREMENTS = `${ROOT}tests/fuzz/requirements.txt`;

const SEED = 20261125;
const MAX_EXAMPLES = 50;
const RUN_TIMEOUT_MS = 240_000;
const INSTALL_TIMEOUT_MS = 300_000;
/** Lines of schemathesis output shown when the run fails. */
const TAIL_LINES = 120;

const CHECKS = [
  "not_a_server_error",
  "response_schema_conformance",
  "status_code_conformance",
  "content_type_conformance",
];

/** The WebSocket endpoint cannot be exercised by an HTTP fuzzer. */
const EXCLUDED_PATHS = ["/v1/vsi"];

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

/** Number of operations in the served OpenAPI document outside `excluded` paths. */
async function countOperations(url: string, excluded: readonly string[]): Promise<number> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  const doc = await res.json() as { paths?: Record<string, Record<string, unknown>> };
  let n = 0;
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    if (excluded.includes(path)) continue;
    n += Object.keys(item).filter((k) => HTTP_METHODS.has(k)).length;
  }
  return n;
}

/** Environment for the Python tools: no proxy for loopback, no colour, no telemetry. */
function toolEnv(): Record<string, string> {
  return {
    NO_PROXY: "127.0.0.1,localhost,::1",
    no_proxy: "127.0.0.1,localhost,::1",
    NO_COLOR: "1",
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
    SCHEMATHESIS_TELEMETRY: "false",
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Runs a command to completion within `timeoutMs`; throws with its output when it fails. */
async function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env: toolEnv(),
    stdin: "null",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (code ${out.code}, signal ${out.signal}):\n${text}`,
    );
  }
  return text;
}

/** The version pinned in requirements.txt (`schemathesis==X.Y.Z`). */
async function pinnedVersion(): Promise<string> {
  const m = (await Deno.readTextFile(REQUIREMENTS)).match(/^schemathesis==(\S+)\s*$/m);
  assert.ok(m, "tests/fuzz/requirements.txt must pin schemathesis==<version>");
  return m[1];
}

async function installedVersion(): Promise<string | null> {
  if (!(await exists(PYTHON))) return null;
  try {
    const out = await run(PYTHON, [
      "-c",
      "import importlib.metadata as m; print(m.version('schemathesis'))",
    ], 60_000);
    return out.trim();
  } catch {
    return null;
  }
}

/** Makes sure `.ci/venv/bin/st` exists at the pinned version, creating the venv if needed. */
async function ensureSchemathesis(): Promise<void> {
  const pinned = await pinnedVersion();
  if ((await exists(ST)) && (await installedVersion()) === pinned) return;
  if (!(await exists(PYTHON))) {
    console.log(`creating ${VENV} for schemathesis ${pinned}`);
    await run("python3", ["-m", "venv", VENV], 120_000);
  }
  console.log(`installing ${REQUIREMENTS} into ${VENV}`);
  await run(PYTHON, ["-m", "pip", "install", "--quiet", "-r", REQUIREMENTS], INSTALL_TIMEOUT_MS);
  assert.equal(await installedVersion(), pinned, "schemathesis version after install");
  assert.ok(await exists(ST), `${ST} missing after install`);
}

Deno.test({
  name: "schemathesis finds no server error or contract violation in the served OpenAPI document",
  async fn() {
    await ensureSchemathesis();
    const srv = await startTestServer({ INSTANCE_ID: "vb-fuzz" });
    // The fuzzer registers webhooks and per-room hooks with arbitrary URLs (public hosts
    // included). Nothing in a test may contact a public address, so delivery is switched off
    // before the run; the REST contract of /v1/webhooks is still exercised in full.
    await srv.webhooks.close();
    // A scratch directory keeps hypothesis/schemathesis state out of the repository.
    const scratch = await Deno.makeTempDir({ prefix: "vb-fuzz-" });
    const started = performance.now();
    try {
      const operations = await countOperations(`${srv.url}/v1/openapi.json`, EXCLUDED_PATHS);
      assert.ok(operations >= 10, `only ${operations} operations documented`);
      const args = [
        "run",
        `${srv.url}/v1/openapi.json`,
        "--checks",
        CHECKS.join(","),
        "--seed",
        String(SEED),
        "--max-examples",
        String(MAX_EXAMPLES),
        ...EXCLUDED_PATHS.flatMap((path) => ["--exclude-path", path]),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        "--no-color",
      ];
      const out = await new Deno.Command(ST, {
        args,
        cwd: scratch,
        env: toolEnv(),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const tail = text.trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
      if (out.signal !== null) {
        assert.fail(
          `schemathesis killed by ${out.signal} after ${seconds} s (timeout ${RUN_TIMEOUT_MS} ms):\n${tail}`,
        );
      }
      assert.equal(out.code, 0, `schemathesis failed after ${seconds} s; output tail:\n${tail}`);
      // Guard against a vacuous pass: every documented HTTP operation must have been tested.
      const tested = text.match(/^\s*Tested:\s+(\d+)\s*$/m);
      assert.ok(tested, `no "Tested:" line in the schemathesis summary:\n${tail}`);
      assert.equal(Number(tested[1]), operations, `operations tested; output tail:\n${tail}`);
      const generated = text.match(/(\d+) generated, \1 passed/);
      assert.ok(generated && Number(generated[1]) >= operations, `too few test cases:\n${tail}`);
      assert.equal(srv.webhooks.pending, 0, "a webhook delivery was queued during fuzzing");
      console.log(`schemathesis passed in ${seconds} s`);
    } finally {
      await srv.shutdown();
      await Deno.remove(scratch, { recursive: true }).catch(() => {});
    }
  },
});
