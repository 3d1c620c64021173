/** The fairness process's environment, validated once at start-up. */
import { z } from 'zod';
import { baseConfigSchema, env } from '@fairlead/platform';

const msList = env
  .list()
  .pipe(z.array(z.string().regex(/^\d+$/, 'a whole number of milliseconds').transform(Number)).min(1, 'at least one delay'));

export const fairnessConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('fairness'),
  HTTP_PORT: env.port().default(7103).describe('HTTP port of this service'),
  RETRY_BACKOFF_MS: msList.default([5_000, 15_000, 45_000, 120_000, 300_000]).describe('delays before each retry of a distribution, in ms, comma separated'),
  /**
   * Niches decided at once by this process. Each runs a batch of that niche's queued leads,
   * so a few cover many leads: on 2 cores, 2 gave the same throughput as 4 with a lower p99
   * at 100 leads/s (bench:distribution, benchmarks/README.md).
   */
  DISTRIBUTION_CONCURRENCY: z.coerce.number().int().positive().default(2).describe('niches decided at once by this process, each a batch of its queued leads'),
  DISTRIBUTION_BATCH_MAX: z.coerce.number().int().min(1).max(500).default(100).describe('most queued distributions of one niche decided together (1: one lead at a time)'),
  REQUEST_TIMEOUT_MS: env.durationMs().default(5_000).describe('timeout of requests to rotation and billing (ms)'),
  ACK_WAIT_MS: env
    .durationMs()
    .default(30_000)
    .describe("how long JetStream waits for a running distribution's ack before redelivering it (kept alive while it runs; bounds recovery after a crash, ms)"),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(20).describe('PostgreSQL connections of this process'),
});
export type FairnessEnvConfig = z.output<typeof fairnessConfigSchema>;
