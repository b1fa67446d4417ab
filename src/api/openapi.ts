/**
 * The served OpenAPI 3.1 document, generated from the route table and the zod schemas that
 * validate requests — never hand-written, so it always describes what the code does.
 */
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { restParamsSchema, type RouteDef } from "./routes.ts";
import { ErrorSchema } from "../ops/schemas.ts";

type Registry = OpenAPIHono["openAPIRegistry"];

const ERROR_TEXT: Record<number, string> = {
  400: "Malformed JSON or an invalid field",
  403: "Client address not in ALLOWED_IPS",
  404: "Unknown id",
  405: "Method not allowed on this path",
  409: "State conflict",
  413: "Request body too large",
  503: "Dependency not available",
};

type ResponseConfig = Parameters<Registry["registerPath"]>[0]["responses"][string];

function errorResponses(codes: Iterable<number>): Record<string, ResponseConfig> {
  const out: Record<string, ResponseConfig> = {};
  for (const code of [...new Set(codes)].sort()) {
    out[String(code)] = {
      description: ERROR_TEXT[code] ?? "Error",
      content: { "application/json": { schema: ErrorSchema } },
    };
  }
  return out;
}

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
}

/** Registers every route (and the non-operation endpoints) with the OpenAPI registry. */
export function registerDocumentedPaths(registry: Registry, routes: readonly RouteDef[]): void {
  for (const r of routes) {
    const codes = [403, 405, ...(r.errors ?? [])];
    if (r.op.params) codes.push(400, 404);
    if (r.op.body) codes.push(400, 413);
    registry.registerPath({
      method: r.method,
      path: r.path,
      operationId: camel(r.op.name),
      summary: r.op.summary,
      tags: [r.tag],
      request: {
        params: restParamsSchema(r),
        body: r.op.body
          ? {
            required: r.op.bodyRequired ?? false,
            content: { "application/json": { schema: r.op.body } },
          }
          : undefined,
      },
      responses: {
        [String(r.ok.status)]: {
          description: r.ok.description,
          content: r.ok.schema ? { "application/json": { schema: r.ok.schema } } : undefined,
        },
        ...errorResponses(codes),
      },
    });
  }
  registry.registerPath({
    method: "get",
    path: "/v1/vsi",
    operationId: "vsi",
    summary: "VSI: event stream and command channel (WebSocket upgrade)",
    tags: ["Events"],
    request: {
      query: z.object({
        app_id: z.string().optional().openapi({
          description: "Unanchored RE2-style regex matched against each event's app_id",
        }),
      }),
    },
    responses: {
      "101": { description: "Switching Protocols" },
      ...errorResponses([400, 403, 405]),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/v1/legs/websocket",
    operationId: "wsLeg",
    summary: "Connect a WebSocket leg (PCM audio; WebSocket upgrade)",
    tags: ["Legs"],
    request: {
      query: z.object({
        sample_rate: z.enum(["8000", "16000", "24000", "48000"]).optional(),
        wire_format: z.enum(["binary", "json_base64"]).optional(),
        sample_format: z.enum(["s16le"]).optional(),
        room_id: z.string().optional(),
        app_id: z.string().optional(),
        rtt: z.enum(["true", "false"]).optional(),
        speech_detection: z.enum(["true", "false"]).optional(),
        webhook_url: z.string().optional(),
        webhook_secret: z.string().optional(),
      }),
    },
    responses: {
      "101": { description: "Switching Protocols" },
      ...errorResponses([400, 403, 405, 503]),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/v1/rooms/{id}/ws",
    operationId: "roomWs",
    summary: "Join a room's mixer over a WebSocket (json_base64 PCM at the room rate)",
    tags: ["Rooms"],
    request: { params: z.object({ id: z.string() }) },
    responses: {
      "101": { description: "Switching Protocols" },
      ...errorResponses([400, 403, 404, 405, 503]),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/metrics",
    operationId: "metrics",
    summary: "Prometheus metrics",
    tags: ["Observability"],
    responses: {
      "200": { description: "Exposition text", content: { "text/plain": { schema: z.string() } } },
      ...errorResponses([403, 405]),
    },
  });
}

/** The OpenAPI 3.1 document object. */
// deno-lint-ignore no-explicit-any
export function buildOpenApiDocument(app: OpenAPIHono<any>): unknown {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "VoiceBlender for Deno",
      version: "0.1.0",
      description: "Programmable voice server: REST API. Events: see /v1/vsi and webhooks.",
    },
  });
}
