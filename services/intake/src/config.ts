/** The intake process's environment, validated once at start-up. */
import { z } from 'zod';
import { baseConfigSchema, env } from '@fairlead/platform';
import { LEAD_LIMITS } from '@fairlead/contracts';
import { INTAKE_DEFAULT_NICHE_CACHE_TTL_MS } from './application/niche-cache';

const msList = env
  .list()
  .pipe(z.array(z.string().regex(/^\d+$/, 'a whole number of milliseconds').transform(Number)).min(1, 'at least one delay'));

export const intakeConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('intake'),
  HTTP_PORT: env.port().default(7101),
  /** Delays before each retry of a lead.approved message (e.g. rotation unreachable), in ms, comma separated. */
  RETRY_BACKOFF_MS: msList.default([5_000, 15_000, 45_000, 120_000, 300_000]),
  /** lead.approved messages handled at once. */
  INTAKE_CONCURRENCY: z.coerce.number().int().positive().default(8),
  /** Timeout of the niche lookup at rotation. */
  REQUEST_TIMEOUT_MS: env.durationMs().default(5_000),
  /**
   * How long a niche found at rotation is reused, in ms (0: ask rotation for every lead).
   * A change of a niche's auto_distribute flag applies to leads approved up to this much later.
   */
  NICHE_CACHE_TTL_MS: z.coerce.number({ error: 'expected a number of milliseconds' }).int().min(0).default(INTAKE_DEFAULT_NICHE_CACHE_TTL_MS),
  /** Largest lead.approved accepted, in bytes as received (larger ones are rejected before anything is stored). */
  LEAD_MAX_BYTES: z.coerce.number().int().min(1_024).max(512 * 1024).default(LEAD_LIMITS.maxBytes),
  /** Deepest nesting of objects and arrays accepted in a lead.approved. */
  LEAD_MAX_DEPTH: z.coerce.number().int().min(4).max(256).default(LEAD_LIMITS.maxDepth),
  /** PostgreSQL connections of this process. */
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
});
export type IntakeEnvConfig = z.output<typeof intakeConfigSchema>;
