import { z } from 'zod';
import { baseConfigSchema, env, jwtConfigSchema, jwtInProduction } from '@fairlead/platform';

/** The service's environment. It does not talk to NATS (the relay publishes its events), so NATS_URL is optional. */
export const ticketWorkflowConfigSchema = baseConfigSchema
  .extend({
    SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('ticket-workflow'),
    NATS_URL: env.natsServers().optional().describe('not used by this service (the relay publishes its events)'),
    HTTP_PORT: env.port().default(7106).describe('HTTP port of this service'),
    EVENT_STORE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/)
      .default('eventstore')
      .describe("PostgreSQL schema of the event store's tables (shared by the services of one deployment)"),
    READ_MODEL_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('ticket_workflow').describe("PostgreSQL schema of this service's read models"),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10).describe('PostgreSQL connections of this process'),
    TOOL_CALL_TIMEOUT_MS: env.durationMs().default(30_000).describe('upper bound of one MCP tool call (ms)'),
    RATE_LIMIT_MAX: z.coerce.number().int().positive().default(1_200).describe('requests one client may make per window, REST and MCP together (429 beyond)'),
    RATE_LIMIT_WINDOW_MS: env.durationMs().default(60_000).describe('the rate-limit window (ms)'),
    // JWT_SECRET, JWT_SECRET_FILE, JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE: the operator API's, so one token opens both.
    ...jwtConfigSchema.shape,
    MCP_TOKEN: z
      .string()
      .min(16, 'at least 16 characters')
      .optional()
      .describe('when set, /mcp needs `Authorization: Bearer <MCP_TOKEN>` (agents are not operators: no JWT); unset, /mcp is open'),
  })
  .refine(jwtInProduction.check, jwtInProduction.params);
