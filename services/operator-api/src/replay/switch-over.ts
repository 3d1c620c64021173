/**
 * Switching the live read models to a rebuilt shadow, atomically: in one transaction the
 * live tables are locked (readers wait, briefly), the shadow catches up with whatever was
 * appended meanwhile, the live tables move to a retired schema and the shadow's take
 * their place, checkpoints included. Readers blocked on the lock resolve the names again
 * and read the new tables; nobody sees an empty or half-built table.
 *
 * A projector of the running API is not stopped: its next transaction writes to the new
 * tables. It may re-apply events the shadow already has (it resumes from its own
 * position, never beyond the switch-over's head because its checkpoint write waits for
 * our lock); projections are idempotent, so that changes nothing.
 */
import type pg from 'pg';
import type { Checkpoint, EventStore } from '@fairlead/event-store';
import { carryOver } from './carry-over';
import type { WithApplyBatch } from './in-schema';
import { liveSchemaProblem } from './live-schema';
import { applyRange, schemaCheckpoint } from './rebuild';
import { tablesIn } from './tables';

export interface SwitchOverOptions {
  store: EventStore;
  pool: pg.Pool;
  live: string;
  shadow: string;
  projections: readonly WithApplyBatch[];
  /** The tables of each projection (tablesByProjection). */
  tables: ReadonlyMap<string, readonly string[]>;
  /** How long to wait for the live tables' locks before retrying. */
  lockTimeoutMs?: number;
}

export interface SwitchOverResult {
  checkpoint: Checkpoint;
  /** Events applied during the switch-over (appended while the rebuild ran). */
  caughtUp: number;
  tables: string[];
}

const RETRYABLE = new Set(['40P01', '55P03']); // deadlock detected, lock not available

/**
 * The owner of the live schema when the rebuilt tables must be handed to it: the operator
 * CLI logs in as a role of its own that acts as the operator API's (docs/security.md#database).
 * Undefined when we are the owner (or it is not a plain identifier: nothing to hand over then).
 */
async function handOverTo(client: pg.PoolClient, live: string): Promise<string | undefined> {
  const { rows } = await client.query<{ owner: string; me: string }>('select pg_get_userbyid(nspowner) as owner, current_user as me from pg_namespace where nspname = $1', [live]);
  const row = rows[0];
  if (!row || row.owner === row.me || !/^[a-z_][a-z0-9_]{0,62}$/.test(row.owner)) return undefined;
  return row.owner;
}

export async function switchOver(options: SwitchOverOptions): Promise<SwitchOverResult> {
  const { pool, live, shadow, projections } = options;
  // The live schema is the API's to set up (live-schema.ts): a switch-over only replaces its tables.
  const problem = await liveSchemaProblem(pool, live);
  if (problem) throw new Error(problem);
  const moved = projections.flatMap((p) => options.tables.get(p.name) ?? []);
  const retired = `${live}_old_${Date.now()}`;
  let result: SwitchOverResult | undefined;
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(`set local lock_timeout = ${Math.trunc(options.lockTimeoutMs ?? 10_000)}`);
      const existing = new Set(await tablesIn(client, live));
      // The order a projector's transaction takes them (its tables, then the checkpoint), so we cannot deadlock with one.
      for (const t of moved) if (existing.has(t)) await client.query(`lock table ${live}.${t} in access exclusive mode`);
      await client.query(`lock table ${live}.projection_checkpoints in exclusive mode`);
      const from = await schemaCheckpoint(client, shadow, projections);
      const rest = await applyRange({ store: options.store, schema: shadow, projections, from, client });
      await carryOver(client, live, shadow, projections.map((p) => p.name));
      await client.query(`create schema ${retired}`);
      const owner = await handOverTo(client, live);
      for (const t of moved) {
        if (existing.has(t)) await client.query(`alter table ${live}.${t} set schema ${retired}`);
        await client.query(`alter table ${shadow}.${t} set schema ${live}`);
        // Built by the CLI's role: the service that keeps them up to date must own them.
        if (owner) await client.query(`alter table ${live}.${t} owner to ${owner}`);
      }
      await client.query(
        `insert into ${live}.projection_checkpoints (name, transaction_id, global_position, updated_at)
         select name, transaction_id, global_position, now() from ${shadow}.projection_checkpoints where name = any($1::text[])
         on conflict (name) do update set transaction_id = excluded.transaction_id, global_position = excluded.global_position, updated_at = now()`,
        [projections.map((p) => p.name)],
      );
      await client.query('commit');
      result = { checkpoint: rest.checkpoint, caughtUp: rest.events, tables: moved };
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      const code = (error as { code?: string }).code;
      if (attempt >= 5 || code === undefined || !RETRYABLE.has(code)) throw error;
    } finally {
      client.release();
    }
    if (result) break;
  }
  // Outside the switch-over: dropping waits for anyone still holding the retired tables.
  await pool.query(`drop schema if exists ${retired} cascade`);
  await pool.query(`drop schema if exists ${shadow} cascade`);
  return result;
}
