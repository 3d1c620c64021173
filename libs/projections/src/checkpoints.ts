import type pg from 'pg';
import { START, type Checkpoint } from '@fairlead/event-store';

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checkpoint storage of projectors, one row per projector, in a given schema. */
export class CheckpointTable {
  readonly table: string;

  constructor(readonly schema: string) {
    // Identifiers cannot be bound parameters; the schema name is checked against a strict pattern.
    if (!IDENT.test(schema)) throw new Error(`invalid schema name: ${schema}`);
    this.table = `${schema}.projection_checkpoints`;
  }

  async ensure(db: Queryable): Promise<void> {
    // Only when missing: `create schema if not exists` needs the right to create schemas even
    // when it exists, and a service's role only owns the schema the bootstrap made for it.
    const { rowCount } = await db.query('select 1 from pg_namespace where nspname = $1', [this.schema]);
    if (rowCount === 0) await db.query(`create schema if not exists ${this.schema}`);
    await db.query(`create table if not exists ${this.table} (
      name text primary key,
      transaction_id numeric(20) not null,
      global_position bigint not null,
      updated_at timestamptz not null default now()
    )`);
  }

  async read(db: Queryable, name: string): Promise<Checkpoint> {
    const { rows } = await db.query<{ transaction_id: string; global_position: string }>(
      `select transaction_id::text, global_position::text from ${this.table} where name = $1`,
      [name],
    );
    const row = rows[0];
    return row ? { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) } : START;
  }

  /**
   * Moves the row forward to `checkpoint`; never back: a second process of the same service
   * (a replica) may have stored a later position, which must stand.
   */
  async write(db: Queryable, name: string, checkpoint: Checkpoint): Promise<void> {
    await writeCheckpoints(this, db, [name], checkpoint);
  }

  /** The stored checkpoints of these projections (START for one without a row). */
  async readMany(db: Queryable, names: readonly string[]): Promise<Map<string, Checkpoint>> {
    const { rows } = await db.query<{ name: string; transaction_id: string; global_position: string }>({
      name: `${this.schema}.checkpoints_read`,
      text: `select name, transaction_id::text, global_position::text from ${this.table} where name = any($1::text[])`,
      values: [names],
    });
    const found = new Map(rows.map((r) => [r.name, { transactionId: BigInt(r.transaction_id), globalPosition: BigInt(r.global_position) }]));
    return new Map(names.map((n) => [n, found.get(n) ?? START]));
  }
}

/** Several projectors' rows moved forward to one position, in one statement (a projector group's page); never back. */
export async function writeCheckpoints(table: CheckpointTable, db: Queryable, names: readonly string[], checkpoint: Checkpoint): Promise<void> {
  if (names.length === 0) return;
  await db.query({
    name: `${table.schema}.checkpoints_write`,
    text: `insert into ${table.table} as c (name, transaction_id, global_position, updated_at)
     select n, $2, $3, now() from unnest($1::text[]) as n
     on conflict (name) do update set transaction_id = excluded.transaction_id,
       global_position = excluded.global_position, updated_at = now()
     where (c.transaction_id, c.global_position) < (excluded.transaction_id, excluded.global_position)`,
    values: [names, checkpoint.transactionId.toString(), checkpoint.globalPosition.toString()],
  });
}

export function compareCheckpoints(a: Checkpoint, b: Checkpoint): number {
  if (a.transactionId !== b.transactionId) return a.transactionId < b.transactionId ? -1 : 1;
  if (a.globalPosition !== b.globalPosition) return a.globalPosition < b.globalPosition ? -1 : 1;
  return 0;
}
