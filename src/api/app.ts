/**
 * The HTTP application: Hono over Web `Request`/`Response` only (Deno specifics stay in
 * `server.ts`). Middleware order: allowlist → CORS → body limit → routes. Every error leaves as
 * the contract's JSON envelope; unknown paths are JSON 404 and wrong methods JSON 405.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { Context } from "hono";
import { ApiError, BadRequest } from "../errors.ts";
import type { OpContext } from "../ops/operation.ts";
import { parseOrThrow } from "../ops/validation.ts";
import { allowlist, type AppEnv } from "./allowlist.ts";
import { errorResponse, jsonResponse } from "./respond.ts";
import { honoPath, paramsToInput, pathPattern, type RouteDef, ROUTES } from "./routes.ts";
import { buildOpenApiDocument, registerDocumentedPaths } from "./openapi.ts";
import { acceptWebSocketLeg, WsLegQuery } from "../ops/ws_legs.ts";
import { acceptRoomSocket } from "../rooms/room_ws.ts";
import type { WsMediaTimings } from "../legs/ws_media.ts";

/** Largest accepted request body (bytes). */
export const MAX_BODY_BYTES = 1 << 20;

/** The VSI WebSocket endpoint as the app sees it. */
export interface VsiEndpoint {
  /** Validates the query and upgrades; throws ApiError (400) before upgrading on bad input. */
  upgrade(req: Request): Response;
}

/** Collaborators of the HTTP app. */
export interface AppDeps {
  readonly ctx: OpContext;
  readonly vsi?: VsiEndpoint;
  /** WebSocket media keepalive/deadline timings (tests shorten them). */
  readonly wsTimings?: WsMediaTimings;
}

/** Builds the Hono app serving `/v1`, `/metrics` and the OpenAPI document. */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const { ctx } = deps;
  const instanceId = ctx.config.instanceId;
  const app = new OpenAPIHono<AppEnv>();

  app.use(allowlist({
    allowed: ctx.config.allowedIps,
    trustProxyHeaders: ctx.config.trustProxyHeaders,
    instanceId,
  }));
  app.use(cors({
    origin: "*",
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowHeaders: ["Content-Type", "Authorization"],
  }));
  app.use(bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError(413, `request body too large (limit ${MAX_BODY_BYTES} bytes)`);
    },
  }));

  // Registered before the `/v1/legs/{id}` routes so `websocket` is not taken for a leg id.
  app.get("/v1/legs/websocket", (c) => {
    const query = parseOrThrow(WsLegQuery, c.req.query());
    return acceptWebSocketLeg(ctx, c.req.raw, query, deps.wsTimings);
  });
  app.get(
    "/v1/rooms/:id/ws",
    (c) => acceptRoomSocket(ctx, c.req.raw, c.req.param("id"), deps.wsTimings),
  );

  for (const r of ROUTES) mountRoute(app, r, ctx);

  app.get("/v1/vsi", (c) => {
    if (!deps.vsi) throw new ApiError(503, "VSI is not available");
    return deps.vsi.upgrade(c.req.raw);
  });

  app.get("/metrics", async () => {
    const { body, contentType } = await ctx.metrics.render();
    return new Response(body, { status: 200, headers: { "content-type": contentType } });
  });

  registerDocumentedPaths(app.openAPIRegistry, ROUTES);
  let doc: string | undefined;
  app.get("/v1/openapi.json", () => {
    doc ??= JSON.stringify(buildOpenApiDocument(app));
    return new Response(doc, { headers: { "content-type": "application/json" } });
  });

  const known = [
    ...ROUTES.map((r) => ({ re: pathPattern(r.path), method: r.method.toUpperCase() })),
    { re: /^\/v1\/vsi\/?$/, method: "GET" },
    { re: /^\/v1\/legs\/websocket\/?$/, method: "GET" },
    { re: /^\/v1\/rooms\/[^/]+\/ws\/?$/, method: "GET" },
    { re: /^\/metrics\/?$/, method: "GET" },
    { re: /^\/v1\/openapi\.json$/, method: "GET" },
  ];
  app.notFound((c) => {
    const path = c.req.path;
    const allowed = [...new Set(known.filter((k) => k.re.test(path)).map((k) => k.method))];
    if (allowed.length > 0) {
      return errorResponse(instanceId, 405, `method ${c.req.method} not allowed on ${path}`, {
        allow: [...allowed, "OPTIONS"].join(", "),
      });
    }
    return errorResponse(instanceId, 404, `no route for ${c.req.method} ${path}`);
  });

  app.onError((err, c) => {
    if (err instanceof ApiError) return errorResponse(instanceId, err.status, err.message);
    if (err instanceof HTTPException) {
      return errorResponse(instanceId, err.status, err.message || "request rejected");
    }
    ctx.metrics.recoveredPanics.inc({ component: "api", site: c.req.routePath || c.req.path });
    ctx.logger.error("unhandled API error", { method: c.req.method, path: c.req.path, error: err });
    return errorResponse(instanceId, 500, "internal error");
  });

  return app;
}

/** Reads the body as JSON: empty → undefined, malformed → 400 `invalid JSON`. */
async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest("invalid JSON");
  }
}

function mountRoute(app: OpenAPIHono<AppEnv>, r: RouteDef, ctx: OpContext): void {
  app.on(r.method.toUpperCase(), honoPath(r.path), async (c) => {
    const op = r.op;
    const params = op.params ? parseOrThrow(op.params, paramsToInput(r, c.req.param())) : {};
    let body: unknown = {};
    if (op.body) {
      const raw = await readJson(c);
      if (raw === undefined && op.bodyRequired) throw new BadRequest("request body is required");
      body = parseOrThrow(op.body, raw ?? {});
    }
    const input = { ...(body as Record<string, unknown>), ...params };
    // With --unstable-no-legacy-abort (set in every task) the signal aborts only when the client
    // goes away, not after a successful response.
    // deno-lint-ignore no-explicit-any
    const result = await op.run(ctx, input as any, { signal: c.req.raw.signal });
    return jsonResponse(ctx.config.instanceId, result.status, result.body);
  });
}
