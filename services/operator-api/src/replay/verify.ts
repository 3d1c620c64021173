/**
 * verify: rebuild into a scratch schema and compare with the live read models. The
 * comparison runs while the live checkpoints are locked against writes, and only once
 * every live projection has applied everything in the store, so both sides stand at the
 * same point of the log.
 */
import type pg from 'pg';
import type { EventStore } from '@fairlead/event-store';
import { CheckpointTable, compareCheckpoints } from '@fairlead/projections';
import { carryOver } from './carry-over';
import { compareTables, type TableDifference } from './compare';
import type { WithApplyBatch } from './in-schema';
import { applyRange, rebuild, schemaCheckpoint, type Progress } from './rebuild';
import { tablesIn } from './tables';

export interface VerifyOptions {
  store: EventStore;
  pool: pg.Pool;
  live: string;
  scratch: string;
  projections: readonly WithApplyBatch[];
  /** How long to wait for the live projections to catch up with the store. */
  catchUpTimeoutMs?: number;
  onProgress?: (p: Progress) => void;
}

export interface VerifyResult {
  differences: TableDifference[];
  /** Live projections still behind the store when the wait ran out. */
  behind: string[];
  tables: string[];
}

export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const { store, pool, live, scratch, projections } = options;
  await pool.query(`drop schema if exists ${scratch} cascade`);
  try {
    await rebuild({ store, pool, schema: scratch, projections, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
    const deadline = Date.now() + (options.catchUpTimeoutMs ?? 10_000);
    const liveCheckpoints = new CheckpointTable(live);
    for (;;) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query(`lock table ${live}.projection_checkpoints in share mode`);
        const behind: string[] = [];
        for (const p of projections) {
          const head = await store.headCheckpoint(p.categories ? { categories: p.categories } : undefined);
          if (head && compareCheckpoints(await liveCheckpoints.read(client, p.name), head) < 0) behind.push(p.name);
        }
        if (behind.length > 0 && Date.now() < deadline) {
          await client.query('rollback');
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        const from = await schemaCheckpoint(client, scratch, projections);
        await applyRange({ store, schema: scratch, projections, from, client });
        await carryOver(client, live, scratch, projections.map((p) => p.name));
        const tables = await tablesIn(client, scratch);
        const liveTables = new Set(await tablesIn(client, live));
        const missing = tables.filter((t) => !liveTables.has(t));
        const differences = await compareTables(client, live, scratch, tables.filter((t) => liveTables.has(t)));
        for (const t of missing) differences.push({ table: t, onlyLive: [], onlyRebuilt: [], onlyLiveCount: -1, onlyRebuiltCount: -1 });
        await client.query('rollback');
        return { differences, behind, tables };
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    }
  } finally {
    await pool.query(`drop schema if exists ${scratch} cascade`);
  }
}
