/**
 * `operator.wallets` (balance and totals per provider) and `operator.ledger` (one entry
 * per wallet event: top-ups, charges, declined charges, refunds, with the balance after).
 * The wallet row keeps the wallet stream's version and ledger entries are keyed by event
 * id, so a replay changes nothing; the stream version also orders a wallet's ledger.
 */
import type pg from 'pg';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';
import { eventData } from '../event-data';

export const LEDGER_KINDS = ['top_up', 'charge', 'charge_declined', 'refund'] as const;
export type LedgerKind = (typeof LEDGER_KINDS)[number];

const SETUP = `
  create table if not exists operator.wallets (
    provider_id text primary key,
    balance_cents bigint not null,
    topped_up_cents bigint not null default 0,
    charged_cents bigint not null default 0,
    refunded_cents bigint not null default 0,
    updated_at timestamptz not null,
    version integer not null
  );
  create table if not exists operator.ledger (
    event_id text primary key,
    provider_id text not null,
    version integer not null,
    kind text not null,
    amount_cents bigint not null,
    balance_after_cents bigint not null,
    lead_id text,
    note text,
    actor_id text,
    occurred_at timestamptz not null
  );
  create unique index if not exists ledger_by_wallet on operator.ledger (provider_id, version desc);
`;

interface Entry {
  providerId: string;
  kind: LedgerKind;
  /** Signed: what the entry did to the balance. */
  amount: number;
  balanceAfter: number;
  leadId?: string;
  note?: string;
  actorId?: string;
  /** Which running total moves. */
  total?: 'topped_up_cents' | 'charged_cents' | 'refunded_cents';
}

function entryOf(event: StoredEvent): Entry | undefined {
  switch (event.type) {
    case 'WalletToppedUp': {
      const d = eventData('WalletToppedUp', event);
      return { providerId: d.provider_id, kind: 'top_up', amount: d.amount_cents, balanceAfter: d.balance_after_cents, note: d.reference, actorId: d.actor.actor_id, total: 'topped_up_cents' };
    }
    case 'WalletCharged': {
      const d = eventData('WalletCharged', event);
      return { providerId: d.provider_id, kind: 'charge', amount: -d.amount_cents, balanceAfter: d.balance_after_cents, leadId: d.lead_id, total: 'charged_cents' };
    }
    case 'WalletChargeDeclined': {
      const d = eventData('WalletChargeDeclined', event);
      return { providerId: d.provider_id, kind: 'charge_declined', amount: 0, balanceAfter: d.balance_cents, leadId: d.lead_id, note: `${d.reason}: ${d.amount_cents} cents asked` };
    }
    case 'WalletRefunded': {
      const d = eventData('WalletRefunded', event);
      return { providerId: d.provider_id, kind: 'refund', amount: d.amount_cents, balanceAfter: d.balance_after_cents, leadId: d.lead_id, note: d.reason, actorId: d.actor.actor_id, total: 'refunded_cents' };
    }
    default:
      return undefined;
  }
}

export const walletsProjection: ProjectionDefinition = {
  name: 'operator.wallets',
  categories: ['wallet'],
  setup: async (client) => void (await client.query(SETUP)),
  apply: async (event: StoredEvent, client: pg.PoolClient) => {
    const e = entryOf(event);
    if (!e) return;
    const v = event.streamVersion;
    const moved = Math.abs(e.amount);
    // Column names come from the fixed `total` union above, never from event data.
    await client.query(
      `insert into operator.wallets (provider_id, balance_cents, topped_up_cents, charged_cents, refunded_cents, updated_at, version)
       values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (provider_id) do update set balance_cents = excluded.balance_cents,
         topped_up_cents = operator.wallets.topped_up_cents + excluded.topped_up_cents,
         charged_cents = operator.wallets.charged_cents + excluded.charged_cents,
         refunded_cents = operator.wallets.refunded_cents + excluded.refunded_cents,
         updated_at = excluded.updated_at, version = excluded.version
       where operator.wallets.version < excluded.version`,
      [
        e.providerId,
        e.balanceAfter,
        e.total === 'topped_up_cents' ? moved : 0,
        e.total === 'charged_cents' ? moved : 0,
        e.total === 'refunded_cents' ? moved : 0,
        event.createdAt,
        v,
      ],
    );
    await client.query(
      `insert into operator.ledger (event_id, provider_id, version, kind, amount_cents, balance_after_cents, lead_id, note, actor_id, occurred_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict (event_id) do nothing`,
      [event.id, e.providerId, v, e.kind, e.amount, e.balanceAfter, e.leadId ?? null, e.note ?? null, e.actorId ?? null, event.createdAt],
    );
  },
  // Rebuilds: the batch's ledger entries in one insert; only the entries that were new
  // (an event not applied before) move each wallet, once, to its newest entry, under the
  // same version guard as apply().
  applyBatch: async (events: readonly StoredEvent[], client: pg.PoolClient) => {
    const entries = events.flatMap((event) => {
      const e = entryOf(event);
      return e ? [{ event, e }] : [];
    });
    if (entries.length === 0) return;
    const col = <T>(f: (x: (typeof entries)[number]) => T) => entries.map(f);
    const moved = (x: (typeof entries)[number], total: Entry['total']) => (x.e.total === total ? Math.abs(x.e.amount) : 0);
    await client.query(
      `with input as (
         select * from unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::text[],
                              $10::timestamptz[], $11::bigint[], $12::bigint[], $13::bigint[])
           as t(event_id, provider_id, version, kind, amount_cents, balance_after_cents, lead_id, note, actor_id, occurred_at, topped_up, charged, refunded)
       ), fresh as (
         insert into operator.ledger (event_id, provider_id, version, kind, amount_cents, balance_after_cents, lead_id, note, actor_id, occurred_at)
         select event_id, provider_id, version, kind, amount_cents, balance_after_cents, lead_id, note, actor_id, occurred_at from input
         on conflict (event_id) do nothing
         returning event_id
       ), per_wallet as (
         select distinct on (i.provider_id) i.provider_id, i.balance_after_cents, i.occurred_at, i.version,
                sum(i.topped_up) over w as topped_up, sum(i.charged) over w as charged, sum(i.refunded) over w as refunded
           from input i join fresh f using (event_id)
         window w as (partition by i.provider_id)
         order by i.provider_id, i.version desc
       )
       insert into operator.wallets (provider_id, balance_cents, topped_up_cents, charged_cents, refunded_cents, updated_at, version)
       select provider_id, balance_after_cents, topped_up, charged, refunded, occurred_at, version from per_wallet
       on conflict (provider_id) do update set balance_cents = excluded.balance_cents,
         topped_up_cents = operator.wallets.topped_up_cents + excluded.topped_up_cents,
         charged_cents = operator.wallets.charged_cents + excluded.charged_cents,
         refunded_cents = operator.wallets.refunded_cents + excluded.refunded_cents,
         updated_at = excluded.updated_at, version = excluded.version
       where operator.wallets.version < excluded.version`,
      [
        col((x) => x.event.id),
        col((x) => x.e.providerId),
        col((x) => x.event.streamVersion),
        col((x) => x.e.kind),
        col((x) => x.e.amount),
        col((x) => x.e.balanceAfter),
        col((x) => x.e.leadId ?? null),
        col((x) => x.e.note ?? null),
        col((x) => x.e.actorId ?? null),
        col((x) => x.event.createdAt),
        col((x) => moved(x, 'topped_up_cents')),
        col((x) => moved(x, 'charged_cents')),
        col((x) => moved(x, 'refunded_cents')),
      ],
    );
  },
};
