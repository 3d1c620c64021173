/**
 * The durable work item: every relayed DistributionRequested runs distributeLead.
 * Messages are keyed by niche, so one process decides a niche's leads one at a time
 * (and the advisory lock keeps other processes out); different niches run in parallel.
 * Retries follow `backoffMs`, then the dead-letter queue.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DistributionRequested, RelayedEvent, type Subjects } from '@fairlead/contracts';
import type { PostgresEventStore } from '@fairlead/event-store';
import { isPermanentError, runConsumer, type ConsumerRunner } from '@fairlead/messaging';
import { distributeLead, type DistributeLeadDeps } from '../application/distribute-lead';
import { recordDistributionFailure } from '../application/record-failure';

export const DistributionRequestMessage = RelayedEvent.extend({ type: z.literal('DistributionRequested'), data: DistributionRequested });

export interface DistributionConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  subjects: Subjects;
  store: PostgresEventStore;
  distribute: DistributeLeadDeps;
  logger: Logger;
  /** Delays before each retry (attempts = length + 1). */
  backoffMs?: readonly number[];
  /** Niches decided at once by this process. */
  concurrency?: number;
  /** Durable consumer name; instances sharing it share the work. */
  durable?: string;
  /** Server's ack timer; the runner keeps a running handler alive. */
  ackWaitMs?: number;
}

export function startDistributionConsumer(options: DistributionConsumerOptions): Promise<ConsumerRunner> {
  const { subjects, store, logger } = options;
  return runConsumer({
    js: options.js,
    jsm: options.jsm,
    stream: subjects.streams.events,
    durable: options.durable ?? 'fairness-distribution',
    filterSubject: subjects.eventSubject('lead', 'DistributionRequested'),
    schema: DistributionRequestMessage,
    keyOf: (message) => message.data.niche_id,
    concurrency: options.concurrency ?? 4,
    deadLetter: { subjectFor: (subject) => subjects.deadLetterSubject(subject) },
    ...(options.backoffMs ? { backoffMs: options.backoffMs } : {}),
    ...(options.ackWaitMs ? { ackWaitMs: options.ackWaitMs } : {}),
    logger,
    handler: async (message, ctx) => {
      const request = message.data;
      try {
        await distributeLead(options.distribute, { request, attempt: ctx.attempt });
      } catch (error) {
        const final = isPermanentError(error) || ctx.attempt >= ctx.maxAttempts;
        await recordDistributionFailure(store, { request, attempt: ctx.attempt, error, final, now: options.distribute.clock() }).catch((recordError: unknown) =>
          ctx.logger.error({ err: recordError }, 'could not record the failed attempt'),
        );
        throw error;
      }
    },
  });
}
