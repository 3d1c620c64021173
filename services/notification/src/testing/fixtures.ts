/**
 * Events of the distribution domain appended to the real event store, as the owning
 * services would append them; each is checked against its contract first.
 */
import { randomUUID } from 'node:crypto';
import { parseDistributionEvent, streams, SYSTEM_ACTOR, type DistributionEventType } from '@fairlead/contracts';
import type pg from 'pg';
import type { EventStore, PostgresEventStore } from '@fairlead/event-store';

function event<T extends DistributionEventType>(type: T, data: unknown, id: string = randomUUID()) {
  return { id, type, data: parseDistributionEvent(type, data) };
}

export interface World {
  nicheId: string;
  levelId: string;
  providerId: string;
  subscriptionId: string;
  providerEmail: string;
}

/** A niche with one level, a provider and its subscription. */
export async function seedWorld(store: EventStore, suffix = randomUUID().slice(0, 8), names: { niche?: string; level?: string; provider?: string } = {}): Promise<World> {
  const w: World = {
    nicheId: `niche-${suffix}`,
    levelId: `level-${suffix}`,
    providerId: `provider-${suffix}`,
    subscriptionId: `sub-${suffix}`,
    providerEmail: `pro-${suffix}@example.com`,
  };
  await store.append(
    streams.niche(w.nicheId),
    [
      event('NicheCreated', { niche_id: w.nicheId, name: names.niche ?? 'Roofing', auto_distribute: true, actor: SYSTEM_ACTOR }),
      event('CompetitionLevelAdded', {
        niche_id: w.nicheId,
        level_id: w.levelId,
        name: names.level ?? 'Gold',
        order_position: 1,
        max_recipients: 3,
        price_per_lead_cents: 2500,
        active: true,
        actor: SYSTEM_ACTOR,
      }),
    ],
    'no_stream',
  );
  await store.append(streams.provider(w.providerId), [event('ProviderRegistered', { provider_id: w.providerId, name: names.provider ?? 'Acme Roofing', email: w.providerEmail, actor: SYSTEM_ACTOR })], 'no_stream');
  await store.append(
    streams.subscription(w.subscriptionId),
    [
      event('SubscriptionCreated', {
        subscription_id: w.subscriptionId,
        provider_id: w.providerId,
        niche_id: w.nicheId,
        level_id: w.levelId,
        service_area: { states: ['TX'] },
        daily_cap: null,
        monthly_cap: null,
        status: 'active',
        actor: SYSTEM_ACTOR,
      }),
    ],
    'no_stream',
  );
  return w;
}

/** LeadApproved then LeadAssigned to the world's provider; returns the LeadAssigned event id. */
export async function assignLead(store: EventStore, w: World, { leadId = `lead-${randomUUID().slice(0, 8)}`, priceCents = 2500, consumerName = 'Maria Lopez', city = 'Austin' as string | undefined } = {}): Promise<{ leadId: string; eventId: string }> {
  await store.append(
    streams.lead(leadId),
    [
      event('LeadApproved', {
        lead: {
          schema_version: 1,
          lead_id: leadId,
          niche_id: w.nicheId,
          approved_at: new Date().toISOString(),
          consumer: { name: consumerName, email: 'maria.lopez@example.com', phone: '+1 512 555 0100' },
          location: { postal_code: '78701', state: 'tx', ...(city ? { city } : {}) },
          details: {},
        },
        received_via: 'nats',
      }),
    ],
    'no_stream',
  );
  const assigned = event('LeadAssigned', {
    assignment_id: randomUUID(),
    lead_id: leadId,
    niche_id: w.nicheId,
    provider_id: w.providerId,
    subscription_id: w.subscriptionId,
    level_id: w.levelId,
    level_name: 'Gold',
    order_position: 1,
    price_cents: priceCents,
    balance_after_cents: 10_000,
    assigned_at: new Date().toISOString(),
  });
  await store.append(streams.lead(leadId), [assigned], 'any');
  return { leadId, eventId: assigned.id };
}

/** The subscription moved to `to` (billing's low-balance pause, or back). Returns the event id. */
export async function changeStatus(store: EventStore, w: World, from: string, to: string): Promise<string> {
  const e = event('SubscriptionStatusChanged', { subscription_id: w.subscriptionId, provider_id: w.providerId, from, to, reason: 'balance 100 < price 2500', actor: SYSTEM_ACTOR });
  await store.append(streams.subscription(w.subscriptionId), [e], 'any');
  return e.id;
}

/** Another niche, level and subscription of the world's provider; returns the subscription id. */
export async function addSubscription(store: EventStore, w: World, names: { niche: string; level: string }): Promise<string> {
  const suffix = randomUUID().slice(0, 8);
  const nicheId = `niche-${suffix}`;
  const levelId = `level-${suffix}`;
  const subscriptionId = `sub-${suffix}`;
  await store.append(
    streams.niche(nicheId),
    [
      event('NicheCreated', { niche_id: nicheId, name: names.niche, auto_distribute: true, actor: SYSTEM_ACTOR }),
      event('CompetitionLevelAdded', { niche_id: nicheId, level_id: levelId, name: names.level, order_position: 1, max_recipients: 1, price_per_lead_cents: 900, active: true, actor: SYSTEM_ACTOR }),
    ],
    'no_stream',
  );
  await store.append(
    streams.subscription(subscriptionId),
    [
      event('SubscriptionCreated', {
        subscription_id: subscriptionId,
        provider_id: w.providerId,
        niche_id: nicheId,
        level_id: levelId,
        service_area: { states: ['TX'] },
        daily_cap: null,
        monthly_cap: null,
        status: 'active',
        actor: SYSTEM_ACTOR,
      }),
    ],
    'no_stream',
  );
  return subscriptionId;
}

/**
 * Pauses these subscriptions of the provider for low balance in one transaction, as billing
 * does when a balance change leaves it short. Returns the event ids.
 */
export async function pauseTogether(store: PostgresEventStore, pool: pg.Pool, providerId: string, subscriptionIds: readonly string[]): Promise<string[]> {
  const events = subscriptionIds.map((id) => event('SubscriptionStatusChanged', { subscription_id: id, provider_id: providerId, from: 'active', to: 'paused_low_balance', reason: 'balance 100 < price 900', actor: SYSTEM_ACTOR }));
  const client = await pool.connect();
  try {
    await client.query('begin');
    await store.appendManyInTransaction(
      client,
      subscriptionIds.map((id, i) => ({ stream: streams.subscription(id), events: [events[i]!], expected: 'any' as const })),
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return events.map((e) => e.id);
}
