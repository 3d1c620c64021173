import { z } from 'zod';
import { baseConfigSchema, env } from '@fairlead/platform';

/** The service's environment. It does not talk to NATS (the relay publishes its events), so NATS_URL is optional. */
export const ticketWorkflowConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('ticket-workflow'),
  NATS_URL: env.natsServers().optional(),
  HTTP_PORT: env.port().default(7106),
  /** Schema of the event store's tables (shared by the services of one deployment). */
  EVENT_STORE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('eventstore'),
  /** Schema of this service's read models. */
  READ_MODEL_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('ticket_workflow'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  /** Upper bound of one MCP tool call. */
  TOOL_CALL_TIMEOUT_MS: env.durationMs().default(30_000),
});
