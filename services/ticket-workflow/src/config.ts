import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { baseConfigSchema, env, jwtConfigSchema, jwtInProduction } from '@fairlead/platform';

const absolutePath = () => z.string().min(1).max(4096).refine((p) => isAbsolute(p) && !p.includes('\0'), 'an absolute path');

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
    MCP_TOKEN: z.string().min(24, 'at least 24 characters').max(512).optional().describe("the agents' bearer token for /mcp"),
    MCP_TOKEN_FILE: absolutePath()
      .optional()
      .describe('or a file holding it; outside production, with neither set, <data dir>/auth/mcp-token (created when missing, mode 0600)'),
    MCP_AUTH: env
      .list()
      .pipe(z.array(z.enum(['token', 'jwt'])).min(1, 'token, jwt or both'))
      .default(['token', 'jwt'])
      .describe("what /mcp accepts: token (MCP_TOKEN, for agents) and/or jwt (operators' tokens, checked per tool as REST checks routes), comma separated"),
    MCP_ALLOWED_HOSTS: env
      .list()
      .optional()
      .describe('host names /mcp answers to (DNS-rebinding protection), host or host:port, comma separated; loopback names and HTTP_HOST when unset'),
    MCP_ALLOWED_ORIGINS: env
      .list()
      .optional()
      .describe("browser origins /mcp accepts (requests without Origin are not browsers'); the allowed hosts' http(s) origins when unset"),
    MCP_MAX_SESSIONS: z.coerce.number().int().min(1).max(10_000).default(200).describe('stateful MCP sessions (live notifications over GET /mcp) kept at most'),
    MCP_SESSION_IDLE_MS: env.durationMs().default(30 * 60_000).describe('an MCP session is closed after this long without a request or an open stream (ms)'),
    TEMPLATES_ROOT: absolutePath().optional().describe('template files distribute_template may read (template_path); <data dir>/ticket-workflow/templates when unset'),
    PROJECTS_ROOT: absolutePath()
      .optional()
      .describe('project directories distributions may write to (directories, discover_under, base_dir, registered directories); <data dir>/ticket-workflow/projects when unset'),
    TASK_LEASE_MS: env.durationMs().default(30 * 60_000).describe('a task taken and not worked on (no comment, no renewal) for this long goes back to its queue (ms)'),
    TASK_LEASE_CHECK_MS: env.durationMs().default(15_000).describe('how often held tasks are checked for an expired lease or a stopped holder (ms)'),
  })
  .refine(jwtInProduction.check, jwtInProduction.params)
  // Production never generates a token: agents' credential is configured, or /mcp takes operators' JWTs only.
  .refine((c) => c.NODE_ENV !== 'production' || !c.MCP_AUTH.includes('token') || c.MCP_TOKEN !== undefined || c.MCP_TOKEN_FILE !== undefined, {
    // Reported under NODE_ENV: the loader calls an unset variable named by the path "missing", hiding this message.
    path: ['NODE_ENV'],
    message: 'in production, /mcp needs a configured credential: set MCP_TOKEN or MCP_TOKEN_FILE, or MCP_AUTH=jwt to accept operators\' JWTs only',
  });
export type TicketWorkflowConfig = z.output<typeof ticketWorkflowConfigSchema>;
