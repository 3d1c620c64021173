/**
 * The whole distribution system for end-to-end tests: relay, intake, rotation, fairness
 * and billing, each as its own process on the test run's PostgreSQL and NATS, under a
 * namespace of their own. Tests drive it the way upstream systems and operators do:
 * `lead.approved` on JetStream and commands over NATS request/reply.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ZodType } from 'zod';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  COMMANDS,
  streams,
  subjectsFor,
  type CommandReply,
  type CommandRequest,
  type CommandService,
  type CommandVerb,
  type DistributionEventData,
  type LeadApprovedV1Input,
  type Subjects,
} from '@fairlead/contracts';
import { createPostgresEventStore, type PostgresEventStore, type StoredEvent } from '@fairlead/event-store';
import { connectNats, declareStreams, fairleadStreams, publishDurable, request } from '@fairlead/messaging';
import { createTestDatabase, startServiceProcesses, testNamespace, testNatsUrl, waitFor, type ServiceProcess, type TestDatabase } from '@fairlead/testing';

export const DISTRIBUTION_SERVICES = ['relay', 'rotation', 'billing', 'fairness', 'intake'] as const;
export type DistributionServiceName = (typeof DISTRIBUTION_SERVICES)[number] | 'operator-api' | 'notification';

export interface SystemOptions {
  /** Retry delays of distribution work items (ms); short so that tests see retries. */
  backoffMs?: number[];
  /** Extra environment per service. */
  env?: Partial<Record<DistributionServiceName, Record<string, string>>>;
  /** Also run the operator API (its read models serve the status of each lead). */
  operatorApi?: boolean;
  /** Also run the notification service (emails to the local mail catcher). */
  notification?: boolean;
  /** NATS to use instead of the test run's server (e.g. a local cluster's URLs, comma separated). */
  natsUrl?: string;
  /** Replicas of the streams (3 on a three-node cluster). */
  streamReplicas?: number;
  /** Processes per service (default 1): replicas share durable consumers, locks and read models. */
  replicas?: number;
}

/** HS256 secret of the operator-facing APIs in tests (operator API, intake); tokens are minted with it (see operatorToken). */
export const TEST_JWT_SECRET = `test-secret-${randomUUID()}`;
/** The upstream API key intake accepts in tests (named `e2e`); send it as X-Api-Key. */
export const TEST_UPSTREAM_KEY = `test-upstream-key-${randomUUID()}`;
/** Credentials every service of the system reads: no service falls back to the development files under .data. */
export const TEST_CREDENTIALS_ENV = Object.freeze({ JWT_SECRET: TEST_JWT_SECRET, UPSTREAM_API_KEYS: `e2e=${TEST_UPSTREAM_KEY}` });

