/**
 * Runs billing service instances in-process against the test run's PostgreSQL and NATS:
 * a fresh database and namespace per test file, each instance with its own pool and NATS
 * connection (as separate processes would have), plus a client connection for requests
 * and helpers that record niches and subscriptions the way rotation and fairness do.
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import { billingCommands, streams, SYSTEM_ACTOR, type CommandReply, type Subjects, type SubscriptionStatus } from '@fairlead/contracts';
import type { NewEvent, PostgresEventStore } from '@fairlead/event-store';
import { isRemoteError, request } from '@fairlead/messaging';
import { openTestEnvironment } from '@fairlead/service-testing';
import type { TestDatabase } from '@fairlead/testing';
import { startBillingService, type BillingConfig, type BillingService } from '../service';

export interface BillingHarness {
  db: TestDatabase;
  store: PostgresEventStore;
  client: NatsConnection;
  subjects: Subjects;
  start(config?: BillingConfig): Promise<BillingService>;
  command<V extends keyof typeof billingCommands>(verb: V, body: unknown): Promise<CommandReply<'billing', V>>;
  /** The error code a command is answered with (fails when it succeeds). */
  errorCode(verb: keyof typeof billingCommands, body: unknown): Promise<string>;
  /** Records a niche with levels `{ level_id, price }` as rotation does. */
  seedLevels(nicheId: string, levels: { level_id: string; price: number }[]): Promise<void>;
  /** Records a subscription as fairness does (and optionally an operator's status). */
  seedSubscription(subscriptionId: string, providerId: string, levelId: string, status?: SubscriptionStatus): Promise<void>;
  close(): Promise<void>;
}

export async function startBillingHarness(label: string): Promise<BillingHarness> {
  const env = await openTestEnvironment(label, { connectionName: `${label}-client` });
  const { db, store, subjects, logger, nc: client } = env;
  const actor = SYSTEM_ACTOR;

  const command: BillingHarness['command'] = (verb, body) =>
    request(client, subjects.command('billing', verb), body, { responseSchema: billingCommands[verb].reply as never, timeoutMs: 15_000 });

  return {
    db,
    store,
    client,
    subjects,
    start: async (config) => (await env.startInstance((parts) => startBillingService({ ...parts, subjects, logger, ...(config ? { config } : {}) }))).service,
    command,
    errorCode: async (verb, body) => {
      try {
        await command(verb, body);
      } catch (error) {
        if (isRemoteError(error)) return error.code;
        throw error;
      }
      throw new Error(`${verb} succeeded`);
    },
    seedLevels: async (nicheId, levels) => {
      await store.append(
        streams.niche(nicheId),
        [
          { id: randomUUID(), type: 'NicheCreated', data: { niche_id: nicheId, name: nicheId, auto_distribute: true, actor } },
          ...levels.map((l, i) => ({
            id: randomUUID(),
            type: 'CompetitionLevelAdded',
            data: { niche_id: nicheId, level_id: l.level_id, name: l.level_id, order_position: i + 1, max_recipients: 1, price_per_lead_cents: l.price, active: true, actor },
          })),
        ],
        'no_stream',
      );
    },
    seedSubscription: async (subscriptionId, providerId, levelId, status) => {
      const created = {
        id: randomUUID(),
        type: 'SubscriptionCreated',
        data: {
          subscription_id: subscriptionId,
          provider_id: providerId,
          niche_id: 'n',
          level_id: levelId,
          service_area: { postal_codes: [], states: ['TX'] },
          daily_cap: null,
          monthly_cap: null,
          status: 'active',
          actor,
        },
      };
      const events: NewEvent[] = [created];
      if (status && status !== 'active') {
        events.push({
          id: randomUUID(),
          type: 'SubscriptionStatusChanged',
          data: { subscription_id: subscriptionId, provider_id: providerId, from: 'active', to: status, reason: 'operator', actor }
        });
      }
      await store.append(streams.subscription(subscriptionId), events, 'no_stream');
    },
    close: () => env.close(),
  };
}
