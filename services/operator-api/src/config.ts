/** The operator API's environment, validated once at start-up. */
import { z } from 'zod';
import { baseConfigSchema, env, jwtConfigSchema, jwtInProduction } from '@fairlead/platform';

export const operatorApiConfigSchema = baseConfigSchema
  .extend({
    SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('operator-api'),
    HTTP_PORT: env.port().default(7100),
    // JWT_SECRET, JWT_SECRET_FILE, JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE: shared by every operator-facing API.
    ...jwtConfigSchema.shape,
    /** Requests per client (token subject, else IP) per window. */
    RATE_LIMIT_MAX: z.coerce.number().int().positive().default(600),
    RATE_LIMIT_WINDOW_MS: env.durationMs().default(60_000),
    /** Behind a reverse proxy: trust X-Forwarded-For, so the rate limit applies per client, not per proxy. */
    HTTP_TRUST_PROXY: env.boolean().default(false),
    /** Timeout of each command sent to the owning service over NATS. */
    COMMAND_TIMEOUT_MS: env.durationMs().default(5_000),
    DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
  })
  .refine(jwtInProduction.check, jwtInProduction.params);
export type OperatorApiEnvConfig = z.output<typeof operatorApiConfigSchema>;