/** A bearer token for the operator API under test. */
export async function operatorToken(roles: string[] = ['admin'], mfa = true): Promise<string> {
  return new SignJWT({ roles, amr: mfa ? ['pwd', 'mfa'] : ['pwd'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('e2e-operator')
    .setIssuer('fairlead')
    .setAudience('fairlead-operator-api')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

export interface DistributionSystem {
  db: TestDatabase;
  store: PostgresEventStore;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  subjects: Subjects;
  /** The first process of each service. */
  services: Record<DistributionServiceName, ServiceProcess>;
  /** Every process of each service (`replicas` of them). */
  replicas: Record<DistributionServiceName, ServiceProcess[]>;
  command<S extends CommandService, V extends CommandVerb<S>>(service: S, verb: V, body: CommandRequest<S, V>, timeoutMs?: number): Promise<CommandReply<S, V>>;
  /** Publishes `lead.approved` as an upstream system does. */
  publishLead(lead: LeadApprovedV1Input): Promise<void>;
  leadEvents(leadId: string): Promise<StoredEvent[]>;
  /** Waits for the lead's DistributionCompleted. */
  waitForOutcome(leadId: string, timeoutMs?: number): Promise<DistributionEventData<'DistributionCompleted'>>;
  /** Waits until every consumer of the intake and events streams has nothing pending or unacknowledged. */
  waitForConsumersIdle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function leadPayload(leadId: string, nicheId: string, location: { postal_code: string; state: string } = { postal_code: '94107', state: 'CA' }): LeadApprovedV1Input {
  return {
    schema_version: 1,
    lead_id: leadId,
    niche_id: nicheId,
    approved_at: new Date().toISOString(),
    consumer: { name: 'Dana Consumer', email: 'dana@example.com' },
    location,
    details: { move_size: '2br' },
  };
}

export async function startDistributionSystem(label: string, options: SystemOptions = {}): Promise<DistributionSystem> {
  const db = await createTestDatabase(label);
  const store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  const natsUrl = options.natsUrl ?? testNatsUrl();
  const nc = await connectNats({ servers: natsUrl.split(','), name: `${label}-test` });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const subjects = subjectsFor(testNamespace(label));
  await declareStreams(jsm, fairleadStreams(subjects, { replicas: options.streamReplicas ?? 1 }));

  const backoff = (options.backoffMs ?? [200, 400, 800, 1600, 3200]).join(',');
  const common = { DATABASE_URL: db.url, NATS_URL: natsUrl, NATS_NAMESPACE: subjects.namespace, NATS_STREAM_REPLICAS: String(options.streamReplicas ?? 1) };
  const extra: Record<DistributionServiceName, Record<string, string>> = {
    'operator-api': { JWT_SECRET: TEST_JWT_SECRET },
    intake: { RETRY_BACKOFF_MS: backoff, ...TEST_CREDENTIALS_ENV },
    relay: { RELAY_LOCK_KEY: String(Math.floor(Math.random() * 1e12)) },
    rotation: {},
    billing: {},
    fairness: { RETRY_BACKOFF_MS: backoff, ACK_WAIT_MS: '5000' },
    notification: { RETRY_BACKOFF_MS: backoff, JWT_SECRET: TEST_JWT_SECRET },
  };
  const names: DistributionServiceName[] = [
    ...DISTRIBUTION_SERVICES,
    ...(options.operatorApi ? (['operator-api'] as const) : []),
    ...(options.notification ? (['notification'] as const) : []),
  ];
  const copies = options.replicas ?? 1;
  const started: ServiceProcess[] = [];
  const replicas = Object.fromEntries(names.map((name) => [name, [] as ServiceProcess[]])) as Record<DistributionServiceName, ServiceProcess[]>;
  // One process of each service at a time (a wave of replicas after the first): starting a
  // dozen processes at once on two busy cores can outlast any readiness deadline.
  for (let copy = 0; copy < copies; copy++) {
    try {
      const wave = await startServiceProcesses(names.map((name) => ({ service: name, env: { ...common, ...extra[name], ...options.env?.[name] } })));
      started.push(...wave);
      wave.forEach((p, i) => replicas[names[i]!].push(p));
    } catch (error) {
      await Promise.allSettled(started.map((p) => p.stop()));
      throw error;
    }
  }
  const services = Object.fromEntries(names.map((name) => [name, replicas[name][0]!])) as Record<DistributionServiceName, ServiceProcess>;

  const system: DistributionSystem = {
    db,
    store,
    nc,
    js,
    jsm,
    subjects,
    services,
    replicas,
    command: async (service, verb, body, timeoutMs = 10_000) => {
      const entry = (COMMANDS[service] as Record<string, { reply: ZodType }>)[verb]!;
      return (await request(nc, subjects.command(service, verb), body, { responseSchema: entry.reply, timeoutMs })) as never;
    },
    publishLead: async (lead) => {
      await publishDurable(js, subjects.leadApproved, lead, { msgID: `approved-${lead.lead_id}-${randomUUID()}` });
    },
    leadEvents: (leadId) => store.readStream(streams.lead(leadId)),
    waitForOutcome: async (leadId, timeoutMs = 30_000) => {
      const event = await waitFor(async () => (await system.leadEvents(leadId)).find((e) => e.type === 'DistributionCompleted'), {
        timeoutMs,
        intervalMs: 50,
        what: `the outcome of ${leadId}`,
      });
      return event.data as DistributionEventData<'DistributionCompleted'>;
    },
    waitForConsumersIdle: async (timeoutMs = 30_000) => {
      await waitFor(
        async () => {
          for (const stream of [subjects.streams.leadIntake, subjects.streams.events]) {
            for await (const info of jsm.consumers.list(stream)) {
              if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
            }
          }
          return true;
        },
        { timeoutMs, intervalMs: 50, what: 'consumers to be idle' },
      );
    },
    close: async () => {
      await Promise.all(started.map((s) => s.stop()));
      for (const name of Object.values(subjects.streams)) await jsm.streams.delete(name).catch(() => undefined);
      await nc.close();
      await store.close();
      await db.drop();
    },
  };
  return system;
}
