import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { baseConfigSchema, env, jwtConfigSchema, jwtInProduction } from '@fairlead/platform';

const absolutePath = () => z.string().min(1).max(4096).refine((p) => isAbsolute(p) && !p.includes('\0'), 'an absolute path');

/** The service's environment. It does not talk to NATS (the relay publishes its events), so NATS_URL is optional. */
export const ticketWorkflowConfigSchema = baseConfigSchema
  .extend({
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
    /** Requests one client may make per window, REST and MCP together (429 beyond). */
    RATE_LIMIT_MAX: z.coerce.number().int().positive().default(1_200),
    RATE_LIMIT_WINDOW_MS: env.durationMs().default(60_000),
    // JWT_SECRET, JWT_SECRET_FILE, JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE: the operator API's, so one token opens both.
    ...jwtConfigSchema.shape,
    /** The agents' bearer token for /mcp. */
    MCP_TOKEN: z.string().min(24, 'at least 24 characters').max(512).optional(),
    /** Or a file holding it; outside production, with neither set, `<data dir>/auth/mcp-token` (created when missing, mode 0600). */
    MCP_TOKEN_FILE: absolutePath().optional(),
    /** What /mcp accepts: `token` (MCP_TOKEN, for agents) and/or `jwt` (operators' tokens, checked per tool as REST checks routes). */
    MCP_AUTH: env
      .list()
      .pipe(z.array(z.enum(['token', 'jwt'])).min(1, 'token, jwt or both'))
      .default(['token', 'jwt']),
    /** Host names /mcp answers to (DNS-rebinding protection); loopback names and HTTP_HOST when unset. `host` or `host:port`. */
    MCP_ALLOWED_HOSTS: env.list().optional(),
    /** Browser origins /mcp accepts (requests without Origin are not browsers'); the allowed hosts' http(s) origins when unset. */
    MCP_ALLOWED_ORIGINS: env.list().optional(),
    /** Stateful MCP sessions (for live notifications over GET /mcp) kept at most, and closed after this long without a request or an open stream. */
    MCP_MAX_SESSIONS: z.coerce.number().int().min(1).max(10_000).default(200),
    MCP_SESSION_IDLE_MS: env.durationMs().default(30 * 60_000),
    /** Template files distribute_template may read (template_path); `<data dir>/ticket-workflow/templates` when unset. */
    TEMPLATES_ROOT: absolutePath().optional(),
    /** Project directories distributions may write to (directories, discover_under, base_dir, registered directories); `<data dir>/ticket-workflow/projects` when unset. */
    PROJECTS_ROOT: absolutePath().optional(),
    /** A task taken and not worked on (no comment, no renewal) for this long goes back to its queue. */
    TASK_LEASE_MS: env.durationMs().default(30 * 60_000),
    /** How often held tasks are checked for an expired lease or a stopped holder. */
    TASK_LEASE_CHECK_MS: env.durationMs().default(15_000),
  })
  .refine(jwtInProduction.check, jwtInProduction.params)
  // Production never generates a token: agents' credential is configured, or /mcp takes operators' JWTs only.
  .refine((c) => c.NODE_ENV !== 'production' || !c.MCP_AUTH.includes('token') || c.MCP_TOKEN !== undefined || c.MCP_TOKEN_FILE !== undefined, {
    // Reported under NODE_ENV: the loader calls an unset variable named by the path "missing", hiding this message.
    path: ['NODE_ENV'],
    message: 'in production, /mcp needs a configured credential: set MCP_TOKEN or MCP_TOKEN_FILE, or MCP_AUTH=jwt to accept operators\' JWTs only',
  });
export type TicketWorkflowConfig = z.output<typeof ticketWorkflowConfigSchema>;
