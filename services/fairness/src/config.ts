/** The fairness process's environment, validated once at start-up. */
import { z } from 'zod';
import { baseConfigSchema, env } from '@fairlead/platform';

const msList = env
  .list()
  .pipe(z.array(z.string().regex(/^\d+$/, 'a whole number of milliseconds').transform(Number)).min(1, 'at least one delay'));

export const fairnessConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('fairness'),
  HTTP_PORT: env.port().default(7103),
  /** Delays before each retry of a distribution, in ms, comma separated. */
  RETRY_BACKOFF_MS: msList.default([5_000, 15_000, 45_000, 120_000, 300_000]),
  /**
   * Niches decided at once by this process. Each runs a batch of that niche's queued leads,
   * so a few cover many leads: on 2 cores, 2 gave the same throughput as 4 with a lower p99
   * at 100 leads/s (bench:distribution, benchmarks/README.md).
   */
  DISTRIBUTION_CONCURRENCY: z.coerce.number().int().positive().default(2),
  /** Most queued distributions of one niche decided together (1: one lead at a time). */
  DISTRIBUTION_BATCH_MAX: z.coerce.number().int().min(1).max(500).default(100),
  /** Timeout of requests to rotation and billing. */
  REQUEST_TIMEOUT_MS: env.durationMs().default(5_000),
  /** How long JetStream waits for a running distribution's ack before redelivering it (kept alive while it runs); bounds recovery after a crash. */
  ACK_WAIT_MS: env.durationMs().default(30_000),
  /** PostgreSQL connections of this process. */
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(20),
});
export type FairnessEnvConfig = z.output<typeof fairnessConfigSchema>;
