/**
 * `operator.leads`: one row per lead — approval, the distribution work item's state
 * (queued, in progress, retrying, dead-lettered, completed), attempts, the outcome and
 * its counts. Every update is guarded by the lead stream's version, so replaying an
 * event (or the whole log) changes nothing.
 */
import type pg from 'pg';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';
import { eventData } from '../event-data';

export const QUEUE_STATES = ['none', 'queued', 'in_progress', 'retrying', 'dead_lettered', 'completed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];
export const LEAD_STATUSES = ['approved', 'distributed', 'rejected'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

const SETUP = `
  create table if not exists operator.leads (
    lead_id text primary key,
    niche_id text,
    status text not null,
    received_at timestamptz not null,
    approved_at timestamptz,
    consumer_name text,
    postal_code text,
    state text,
    reject_reasons text[],
    queue_state text not null default 'none',
    request_id text,
    requested_at timestamptz,
    requested_by text,
    attempts integer not null default 0,
    last_attempt_at timestamptz,
    last_error text,
    outcome text,
    start_order_position integer,
    assignments_count integer not null default 0,
    skipped_count integer not null default 0,
    completed_at timestamptz,
    duration_ms double precision,
    -- set by the API when an operator redrives this lead's dead-lettered work item
    redriven_at timestamptz,
    -- version of the lead stream applied: an event at or below it is a replay
    version integer not null
  );
  create index if not exists leads_by_time on operator.leads (received_at desc, lead_id desc);
  create index if not exists leads_by_niche on operator.leads (niche_id, received_at desc, lead_id desc);
  create index if not exists leads_by_status on operator.leads (status, received_at desc, lead_id desc);
`;

/** `set …` for a lead row at a newer version only. */
async function update(client: pg.PoolClient, leadId: string, version: number, assignments: string, values: unknown[]): Promise<void> {
  await client.query(`update operator.leads set ${assignments}, version = $2 where lead_id = $1 and version < $2`, [leadId, version, ...values]);
}

/**
 * A redriven distribution shows as queued again until its next attempt (lead-status.ts).
 * The API applies it at once too (read your own write); both write the same value.
 */
export async function markRedriven(db: Pick<pg.ClientBase, 'query'>, leadId: string, at: Date): Promise<void> {
  await db.query(`update operator.leads set redriven_at = greatest(redriven_at, $2) where lead_id = $1`, [leadId, at]);
}

/** Events that only move counters (and an in-progress mark): a lead's run of them is one update. */
const COUNTING: Readonly<Record<string, 'selected' | 'assigned' | 'skipped'>> = { ProvidersSelected: 'selected', LeadAssigned: 'assigned', ProviderSkipped: 'skipped' };

/**
 * A run of one lead's consecutive counting events in one statement. Each counts only if it
 * is newer than the row (its version above the row's), exactly as apply() would have
 * counted it event by event — also when the row already holds part of the run (a replay).
 */
async function applyCountingRun(client: pg.PoolClient, leadId: string, run: readonly StoredEvent[]): Promise<void> {
  const versions = run.map((e) => e.streamVersion);
  const kinds = run.map((e) => COUNTING[e.type]!);
  await client.query(
    `with e as (select * from unnest($2::int[], $3::text[]) as e(v, kind))
     update operator.leads l set
       assignments_count = l.assignments_count + (select count(*) from e where e.v > l.version and e.kind = 'assigned'),
       skipped_count = l.skipped_count + (select count(*) from e where e.v > l.version and e.kind = 'skipped'),
       queue_state = case when exists (select 1 from e where e.v > l.version and e.kind = 'selected')
                           and l.queue_state in ('queued', 'retrying', 'dead_lettered') then 'in_progress' else l.queue_state end,
       version = $4
     where l.lead_id = $1 and l.version < $4`,
    [leadId, versions, kinds, Math.max(...versions)],
  );
}

export const leadsProjection: ProjectionDefinition = {
  name: 'operator.leads',
  categories: ['lead', 'deadletter'],
  setup: async (client) => void (await client.query(SETUP)),
  // A page: each lead's events in order, its runs of counting events (selections, assignments,
  // skips — most of a lead's events) one statement each; every other event as apply() does it.
  applyBatch: async (events: readonly StoredEvent[], client: pg.PoolClient) => {
    const byLead = new Map<string, StoredEvent[]>();
    // Dead-letter facts only touch redriven_at of a row that exists: applied after the leads'
    // own events, so a lead approved earlier in the same page has its row by then.
    const others: StoredEvent[] = [];
    for (const event of events) {
      if (!event.stream.startsWith('lead-')) {
        others.push(event);
        continue;
      }
      const key = leadIdOf(event);
      const list = byLead.get(key);
      if (list) list.push(event);
      else byLead.set(key, [event]);
    }
    for (const [leadId, list] of byLead) {
      let run: StoredEvent[] = [];
      const flushRun = async () => {
        if (run.length > 0) await applyCountingRun(client, leadId, run);
        run = [];
      };
      for (const event of list) {
        if (COUNTING[event.type]) {
          run.push(event);
          continue;
        }
        await flushRun();
        await leadsProjection.apply(event, client);
      }
      await flushRun();
    }
    for (const event of others) await leadsProjection.apply(event, client);
  },
  apply: async (event: StoredEvent, client: pg.PoolClient) => {
    const v = event.streamVersion;
    switch (event.type) {
      case 'LeadApproved': {
        const { lead } = eventData('LeadApproved', event);
        await client.query(
          `insert into operator.leads (lead_id, niche_id, status, received_at, approved_at, consumer_name, postal_code, state, version)
           values ($1, $2, 'approved', $3, $4, $5, $6, $7, $8)
           on conflict (lead_id) do update set niche_id = excluded.niche_id, status = 'approved', approved_at = excluded.approved_at,
             consumer_name = excluded.consumer_name, postal_code = excluded.postal_code, state = excluded.state, reject_reasons = null, version = excluded.version
           where operator.leads.version < excluded.version`,
          [lead.lead_id, lead.niche_id, event.createdAt, lead.approved_at, lead.consumer.name, lead.location.postal_code, lead.location.state, v],
        );
        return;
      }
      case 'LeadRejected': {
        const d = eventData('LeadRejected', event);
        // Rejections of unreadable payloads live on their own streams and name no lead.
        if (d.lead_id === null || event.stream !== `lead-${d.lead_id}`) return;
        await client.query(
          `insert into operator.leads (lead_id, niche_id, status, received_at, reject_reasons, version)
           values ($1, $2, 'rejected', $3, $4, $5)
           on conflict (lead_id) do nothing`,
          [d.lead_id, d.niche_id, event.createdAt, d.reasons, v],
        );
        return;
      }
      case 'DistributionRequested': {
        const d = eventData('DistributionRequested', event);
        // A request after the outcome is answered by fairness without work: the lead stays completed.
        await update(
          client,
          d.lead_id,
          v,
          `queue_state = case when queue_state = 'completed' then queue_state else 'queued' end, request_id = $3, requested_at = $4, requested_by = $5`,
          [d.request_id, d.requested_at, d.requested_by.actor_id],
        );
        return;
      }
      case 'DistributionStarted': {
        const d = eventData('DistributionStarted', event);
        await update(
          client,
          d.lead_id,
          v,
          `queue_state = 'in_progress', start_order_position = $3, attempts = greatest(attempts, $4), last_attempt_at = $5`,
          [d.start_order_position, d.attempt, d.started_at],
        );
        return;
      }
      case 'ProvidersSelected':
        await update(client, leadIdOf(event), v, `queue_state = case when queue_state in ('queued', 'retrying', 'dead_lettered') then 'in_progress' else queue_state end`, []);
        return;
      case 'LeadAssigned': {
        const d = eventData('LeadAssigned', event);
        await update(client, d.lead_id, v, `assignments_count = assignments_count + 1`, []);
        return;
      }
      case 'ProviderSkipped': {
        const d = eventData('ProviderSkipped', event);
        await update(client, d.lead_id, v, `skipped_count = skipped_count + 1`, []);
        return;
      }
      case 'DistributionCompleted': {
        const d = eventData('DistributionCompleted', event);
        await update(
          client,
          d.lead_id,
          v,
          `status = 'distributed', queue_state = 'completed', outcome = $3, start_order_position = coalesce($4, start_order_position),
           attempts = greatest(attempts, $5), last_attempt_at = $6, completed_at = $6, duration_ms = $7, last_error = null`,
          [d.outcome, d.start_order_position, d.attempt, d.completed_at, d.duration_ms],
        );
        return;
      }
      case 'DistributionFailed': {
        const d = eventData('DistributionFailed', event);
        await update(
          client,
          d.lead_id,
          v,
          `queue_state = case when queue_state = 'completed' then queue_state when $3 then 'dead_lettered' else 'retrying' end,
           attempts = greatest(attempts, $4), last_attempt_at = $5, last_error = $6`,
          [d.final, d.attempt, d.failed_at, d.error],
        );
        return;
      }
      case 'DeadLetterRedriven': {
        const d = eventData('DeadLetterRedriven', event);
        if (d.lead_id && d.event_type === 'DistributionRequested') await markRedriven(client, d.lead_id, new Date(d.at));
        return;
      }
      default:
        return;
    }
  },
};

function leadIdOf(event: StoredEvent): string {
  return event.stream.slice('lead-'.length);
}
