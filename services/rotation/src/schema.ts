/**
 * The rotation service's own tables (schema `rotation`), created by versioned migrations
 * at start-up. Add a new version to change them; never edit an applied one.
 */
import type pg from 'pg';
import { runMigrations, type Migration, type RunMigrationsResult } from '@fairlead/event-store';

export const SCHEMA = 'rotation';

const migrations: Migration[] = [
  {
    version: 1,
    name: 'claims, level ids',
    sql: `
      -- One row per lead, written in the transaction that appends its StartLevelClaimed:
      -- a repeated claim answers from here, so a lead always gets the same start level.
      create table rotation.claims (
        lead_id text primary key,
        niche_id text not null,
        start_order_position integer not null,
        traversal jsonb not null,
        claimed_at timestamptz not null default now()
      );
      create index claims_niche on rotation.claims (niche_id);

      -- Level ids are global (other services key read models by them): one niche each.
      create table rotation.level_ids (
        level_id text primary key,
        niche_id text not null
      );
    `,
  },
];

export function migrateRotation(pool: pg.Pool): Promise<RunMigrationsResult> {
  return runMigrations(pool, { schema: SCHEMA, table: 'migrations', migrations });
}
