/** The tables a projection owns, found by setting it up in an empty scratch schema. */
import type pg from 'pg';
import type { WithApplyBatch } from './in-schema';
import { inSchema } from './in-schema';

export async function tablesIn(db: Pick<pg.ClientBase, 'query'>, schema: string): Promise<string[]> {
  const { rows } = await db.query<{ table_name: string }>(
    `select table_name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE' and table_name <> 'projection_checkpoints' order by table_name`,
    [schema],
  );
  return rows.map((r) => r.table_name);
}

/** Each projection's tables (name → tables), by setting each up alone in a throwaway schema. */
export async function tablesByProjection(pool: pg.Pool, projections: readonly WithApplyBatch[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  const client = await pool.connect();
  const scratch = `replay_scratch_${process.pid}_${Date.now() % 1_000_000}`;
  try {
    await client.query('begin');
    for (const p of projections) {
      await client.query(`create schema ${scratch}`);
      await inSchema(p, scratch).setup(client);
      result.set(p.name, await tablesIn(client, scratch));
      await client.query(`drop schema ${scratch} cascade`);
    }
  } finally {
    // Rolled back: the scratch schemas never become visible.
    await client.query('rollback').catch(() => undefined);
    client.release();
  }
  return result;
}
