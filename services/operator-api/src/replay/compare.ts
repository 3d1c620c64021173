/**
 * Comparing two schemas' read models table by table, rows as multisets (EXCEPT ALL both
 * ways), leaving out columns whose values depend on when rows were written, not on the
 * events: `seq` numbers of the audit trail, the checkpoints' own updated_at.
 */
import type pg from 'pg';

const VOLATILE = new Set(['seq']);

export interface TableDifference {
  table: string;
  /** Rows only in the live table (up to `sample`), as JSON. */
  onlyLive: unknown[];
  /** Rows only in the rebuilt table. */
  onlyRebuilt: unknown[];
  onlyLiveCount: number;
  onlyRebuiltCount: number;
}

export async function compareTables(
  db: Pick<pg.ClientBase, 'query'>,
  live: string,
  rebuilt: string,
  tables: readonly string[],
  sample = 10,
): Promise<TableDifference[]> {
  const differences: TableDifference[] = [];
  for (const table of tables) {
    const { rows: cols } = await db.query<{ column_name: string }>(
      `select column_name from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`,
      [rebuilt, table],
    );
    // Names come from the catalogue, quoted.
    const list = cols.map((c) => c.column_name).filter((c) => !VOLATILE.has(c)).map((c) => `"${c.replaceAll('"', '""')}"`).join(', ');
    const side = async (a: string, b: string) => {
      const diff = `select ${list} from ${a}.${table} except all select ${list} from ${b}.${table}`;
      const { rows: count } = await db.query<{ n: string }>(`select count(*)::text as n from (${diff}) d`);
      const { rows } = await db.query<{ row: unknown }>(`select to_jsonb(d) as row from (${diff}) d limit $1`, [sample]);
      return { count: Number(count[0]?.n ?? 0), rows: rows.map((r) => r.row) };
    };
    const onlyLive = await side(live, rebuilt);
    const onlyRebuilt = await side(rebuilt, live);
    if (onlyLive.count > 0 || onlyRebuilt.count > 0) {
      differences.push({ table, onlyLive: onlyLive.rows, onlyRebuilt: onlyRebuilt.rows, onlyLiveCount: onlyLive.count, onlyRebuiltCount: onlyRebuilt.count });
    }
  }
  return differences;
}
