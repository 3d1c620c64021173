/** The intake process's environment, validated once at start-up. */
import { z } from 'zod';
import { baseConfigSchema, env, jwtConfigSchema, jwtInProduction, upstreamKeyConfigSchema, upstreamKeysInProduction } from '@fairlead/platform';
import { LEAD_LIMITS } from '@fairlead/contracts';
import { INTAKE_DEFAULT_NICHE_CACHE_TTL_MS } from './application/niche-cache';

const msList = env
  .list()
  .pipe(z.array(z.string().regex(/^\d+$/, 'a whole number of milliseconds').transform(Number)).min(1, 'at least one delay'));

export const intakeConfigSchema = baseConfigSchema
  .extend({
    SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('intake'),
    HTTP_PORT: env.port().default(7101).describe('HTTP port of this service'),
    // UPSTREAM_API_KEYS, UPSTREAM_API_KEY_FILE: who may submit approved leads over HTTP (X-Api-Key).
    ...upstreamKeyConfigSchema.shape,
    // JWT_SECRET, JWT_SECRET_FILE, JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE: the operator API's, for distribution requests.
    ...jwtConfigSchema.shape,
    RETRY_BACKOFF_MS: msList
      .default([5_000, 15_000, 45_000, 120_000, 300_000])
      .describe('delays before each retry of a lead.approved message (e.g. rotation unreachable), in ms, comma separated'),
    INTAKE_CONCURRENCY: z.coerce.number().int().positive().default(8).describe('lead.approved messages handled at once'),
    REQUEST_TIMEOUT_MS: env.durationMs().default(5_000).describe('timeout of the niche lookup at rotation (ms)'),
    /**
     * How long a niche found at rotation is reused, in ms (0: ask rotation for every lead).
     * A change of a niche's auto_distribute flag applies to leads approved up to this much later.
     */
    NICHE_CACHE_TTL_MS: z.coerce
      .number({ error: 'expected a number of milliseconds' })
      .int()
      .min(0)
      .default(INTAKE_DEFAULT_NICHE_CACHE_TTL_MS)
      .describe('how long a niche found at rotation is reused, in ms (0: ask rotation for every lead)'),
    DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10).describe('PostgreSQL connections of this process'),
    LEAD_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .max(512 * 1024)
      .default(LEAD_LIMITS.maxBytes)
      .describe('largest lead.approved accepted, in bytes as received (larger ones are rejected before anything is stored)'),
    LEAD_MAX_DEPTH: z.coerce.number().int().min(4).max(256).default(LEAD_LIMITS.maxDepth).describe('deepest nesting of objects and arrays accepted in a lead.approved'),
  })
  .refine(jwtInProduction.check, jwtInProduction.params)
  .refine(upstreamKeysInProduction.check, upstreamKeysInProduction.params);

export type IntakeEnvConfig = z.output<typeof intakeConfigSchema>;
