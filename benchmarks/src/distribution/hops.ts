/**
 * Where a lead's latency goes: the time between the steps of its own stream (each event's
 * `created_at`, the storing transaction's start), from the publish to the relayed outcome's
 * arrival at the benchmark. Each hop is one service's turn plus the relay and NATS before it.
 */
import type pg from 'pg';
import { percentile, type LeadRecord } from './load';

/**
 * The steps in the order the system takes them (first of each type): the lead's stream, with
 * rotation's claim (niche stream) and billing's first charge (wallet stream) found by lead_id.
 */
const STEPS = ['LeadApproved', 'DistributionRequested', 'StartLevelClaimed', 'DistributionStarted', 'ProvidersSelected', 'WalletCharged', 'LeadAssigned', 'DistributionCompleted'] as const;
const BY_LEAD_ID = ['StartLevelClaimed', 'WalletCharged'];

export interface Hop {
  hop: string;
  p50: number;
  p99: number;
}

export async function hopLatencies(pool: pg.Pool, leads: readonly LeadRecord[]): Promise<Hop[]> {
  const done = leads.filter((l) => l.arrivedAt !== undefined);
  if (done.length === 0) return [];
  const { rows } = await pool.query<{ lead_id: string; type: string; at: number }>(
    `select substr(stream_name, 6) as lead_id, type, (extract(epoch from min(created_at)) * 1000)::float8 as at
       from eventstore.events where stream_name = any($1::text[]) and type = any($2::text[]) group by 1, 2
     union all
     select data->>'lead_id', type, (extract(epoch from min(created_at)) * 1000)::float8
       from eventstore.events where type = any($3::text[]) and data->>'lead_id' = any($4::text[]) group by 1, 2`,
    [done.map((l) => `lead-${l.leadId}`), STEPS.filter((s) => !BY_LEAD_ID.includes(s)), BY_LEAD_ID, done.map((l) => l.leadId)],
  );
  const at = new Map(rows.map((r) => [`lead-${r.lead_id}/${r.type}`, r.at]));
  const names = ['publish', ...STEPS, 'outcome relayed to a subscriber'];
  const gaps: number[][] = names.slice(1).map(() => []);
  for (const lead of done) {
    const times = [lead.publishedAt, ...STEPS.map((s) => at.get(`lead-${lead.leadId}/${s}`)), lead.arrivedAt];
    for (let i = 1; i < times.length; i++) {
      const [a, b] = [times[i - 1], times[i]];
      if (a !== undefined && b !== undefined) gaps[i - 1]!.push(b - a);
    }
  }
  return gaps.map((g, i) => {
    const sorted = [...g].sort((x, y) => x - y);
    return { hop: `${names[i]} → ${names[i + 1]}`, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  });
}
