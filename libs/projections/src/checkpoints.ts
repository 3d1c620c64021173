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

  /**
   * The schema's turn function (a projector group's transactions take turns, see projector.ts):
   * made once, by the schema's owner, when missing. A function, not a statement pair, so the
   * lock and the read of the rows cost one round trip: the read must see what the lock's
   * previous holder committed, and one plain statement would read with the snapshot it took
   * before it waited. A VOLATILE PL/pgSQL function takes a fresh snapshot for each statement
   * it runs (PostgreSQL manual, "Function Volatility Categories").
   */
  async ensureTurn(db: Queryable): Promise<void> {
    const { rowCount } = await db.query(
      `select 1 from pg_proc p where p.pronamespace = $1::regnamespace and p.proname = 'projector_turn'`,
      [this.schema],
    );
    if (rowCount !== 0) return;
    await db.query(`create function ${this.schema}.projector_turn(p_lock text, p_names text[])
      returns table (name text, transaction_id text, global_position text)
      language plpgsql volatile
      set search_path = pg_catalog, pg_temp
    as $fn$
    begin
      perform pg_advisory_xact_lock(hashtextextended(p_lock, 0));
      return query select c.name, c.transaction_id::text, c.global_position::text from ${this.table} c where c.name = any (p_names);
    end
    $fn$`);
    // Its owner (the service's role) runs it; nobody else needs to.
    await db.query(`revoke all on function ${this.schema}.projector_turn(text, text[]) from public`);
  }

  /**
   * Waits for the group's turn (a transaction-scoped advisory lock on `lock`) and then reads
   * these projections' stored checkpoints (START for one without a row), in one call.
   */
  async takeTurn(db: Queryable, lock: string, names: readonly string[]): Promise<Map<string, Checkpoint>> {
    const { rows } = await db.query<{ name: string; transaction_id: string; global_position: string }>({
      name: `${this.schema}.projector_turn`,
      text: `select name, transaction_id, global_position from ${this.schema}.projector_turn($1, $2::text[])`,
      values: [lock, names],
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
