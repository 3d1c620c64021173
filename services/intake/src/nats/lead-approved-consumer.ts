/**
 * The durable consumer of `lead.approved` (stream LEAD_INTAKE). Every message is parsed by
 * intake itself (the runner's schema accepts any JSON) so that a malformed one is both
 * recorded as LeadRejected with its reasons and dead-lettered — a PermanentError, so it is
 * never retried and never stops the consumer. Rotation being unreachable is transient:
 * the message is retried on the backoff schedule.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { z } from 'zod';
import { Id, type Subjects } from '@fairlead/contracts';
import { PermanentError, runConsumer, type ConsumerRunner } from '@fairlead/messaging';
import type { IntakeCommands } from '../application/intake-commands';
import { isLeadRejectedError } from '../domain/errors';

export interface LeadApprovedConsumerOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  subjects: Subjects;
  commands: IntakeCommands;
  logger: Logger;
  /** Durable consumer name; instances sharing it share the work (default `intake-lead-approved`). */
  durable?: string;
  /** Leads handled at once (default 8); messages of one lead id are handled one at a time. */
  concurrency?: number;
  /** Delays before each retry of a message (attempts = length + 1). */
  backoffMs?: readonly number[];
}

const leadIdOf = (message: unknown): string | undefined => {
  const value = typeof message === 'object' && message !== null ? (message as { lead_id?: unknown }).lead_id : undefined;
  return Id.safeParse(value).success ? (value as string) : undefined;
};

export function startLeadApprovedConsumer(options: LeadApprovedConsumerOptions): Promise<ConsumerRunner> {
  const { subjects, commands } = options;
  return runConsumer({
    js: options.js,
    jsm: options.jsm,
    stream: subjects.streams.leadIntake,
    durable: options.durable ?? 'intake-lead-approved',
    filterSubject: subjects.leadApproved,
    schema: z.unknown(),
    keyOf: (message) => leadIdOf(message) ?? '\u0000unreadable',
    concurrency: options.concurrency ?? 8,
    deadLetter: { subjectFor: (subject) => subjects.deadLetterSubject(subject) },
    ...(options.backoffMs ? { backoffMs: options.backoffMs } : {}),
    logger: options.logger,
    handler: async (message, ctx) => {
      try {
        const reply = await commands.approve(message, { via: 'nats', messageId: ctx.messageId, raw: ctx.data });
        ctx.logger.debug({ ...reply }, 'lead approved');
      } catch (error) {
        if (isLeadRejectedError(error)) {
          ctx.logger.info({ code: error.code, reasons: error.reasons, stream: error.stream }, 'lead rejected');
          throw new PermanentError(error.message, { cause: error, code: error.code });
        }
        throw error;
      }
    },
  });
}
