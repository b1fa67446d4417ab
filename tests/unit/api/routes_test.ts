import assert from "node:assert/strict";
import { honoPath, pathPattern, ROUTES } from "../../../src/api/routes.ts";
import { OPERATIONS } from "../../../src/ops/commands.ts";

Deno.test("honoPath() and pathPattern() translate OpenAPI paths", () => {
  assert.equal(honoPath("/v1/rooms/{id}/legs/{legID}"), "/v1/rooms/:id/legs/:legID");
  const re = pathPattern("/v1/rooms/{id}");
  assert.ok(re.test("/v1/rooms/abc"));
  assert.ok(re.test("/v1/rooms/abc/"));
  assert.ok(!re.test("/v1/rooms/abc/legs"));
  assert.ok(!re.test("/v1/rooms"));
  assert.ok(pathPattern("/v1/openapi.json").test("/v1/openapi.json"));
  assert.ok(!pathPattern("/v1/openapi.json").test("/v1/openapiXjson"));
});

Deno.test("every REST route's operation is reachable as a VSI command of the same name", () => {
  for (const r of ROUTES) assert.equal(OPERATIONS.get(r.op.name), r.op, r.op.name);
  const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
  assert.equal(new Set(keys).size, keys.length, "no duplicate routes");
});
