/**
 * Applies the low-balance rule inside a wallet's transaction (the wallet row is locked,
 * so the balance it sees is the one that stands, and two changes of one wallet never
 * race each other's pauses). Candidates come from `billing.subscriptions`; each move is
 * appended to the subscription's stream with the version billing knows, and written to
 * the table at once so the next charge sees it. A conflict (an operator changed the
 * subscription, or the projection is behind) re-reads that stream and decides again.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { parseDistributionEvent, streams, SYSTEM_ACTOR, type SubscriptionStatus } from '@fairlead/contracts';
import { isConcurrencyError, type PostgresEventStore, type StoredEvent } from '@fairlead/event-store';
import { evolveSubscriptionStatus, lowBalanceChanges, type StatusChange, type SubscriptionStatusEvent, type SubscriptionStatusState } from '../domain/low-balance';
import { pricedSubscriptionsOf, recordStatus, type ProviderSubscriptionRow } from '../projections/subscriptions/subscriptions.projection';

const MAX_CONFLICTS = 5;

/** The status changes the low-balance rule asks for at this balance, over the provider's priced subscriptions as read. */
export const lowBalanceChangesOf = (balanceCents: number, rows: readonly ProviderSubscriptionRow[]): StatusChange[] =>
  lowBalanceChanges(
    balanceCents,
    rows.map((r) => ({ subscription_id: r.subscription_id, status: r.status as SubscriptionStatus, price_cents: Number(r.price_cents) })),
  );

/** `priced`: the provider's priced subscriptions when already read in this transaction (else they are read here). */
export async function applyLowBalanceRule(
  tx: pg.ClientBase,
  store: PostgresEventStore,
  providerId: string,
  balanceCents: number,
  priced?: readonly ProviderSubscriptionRow[],
): Promise<StatusChange[]> {
  const rows = priced ?? (await pricedSubscriptionsOf(tx, providerId));
  const versions = new Map(rows.map((r) => [r.subscription_id, r.version]));
  const changes = lowBalanceChangesOf(balanceCents, rows);
  const made: StatusChange[] = [];
  for (const change of changes) {
    if (await moveSubscription(tx, store, providerId, change, versions.get(change.subscription_id)!)) made.push(change);
  }
  return made;
}

/** Appends the status change unless the stream shows it no longer applies; true when appended. */
async function moveSubscription(tx: pg.ClientBase, store: PostgresEventStore, providerId: string, change: StatusChange, knownVersion: number): Promise<boolean> {
  const stream = streams.subscription(change.subscription_id);
  let from: SubscriptionStatus = change.from;
  let version = knownVersion;
  for (let conflicts = 0; ; conflicts++) {
    const data = { subscription_id: change.subscription_id, provider_id: providerId, from, to: change.to, reason: change.reason, actor: SYSTEM_ACTOR };
    try {
      await store.appendInTransaction(tx, stream, [{ id: randomUUID(), type: 'SubscriptionStatusChanged', data, metadata: { actor: SYSTEM_ACTOR } }], version);
      await recordStatus(tx, change.subscription_id, change.to, version + 1);
      return true;
    } catch (error) {
      if (!isConcurrencyError(error) || conflicts >= MAX_CONFLICTS) throw error;
    }
    const state = foldStatus(await store.readStream(stream));
    // Gone, someone else's subscription, already moved, or in an operator's state: leave it.
    if (!state || state.provider_id !== providerId || state.status === change.to || (state.status !== 'active' && state.status !== 'paused_low_balance')) {
      if (state) await recordStatus(tx, change.subscription_id, state.status, state.version);
      return false;
    }
    from = state.status;
    version = state.version;
  }
}

function foldStatus(events: readonly StoredEvent[]): SubscriptionStatusState | null {
  let state: SubscriptionStatusState | null = null;
  for (const e of events) {
    const event: SubscriptionStatusEvent =
      e.type === 'SubscriptionCreated' || e.type === 'SubscriptionStatusChanged'
        ? ({ type: e.type, data: parseDistributionEvent(e.type, e.data) } as SubscriptionStatusEvent)
        : { type: 'other' };
    state = evolveSubscriptionStatus(state, event, e.streamVersion);
  }
  return state;
}
