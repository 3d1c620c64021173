/**
 * The durable work item: every relayed DistributionRequested is distributed. Messages are
 * keyed by niche: the requests of a niche that wait together are decided together, in
 * delivery order (distributeBatch), one batch of a niche at a time (and the advisory lock
 * keeps other processes out); different niches run in parallel.
 * Retries follow `backoffMs`, then the dead-letter queue.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { z } from 'zod';
import { DistributionRequested, RelayedEvent, type Subjects } from '@fairlead/contracts';
import type { PostgresEventStore } from '@fairlead/event-store';
import { isPermanentError, runConsumer, type ConsumerRunner } from '@fairlead/messaging';
import { distributeBatch, type DistributeLeadDeps } from '../application/distribute-batch';
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
  /** Most distributions of one niche decided together (default 100). */
  maxBatch?: number;
  /** Distributions held at once, running or queued behind their niche (default 1000). */
  maxAckPending?: number;
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
    concurrency: options.concurrency ?? 2,
    // Room for each niche's queue to build up behind the batch being decided.
    maxAckPending: options.maxAckPending ?? 1_000,
    deadLetter: { subjectFor: (subject) => subjects.deadLetterSubject(subject) },
    ...(options.backoffMs ? { backoffMs: options.backoffMs } : {}),
    ...(options.ackWaitMs ? { ackWaitMs: options.ackWaitMs } : {}),
    logger,
    batch: {
      max: options.maxBatch ?? 100,
      handler: async (items) => {
        // One niche per batch (the key); the leads are decided in delivery order.
        const inputs = items.map(({ message, ctx }) => ({ request: message.data, attempt: ctx.attempt }));
        const nicheId = inputs[0]!.request.niche_id;
        let outcomes: { ok: boolean; error?: unknown }[];
        try {
          outcomes = await distributeBatch(options.distribute, nicheId, inputs);
        } catch (error) {
          outcomes = inputs.map(() => ({ ok: false, error }));
        }
        return Promise.all(
          outcomes.map(async (outcome, i) => {
            if (outcome.ok) return undefined;
            const { ctx } = items[i]!;
            const error = outcome.error ?? new Error('distribution failed');
            const final = isPermanentError(error) || ctx.attempt >= ctx.maxAttempts;
            await recordDistributionFailure(store, { request: inputs[i]!.request, attempt: ctx.attempt, error, final, now: options.distribute.clock() }).catch(
              (recordError: unknown) => ctx.logger.error({ err: recordError }, 'could not record the failed attempt'),
            );
            return error;
          }),
        );
      },
    },
  });
}
