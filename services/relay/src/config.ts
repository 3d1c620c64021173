/** The relay process's environment, validated once at start-up. */
import { z } from 'zod';
import { baseConfigSchema, env } from '@fairlead/platform';
import { RELAY_DEFAULT_BATCH_SIZE, RELAY_DEFAULT_CHECKPOINT_INTERVAL_MS, RELAY_DEFAULT_MIN_READ_INTERVAL_MS } from './relay';

export const relayConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('relay'),
  HTTP_PORT: env.port().default(7107).describe('HTTP port of this service'),
  RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(RELAY_DEFAULT_BATCH_SIZE).describe('events read from the store and published per batch'),
  /** A crash republishes about this much, which JetStream's duplicate window drops. */
  RELAY_CHECKPOINT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(RELAY_DEFAULT_CHECKPOINT_INTERVAL_MS)
    .describe('least time between checkpoint writes (ms; 0: after every batch); must stay under a tenth of the events stream duplicate window'),
  RELAY_MIN_READ_INTERVAL_MS: z.coerce.number().int().min(0).max(1_000).default(RELAY_DEFAULT_MIN_READ_INTERVAL_MS).describe('least time between two reads of the log once caught up (ms)'),
  RELAY_ACK_PER_PAGE: env
    .boolean()
    .default(true)
    .describe('one JetStream ack per page of events (core publishes chained by Nats-Expected-Last-Msg-Id, the last acked); false: one ack per event'),
  RELAY_LOCK_KEY: z.coerce.bigint().default(7_346_217_001n).describe('PostgreSQL advisory lock key shared by every relay of one deployment (one leads)'),
});
export type RelayEnvConfig = z.output<typeof relayConfigSchema>;
