/**
 * One implementation per operation: REST routes and VSI commands are thin adapters over
 * {@link Operation}s. An operation declares its path-parameter and body schemas (zod; the same
 * schemas generate the OpenAPI document), validates, acts, and returns the contract's view.
 */
import type { z } from "@hono/zod-openapi";
import type { Config } from "../config/types.ts";
import type { EventBus } from "../events/bus.ts";
import type { WebhookRegistry } from "../events/webhook_registry.ts";
import type { LegRegistry } from "../legs/leg_registry.ts";
import type { Logger } from "../log/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { RoomManager } from "../rooms/room_manager.ts";
import type { MediaPlane } from "../media_plane/worker_pool.ts";
import type { RtpEndpoints } from "../media_plane/rtp_endpoints.ts";
import type { SipStack } from "../sip/stack.ts";

/** Everything an operation may touch. */
export interface OpContext {
  readonly config: Config;
  readonly bus: EventBus;
  readonly legs: LegRegistry;
  readonly rooms: RoomManager;
  readonly media: MediaPlane;
  /** The SIP stack (transport, transactions, user agent). */
  readonly sip: SipStack;
  /** RTP sessions of SIP legs, placed in media workers. */
  readonly rtp: RtpEndpoints;
  readonly webhooks: WebhookRegistry;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Tracks work that outlives the request (async hangups) so shutdown can wait for it. */
  background(task: Promise<unknown>): void;
}

/** An operation's outcome: HTTP status and the body without `instance_id`. */
export interface OpResult {
  readonly status: number;
  readonly body: unknown;
}

/** Per-call options. */
export interface OpCallOptions {
  /** Aborted when the client goes away (HTTP request aborted, VSI socket closed). */
  readonly signal?: AbortSignal;
}

/** A validated operation shared by REST and VSI. */
export interface Operation<
  P extends z.ZodRawShape = z.ZodRawShape,
  B extends z.ZodType = z.ZodType,
> {
  /** The VSI command name (also the OpenAPI operationId, camel-cased). */
  readonly name: string;
  readonly summary: string;
  /** Path parameters (REST) / payload id keys (VSI). */
  readonly params?: z.ZodObject<P>;
  /** Request body (REST) / remaining payload keys (VSI). */
  readonly body?: B;
  /** Whether a REST body must be present (otherwise an empty body is `{}`). */
  readonly bodyRequired?: boolean;
  run(
    ctx: OpContext,
    input: z.infer<z.ZodObject<P>> & (B extends z.ZodType ? z.infer<B> : unknown),
    options: OpCallOptions,
  ): Promise<OpResult> | OpResult;
}

/** Helper preserving the generic types of an operation literal. */
export function defineOperation<P extends z.ZodRawShape, B extends z.ZodType>(
  op: Operation<P, B>,
): Operation<P, B> {
  return op;
}
