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
  {
    version: 4,
    name: 'write_charge_batch: a charge batch written in one statement, or not at all',
    sql: `
      -- WalletLedger.chargeBatch (application/wallet-ledger.ts) decides a batch on wallets and
      -- charge records read without a lock, then appends its events and calls this in ONE
      -- autocommit statement (the store's appendManyWith), after append_batch. It raises
      -- BL001 — undoing the whole statement, events included — unless every append wrote
      -- ('ok': no conflict, no re-append) and every wallet the batch was decided on is still
      -- at the version read, checked under the row's lock; then it moves the wallets written
      -- and records the decisions (as recordCharges does: a decline replaced, a charge never).
      -- A refused batch is decided again the transactional way (lock the rows, decide, write).
      -- The rows are locked SKIP LOCKED: this statement holds the wallet streams' rows by then,
      -- and a transaction holding a wallet row may be waiting for one of them; a row locked
      -- by someone else is missing from the count, so the batch is refused instead of waiting.
      -- A charge record changes only with an event of its wallet, so a wallet at the version
      -- read still has the records read.
      create function billing.write_charge_batch(
        p_outcomes text[],
        p_providers text[], p_versions integer[],
        p_moved text[], p_balances bigint[], p_moved_versions integer[],
        p_lead_ids text[], p_charge_providers text[], p_subscription_ids text[], p_level_ids text[],
        p_charged boolean[], p_amounts bigint[], p_charge_balances bigint[])
      returns boolean
      language plpgsql volatile
      set search_path = pg_catalog, pg_temp
      as $fn$
      declare
        v_count integer;
      begin
        if exists (select 1 from unnest(p_outcomes) o where o is distinct from 'ok') then
          raise exception 'charge batch not written in one statement (append outcomes %)', p_outcomes using errcode = 'BL001';
        end if;
        select count(*) into v_count from (
          select 1 from billing.wallets w
            join unnest(p_providers, p_versions) as e(provider_id, version) on w.provider_id = e.provider_id and w.version = e.version
           order by w.provider_id
             for update of w skip locked) locked;
        if v_count <> cardinality(p_providers) then
          raise exception 'charge batch not written in one statement (% of % wallets at the version read)', v_count, cardinality(p_providers) using errcode = 'BL001';
        end if;
        update billing.wallets w set balance_cents = m.balance_cents, version = m.version, updated_at = now()
          from unnest(p_moved, p_balances, p_moved_versions) as m(provider_id, balance_cents, version)
         where w.provider_id = m.provider_id;
        insert into billing.charges (lead_id, provider_id, subscription_id, level_id, charged, amount_cents, balance_cents)
        select c.lead_id, c.provider_id, c.subscription_id, c.level_id, c.charged, c.amount_cents, c.balance_cents
          from unnest(p_lead_ids, p_charge_providers, p_subscription_ids, p_level_ids, p_charged, p_amounts, p_charge_balances)
            as c(lead_id, provider_id, subscription_id, level_id, charged, amount_cents, balance_cents)
        on conflict (lead_id, provider_id) do update set
           subscription_id = excluded.subscription_id, level_id = excluded.level_id, charged = excluded.charged,
           amount_cents = excluded.amount_cents, balance_cents = excluded.balance_cents, decided_at = now()
         where not billing.charges.charged;
        get diagnostics v_count = row_count;
        if v_count <> cardinality(p_lead_ids) then
          raise exception 'charge batch not written in one statement (% of % charge records written)', v_count, cardinality(p_lead_ids) using errcode = 'BL001';
        end if;
        return true;
      end
      $fn$;
    `,
  },
];

export function migrateBilling(pool: pg.Pool): Promise<RunMigrationsResult> {
  return runMigrations(pool, { schema: SCHEMA, table: 'migrations', migrations });
}
