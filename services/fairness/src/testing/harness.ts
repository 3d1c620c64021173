/**
 * Runs the fairness service in-process against the test run's PostgreSQL and NATS, with
 * the real relay (services/relay as a child process: store → JetStream), stand-in
 * rotation and billing responders, and helpers to seed niches, subscriptions and leads
 * the way rotation and intake record them.
 */
import { randomUUID } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import {
  fairnessCommands,
  streams,
  SYSTEM_ACTOR,
  type CommandReply,
  type DistributionEventData,
  type LevelSnapshot,
  type Subjects,
} from '@fairlead/contracts';
import type { PostgresEventStore, StoredEvent } from '@fairlead/event-store';
import { request } from '@fairlead/messaging';
import { openTestEnvironment } from '@fairlead/service-testing';
import { startServiceProcess, waitFor, type ServiceProcess, type TestDatabase } from '@fairlead/testing';
import type { DistributeLeadDeps } from '../application/distribute-batch';
import { natsBilling } from '../nats/billing-client';
import { natsRotation } from '../nats/rotation-client';
import { startFairnessService, type FairnessConfig, type FairnessService } from '../service';
import { TestBilling, TestRotation } from './responders';

export interface Harness {
  db: TestDatabase;
  store: PostgresEventStore;
  nc: NatsConnection;
  js: JetStreamClient;
  subjects: Subjects;
  natsUrl: string;
  logger: Logger;
  rotation: TestRotation;
  billing: TestBilling;
  relay: ServiceProcess | undefined;
  /** Starts (another) fairness instance on the same database and subjects. */
  startService(config?: FairnessConfig): Promise<FairnessService>;
  /** What distributeBatch needs, reaching the rotation and billing stand-ins over NATS (as the service's own deps do). */
  distributeDeps(): DistributeLeadDeps;
  seedNiche(nicheId: string, levels: LevelSnapshot[]): Promise<void>;
  subscribe(input: { provider_id: string; niche_id: string; level_id: string; states?: string[]; postal_codes?: string[]; daily_cap?: number | null }): Promise<CommandReply<'fairness', 'create_subscription'>>;
  command<V extends keyof typeof fairnessCommands>(verb: V, body: unknown): Promise<CommandReply<'fairness', V>>;
  /** Records LeadApproved and DistributionRequested as intake does; returns the request id. */
  approveLead(leadId: string, nicheId: string, location?: { postal_code: string; state: string }): Promise<string>;
  requestDistribution(leadId: string, nicheId: string): Promise<string>;
  leadEvents(leadId: string): Promise<StoredEvent[]>;
  waitForOutcome(leadId: string, timeoutMs?: number): Promise<DistributionEventData<'DistributionCompleted'>>;
  close(): Promise<void>;
}

export const level = (nicheId: string, n: number, max: number, price: number): LevelSnapshot => ({
  level_id: `${nicheId}-l${n}`,
  name: `Level ${n}`,
  order_position: n,
  max_recipients: max,
  price_per_lead_cents: price,
});

export async function startHarness(
  label: string,
  options: {
    /** Run the relay (default true); tests that never distribute can do without. */
    relay?: boolean;
    /** Answer rotation's and billing's commands with the stand-ins (default true); false when the real services run. */
    standIns?: boolean;
  } = {},
): Promise<Harness> {
  const env = await openTestEnvironment(label, { declareStreams: true });
  const { db, store, nc, subjects, logger } = env;
  const js = jetstream(nc);
  const rotation = new TestRotation(nc, subjects);
  const billing = new TestBilling(nc, subjects);
  if (options.standIns !== false) {
    rotation.start();
    billing.start();
  }
  const services: FairnessService[] = [];
  const relay =
    options.relay === false
      ? undefined
      : await startServiceProcess({ service: 'relay', env: { DATABASE_URL: db.url, NATS_URL: env.natsUrl, NATS_NAMESPACE: subjects.namespace } });

  const harness: Harness = {
    db,
    store,
    nc,
    js,
    subjects,
    natsUrl: env.natsUrl,
    logger,
    rotation,
    billing,
    relay,
    startService: async (config) => {
      const service = await startFairnessService({
        pool: db.pool,
        store,
        nc,
        js,
        subjects,
        logger,
        config: { backoffMs: [100, 200, 400], ackWaitMs: 5_000, ...config },
      });
      services.push(service);
      return service;
    },
    seedNiche: async (nicheId, levels) => {
      rotation.setLevels(nicheId, levels);
      await store.append(
        streams.niche(nicheId),
        [
          { id: randomUUID(), type: 'NicheCreated', data: { niche_id: nicheId, name: nicheId, auto_distribute: true, actor: SYSTEM_ACTOR } },
          ...levels.map((l) => ({ id: randomUUID(), type: 'CompetitionLevelAdded', data: { ...l, niche_id: nicheId, active: true, actor: SYSTEM_ACTOR } })),
        ],
        'no_stream',
      );
    },
    command: (verb, body) => request(nc, subjects.command('fairness', verb), body, { responseSchema: fairnessCommands[verb].reply as never }),
    subscribe: (input) =>
      harness.command('create_subscription', {
        provider_id: input.provider_id,
        niche_id: input.niche_id,
        level_id: input.level_id,
        service_area: { postal_codes: input.postal_codes ?? [], states: input.states ?? ['CA'] },
        daily_cap: input.daily_cap ?? null,
      }),
    approveLead: async (leadId, nicheId, location = { postal_code: '94110', state: 'CA' }) => {
      const requestId = randomUUID();
      const now = new Date().toISOString();
      await store.append(
        streams.lead(leadId),
        [
          {
            id: randomUUID(),
            type: 'LeadApproved',
            data: {
              received_via: 'nats',
              lead: { schema_version: 1, lead_id: leadId, niche_id: nicheId, approved_at: now, consumer: { name: 'Ann', email: 'ann@example.com' }, location, details: {} },
            },
          },
          { id: randomUUID(), type: 'DistributionRequested', data: { lead_id: leadId, niche_id: nicheId, request_id: requestId, requested_by: SYSTEM_ACTOR, requested_at: now } },
        ],
        'no_stream',
      );
      return requestId;
    },
    requestDistribution: async (leadId, nicheId) => {
      const requestId = randomUUID();
      await store.append(
        streams.lead(leadId),
        [{ id: randomUUID(), type: 'DistributionRequested', data: { lead_id: leadId, niche_id: nicheId, request_id: requestId, requested_by: SYSTEM_ACTOR, requested_at: new Date().toISOString() } }],
        'any',
      );
      return requestId;
    },
    distributeDeps: () => ({ pool: db.pool, store, rotation: natsRotation({ nc, subjects }), billing: natsBilling({ nc, subjects }), clock: () => new Date(), logger }),
    leadEvents: (leadId) => store.readStream(streams.lead(leadId)),
    waitForOutcome: async (leadId, timeoutMs = 15_000) => {
      const event = await waitFor(async () => (await harness.leadEvents(leadId)).find((e) => e.type === 'DistributionCompleted'), {
        timeoutMs,
        what: `the outcome of ${leadId}`,
      });
      return event.data as DistributionEventData<'DistributionCompleted'>;
    },
    close: async () => {
      await Promise.allSettled(services.map((s) => s.stop()));
      await relay?.stop();
      await rotation.stop();
      await billing.stop();
      await env.close();
    },
  };
  return harness;
}
