/**
 * The floor to compare the system with: the minimal durable work of one lead done
 * directly in PostgreSQL. One transaction per lead locks the wallets it charges
 * (SELECT … FOR UPDATE, in provider order), inserts one assignment row and one ledger row
 * per assignment and moves the balances, then commits. Leads of one niche run one after
 * the other and niches in parallel, the concurrency the system gets. The providers of
 * each level are taken round-robin (no selection logic: that is the point of a floor).
 */
import pg from 'pg';
import type { LevelSpec, SeededNiche } from './seed';

export interface BaselineResult {
  leads: number;
  assignmentsPerLead: number;
  seconds: number;
  leadsPerSecond: number;
}

const SCHEMA = `
create schema if not exists bench_baseline;
drop table if exists bench_baseline.ledger, bench_baseline.assignments, bench_baseline.wallets;
create table bench_baseline.wallets (provider_id text primary key, balance_cents bigint not null check (balance_cents >= 0));
create table bench_baseline.assignments (
  lead_id text not null, provider_id text not null, level_position int not null, price_cents int not null,
  created_at timestamptz not null default now(), primary key (lead_id, provider_id));
create table bench_baseline.ledger (
  entry_id bigserial primary key, provider_id text not null, lead_id text not null, amount_cents int not null,
  balance_after_cents bigint not null, created_at timestamptz not null default now(), unique (lead_id, provider_id));
`;

const LEAD_SQL = `
with picks as (
  select * from unnest($2::text[], $3::int[], $4::int[]) as p(provider_id, level_position, price_cents)
), moved as (
  update bench_baseline.wallets w set balance_cents = w.balance_cents - p.price_cents
    from picks p where w.provider_id = p.provider_id
  returning w.provider_id, w.balance_cents
), assigned as (
  insert into bench_baseline.assignments (lead_id, provider_id, level_position, price_cents)
  select $1, provider_id, level_position, price_cents from picks
)
insert into bench_baseline.ledger (provider_id, lead_id, amount_cents, balance_after_cents)
select p.provider_id, $1, p.price_cents, m.balance_cents from picks p join moved m using (provider_id)`;

export async function measureBaseline(databaseUrl: string, options: { niches: readonly SeededNiche[]; levels: readonly LevelSpec[]; leads: number; balanceCents: number }): Promise<BaselineResult> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.niches.length });
  try {
    await pool.query(SCHEMA);
    const everyone = options.niches.flatMap((n) => n.providers.flat());
    await pool.query('insert into bench_baseline.wallets (provider_id, balance_cents) select unnest($1::text[]), $2', [everyone, options.balanceCents]);
    await pool.query('analyze bench_baseline.wallets');
    const perNiche = Math.ceil(options.leads / options.niches.length);
    const assignmentsPerLead = options.levels.reduce((sum, l) => sum + l.max_recipients, 0);
    const started = performance.now();
    await Promise.all(
      options.niches.map(async (niche, n) => {
        const client = await pool.connect();
        try {
          const cursor = niche.providers.map(() => 0);
          for (let i = 0; i < perNiche; i++) {
            const ids: string[] = [];
            const positions: number[] = [];
            const prices: number[] = [];
            options.levels.forEach((level, l) => {
              const ring = niche.providers[l]!;
              for (let k = 0; k < level.max_recipients; k++) {
                ids.push(ring[cursor[l]! % ring.length]!);
                cursor[l]!++;
                positions.push(l + 1);
                prices.push(level.price_per_lead_cents);
              }
            });
            const leadId = `baseline-${n}-${i}`;
            await client.query('begin');
            // Row locks in one order (provider id): concurrent leads never deadlock.
            const locked = await client.query('select provider_id, balance_cents from bench_baseline.wallets where provider_id = any($1) order by provider_id for update', [ids]);
            if (locked.rowCount !== ids.length) throw new Error(`baseline: ${locked.rowCount} of ${ids.length} wallets found`);
            await client.query(LEAD_SQL, [leadId, ids, positions, prices]);
            await client.query('commit');
          }
        } catch (error) {
          await client.query('rollback').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      }),
    );
    const seconds = (performance.now() - started) / 1_000;
    const leads = perNiche * options.niches.length;
    const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from bench_baseline.assignments');
    if (rows[0]!.n !== leads * assignmentsPerLead) throw new Error(`baseline wrote ${rows[0]!.n} assignments, expected ${leads * assignmentsPerLead}`);
    return { leads, assignmentsPerLead, seconds, leadsPerSecond: leads / seconds };
  } finally {
    await pool.end();
  }
}
