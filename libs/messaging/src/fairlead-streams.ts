import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { Subjects } from '@fairlead/contracts';
import type { StreamDeclaration } from './declarations';

export interface FairleadStreamsOptions {
  /** Replicas per stream (1 on one server; 3 in a JetStream cluster). */
  replicas?: number;
  /** How long JetStream remembers msgIDs; must outlast a publisher's retries and a relay restart (default 5 min). */
  duplicateWindowMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The standard streams of Fairlead, declared at every service's start-up. */
export function fairleadStreams(subjects: Subjects, options: FairleadStreamsOptions = {}): StreamDeclaration[] {
  const common = {
    storage: StorageType.File,
    num_replicas: options.replicas ?? 1,
    duplicate_window: nanos(options.duplicateWindowMs ?? 5 * 60_000),
    discard: DiscardPolicy.Old,
  } satisfies Partial<StreamDeclaration>;
  return [
    {
      ...common,
      name: subjects.streams.leadIntake,
      description: 'Approved leads from upstream systems (the public lead.approved contract).',
      subjects: [subjects.leadApproved],
      retention: RetentionPolicy.Limits,
      // Raw intake is kept a while for audits and redrives; the event store is the record.
      max_age: nanos(30 * DAY_MS),
    },
    {
      ...common,
      name: subjects.streams.events,
      description: 'Every stored event, published by the relay with msgID = event id.',
      subjects: [`${subjects.events}.>`],
      retention: RetentionPolicy.Limits,
      max_age: nanos(30 * DAY_MS),
    },
    {
      ...common,
      name: subjects.streams.deadLetters,
      description: 'Messages that failed every attempt or failed validation; kept until an operator redrives or purges them.',
      subjects: [`${subjects.deadLetter}.>`],
      retention: RetentionPolicy.Limits,
      max_age: 0,
    },
    {
      ...common,
      name: subjects.streams.work,
      description: 'Durable work items (e.g. distribution requests); a message leaves when acknowledged.',
      subjects: [`${subjects.work}.>`],
      retention: RetentionPolicy.Workqueue,
      max_age: 0,
    },
  ];
}
