/** The intake process's environment, validated once at start-up. */
import { z } from 'zod';
import { baseConfigSchema, env } from '@fairlead/platform';

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
  /** PostgreSQL connections of this process. */
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
});
export type IntakeEnvConfig = z.output<typeof intakeConfigSchema>;
