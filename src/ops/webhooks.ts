/** Run-time webhook registry operations (`/v1/webhooks`, compat-notes C1). */
import { z } from "@hono/zod-openapi";
import { NotFound } from "../errors.ts";
import { webhookView } from "../events/webhook_registry.ts";
import { defineOperation } from "./operation.ts";
import { HttpUrl } from "./schemas.ts";

/** Body of `POST /v1/webhooks`. */
export const CreateWebhookBody = z.object({
  url: HttpUrl,
  secret: z.string().max(1024).optional().openapi({
    description: "HMAC-SHA256 signing secret; never returned",
  }),
  events: z.array(
    z.string().regex(/^[a-z_]+(\.[a-z_]+)*(\.\*)?$/, {
      error: "must be an event type such as leg.connected or a prefix wildcard such as leg.*",
    }),
  ).max(100).optional().openapi({ description: "Event types to deliver; all when absent" }),
}).openapi("CreateWebhookRequest");

/** POST /v1/webhooks · create_webhook */
export const createWebhook = defineOperation({
  name: "create_webhook",
  summary: "Register a webhook receiver",
  body: CreateWebhookBody,
  bodyRequired: true,
  run(ctx, input) {
    const hook = ctx.webhooks.add({
      url: input.url,
      secret: input.secret || undefined,
      events: input.events && input.events.length > 0 ? input.events : undefined,
    });
    return { status: 201, body: webhookView(hook) };
  },
});

/** GET /v1/webhooks · list_webhooks */
export const listWebhooks = defineOperation({
  name: "list_webhooks",
  summary: "List registered webhook receivers",
  run(ctx) {
    return { status: 200, body: ctx.webhooks.list().map(webhookView) };
  },
});

/** DELETE /v1/webhooks/{id} · delete_webhook */
export const deleteWebhook = defineOperation({
  name: "delete_webhook",
  summary: "Remove a registered webhook receiver",
  params: z.object({
    id: z.string().min(1).openapi({ param: { name: "id", in: "path" }, description: "Webhook id" }),
  }),
  run(ctx, input) {
    if (!ctx.webhooks.remove(input.id)) throw new NotFound("webhook not found");
    return { status: 200, body: { status: "deleted" } };
  },
});
