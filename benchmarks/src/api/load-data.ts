/**
 * Bulk-loads the operator API's read models directly (the read side is what the
 * benchmark measures, not the projectors): providers, leads and assignments made by
 * generate_series in batches, then VACUUM ANALYZE so the planner knows the sizes.
 */
import type pg from 'pg';

export interface LoadSizes {
  assignments: number;
  /** Assignments per lead (so leads = assignments / perLead). */
  perLead: number;
  providers: number;
}

const BATCH = 200_000;
// Every lead two minutes after the previous one; its assignments a second apart.
const T0 = '2024-01-01T00:00:00Z';

export async function loadReadModels(pool: pg.Pool, sizes: LoadSizes, progress: (line: string) => void): Promise<void> {
  const leads = Math.ceil(sizes.assignments / sizes.perLead);
  await pool.query(
    `insert into operator.providers (provider_id, name, email, registered_at, updated_at, version)
     select 'p' || g, 'Provider ' || g, 'p' || g || '@example.com', now(), now(), 0 from generate_series(1, $1::int) g`,
    [sizes.providers],
  );
  for (let from = 1; from <= leads; from += BATCH) {
    const to = Math.min(leads, from + BATCH - 1);
    await pool.query(
      `insert into operator.leads (lead_id, niche_id, status, received_at, approved_at, consumer_name, postal_code, state, queue_state,
         request_id, requested_at, requested_by, attempts, last_attempt_at, outcome, start_order_position, assignments_count, completed_at, duration_ms, version)
       select 'lead-' || g, 'niche-' || (g % 5), 'distributed', t, t, 'Consumer ' || g, '94110', 'CA', 'completed',
              'r-' || g, t, 'system', 1, t + interval '3 seconds', 'success', (g % 3) + 1, $3::int, t + interval '3 seconds', 42, 10
         from generate_series($1::int, $2::int) g, lateral (select $4::timestamptz + g * interval '2 minutes' as t) x`,
      [from, to, sizes.perLead, T0],
    );
  }
  for (let from = 1; from <= sizes.assignments; from += BATCH) {
    const to = Math.min(sizes.assignments, from + BATCH - 1);
    await pool.query(
      `insert into operator.assignments (assignment_id, lead_id, niche_id, provider_id, subscription_id, level_id, level_name, order_position, price_cents, status, assigned_at)
       select 'a-' || g, 'lead-' || l, 'niche-' || (l % 5), 'p' || ((g % $4::int) + 1), 's-' || g, 'niche-' || (l % 5) || '-l' || ((g % 3) + 1),
              'Level ' || ((g % 3) + 1), (g % 3) + 1, 1000 * ((g % 3) + 1), 'active',
              $5::timestamptz + l * interval '2 minutes' + (g % $3::int) * interval '1 second'
         from generate_series($1::int, $2::int) g, lateral (select (g - 1) / $3::int + 1 as l) x`,
      [from, to, sizes.perLead, sizes.providers, T0],
    );
    progress(`assignments loaded: ${to.toLocaleString('en-US')}`);
  }
  await pool.query('vacuum analyze operator.providers, operator.leads, operator.assignments');
}
