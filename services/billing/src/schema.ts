/**
 * The billing service's own tables (schema `billing`), created by versioned migrations
 * at start-up. Add a new version to change them; never edit an applied one.
 */
import type pg from 'pg';
import { runMigrations, type Migration, type RunMigrationsResult } from '@fairlead/event-store';

export const SCHEMA = 'billing';

const migrations: Migration[] = [
  {
    version: 1,
    name: 'wallets, charges, subscriptions, levels',
    sql: `
      -- One row per registered provider (its open wallet), written in the transaction of
      -- every wallet append: the balance and the wallet stream's version. Charges lock it
      -- (select … for update), which serializes a wallet's decisions across instances.
      create table billing.wallets (
        provider_id text primary key,
        balance_cents bigint not null check (balance_cents >= 0),
        version integer not null,
        updated_at timestamptz not null default now()
      );

      -- One decision per (lead, provider), written with its WalletCharged/Declined event:
      -- a repeated charge answers from here.
      create table billing.charges (
        lead_id text not null,
        provider_id text not null,
        subscription_id text not null,
        level_id text not null,
        charged boolean not null,
        amount_cents integer not null,
        -- after the charge when charged; the balance that was short when declined
        balance_cents bigint not null,
        decided_at timestamptz not null default now(),
        refunded_at timestamptz,
        primary key (lead_id, provider_id)
      );

      -- Projection of the subscription streams (billing moves their low-balance status).
      create table billing.subscriptions (
        subscription_id text primary key,
        provider_id text not null,
        level_id text not null,
        status text not null,
        -- version of the subscription stream applied (stream versions order its events)
        version integer not null
      );
      create index subscriptions_provider on billing.subscriptions (provider_id);

      -- Projection of the niche streams: level prices for the low-balance rule.
      create table billing.levels (
        level_id text primary key,
        niche_id text not null,
        price_per_lead_cents integer not null,
        active boolean not null,
        -- version of the niche stream applied
        version integer not null
      );
    `,
  },
  {
    version: 2,
    name: 'top_ups: idempotency keys of top-ups',
    sql: `
      -- A top-up sent with an idempotency key is recorded here in the transaction of its
      -- event, so a retry of the same request (lost reply, double click) tops up once.
      create table billing.top_ups (
        provider_id text not null,
        idempotency_key text not null,
        amount_cents bigint not null,
        reference text not null,
        event_id text not null,
        created_at timestamptz not null default now(),
        primary key (provider_id, idempotency_key)
      );
    `,
  },
  {
    version: 3,
    name: 'money in bigint: charges.amount_cents, levels.price_per_lead_cents',
    sql: `
      -- Every amount of money is a bigint (docs/limits.md): what the contracts accept, the
      -- columns hold. An integer price column stopped this projection for good at 2^31 cents.
      alter table billing.charges alter column amount_cents type bigint;
      alter table billing.levels alter column price_per_lead_cents type bigint;
    `,
  },
];

export function migrateBilling(pool: pg.Pool): Promise<RunMigrationsResult> {
  return runMigrations(pool, { schema: SCHEMA, table: 'migrations', migrations });
}
