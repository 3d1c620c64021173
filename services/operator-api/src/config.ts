/** The operator API's environment, validated once at start-up. */
import { z } from 'zod';
import { baseConfigSchema, env, jwtConfigSchema, jwtInProduction } from '@fairlead/platform';

/**
 * Least time between two reads of the log by the read models once caught up (ms). Each read
 * that finds something is one transaction of ~10 statements for the ten read models, so at a
 * dozen leads a second the old 50 ms cost ~1.6 pages per lead and 250 ms ~0.34 (CPU per lead
 * of the API and its PostgreSQL backend about halved: bench:operator-projections). The read
 * models trail the log by up to this much more; a caller waiting for them
 * (waitUntilCaughtUp) reads at once.
 */
export const OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS = 250;

export const operatorApiConfigSchema = baseConfigSchema
  .extend({
    SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('operator-api'),
    HTTP_PORT: env.port().default(7100).describe('HTTP port of this service'),
    // JWT_SECRET, JWT_SECRET_FILE, JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE: shared by every operator-facing API.
    ...jwtConfigSchema.shape,
    RATE_LIMIT_MAX: z.coerce.number().int().positive().default(600).describe('requests per client (token subject, else IP) per window (429 beyond)'),
    RATE_LIMIT_WINDOW_MS: env.durationMs().default(60_000).describe('the rate-limit window (ms)'),
    HTTP_TRUST_PROXY: env.boolean().default(false).describe('behind a reverse proxy: trust X-Forwarded-For, so the rate limit applies per client, not per proxy'),
    COMMAND_TIMEOUT_MS: env.durationMs().default(5_000).describe('timeout of each command sent to the owning service over NATS (ms)'),
    DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10).describe('PostgreSQL connections of this process'),
    OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(5_000)
      .default(OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS)
      .describe('least time between two reads of the log by the read models once caught up (ms): they trail the log by up to this much more, in exchange for fewer, larger pages'),
  })
  .refine(jwtInProduction.check, jwtInProduction.params);
export type OperatorApiEnvConfig = z.output<typeof operatorApiConfigSchema>;
