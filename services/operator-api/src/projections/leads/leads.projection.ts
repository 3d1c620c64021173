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

/** Where each event of a lead's usual course stands in it; counting events may repeat. */
const STEP: Readonly<Record<string, number>> = { LeadApproved: 0, DistributionRequested: 1, DistributionStarted: 2, ProvidersSelected: 3, LeadAssigned: 3, ProviderSkipped: 3, DistributionCompleted: 4 };

/**
 * The leads of a page whose events follow the usual course — approved, requested, started,
 * counting events, completed, each at most once (counting events any number), in that
 * order — in one statement per step for all of them (five a page, not five a lead). Each
 * statement does for each of its leads exactly what apply() (or applyCountingRun) does
 * for that event, guarded by the same version check, and the steps run in the order of a
 * lead's events; a lead's rows never touch another's. Any other page of a lead is applied
 * event by event.
 */
class Steps {
  private readonly approved: unknown[] = [];
  private readonly requested: { lead_id: string; [column: string]: unknown }[] = [];
  private readonly started: { lead_id: string; [column: string]: unknown }[] = [];
  private readonly counting: { lead_id: string; v: number; kind: string }[] = [];
  private readonly completed: { lead_id: string; [column: string]: unknown }[] = [];

  /** Takes the lead's events when they follow the usual course; false leaves them to the caller. */
  take(leadId: string, list: readonly StoredEvent[]): boolean {
    let last = -1;
    for (const e of list) {
      const step = STEP[e.type];
      if (step === undefined || step < last || (step === last && step !== 3)) return false;
      last = step;
    }
    const rows: (() => void)[] = [];
    for (const e of list) {
      const v = e.streamVersion;
      switch (e.type) {
        case 'LeadApproved': {
          const { lead } = eventData('LeadApproved', e);
          if (lead.lead_id !== leadId) return false;
          rows.push(() =>
            this.approved.push({ lead_id: lead.lead_id, niche_id: lead.niche_id, received_at: e.createdAt, approved_at: lead.approved_at, consumer_name: lead.consumer.name, postal_code: lead.location.postal_code, state: lead.location.state, version: v }),
          );
          break;
        }
        case 'DistributionRequested': {
          const d = eventData('DistributionRequested', e);
          if (d.lead_id !== leadId) return false;
          rows.push(() => this.requested.push({ lead_id: d.lead_id, version: v, request_id: d.request_id, requested_at: d.requested_at, requested_by: d.requested_by.actor_id }));
          break;
        }
        case 'DistributionStarted': {
          const d = eventData('DistributionStarted', e);
          if (d.lead_id !== leadId) return false;
          rows.push(() => this.started.push({ lead_id: d.lead_id, version: v, start_order_position: d.start_order_position, attempt: d.attempt, started_at: d.started_at }));
          break;
        }
        case 'DistributionCompleted': {
          const d = eventData('DistributionCompleted', e);
          if (d.lead_id !== leadId) return false;
          rows.push(() =>
            this.completed.push({ lead_id: d.lead_id, version: v, outcome: d.outcome, start_order_position: d.start_order_position, attempt: d.attempt, completed_at: d.completed_at, duration_ms: d.duration_ms }),
          );
          break;
        }
        default:
          // A counting event: counted against the lead of its stream, as applyCountingRun does.
          rows.push(() => this.counting.push({ lead_id: leadId, v, kind: COUNTING[e.type]! }));
      }
    }
    for (const row of rows) row();
    return true;
  }

  /**
   * The updates find their rows by the lead ids (= any, an index scan of the few rows): a
   * join with the JSON rows alone is planned for a hundred of them, which over a small
   * table is a sequential scan even for one lead.
   */
  async apply(client: pg.PoolClient): Promise<void> {
    if (this.approved.length > 0)
      await client.query(
        `insert into operator.leads (lead_id, niche_id, status, received_at, approved_at, consumer_name, postal_code, state, version)
         select lead_id, niche_id, 'approved', received_at, approved_at, consumer_name, postal_code, state, version
           from jsonb_to_recordset($1::jsonb)
             as r(lead_id text, niche_id text, received_at timestamptz, approved_at timestamptz, consumer_name text, postal_code text, state text, version integer)
         on conflict (lead_id) do update set niche_id = excluded.niche_id, status = 'approved', approved_at = excluded.approved_at,
           consumer_name = excluded.consumer_name, postal_code = excluded.postal_code, state = excluded.state, reject_reasons = null, version = excluded.version
         where operator.leads.version < excluded.version`,
        [JSON.stringify(this.approved)],
      );
    if (this.requested.length > 0)
      await client.query(
        `update operator.leads l set queue_state = case when l.queue_state = 'completed' then l.queue_state else 'queued' end,
           request_id = r.request_id, requested_at = r.requested_at, requested_by = r.requested_by, version = r.version
         from jsonb_to_recordset($1::jsonb) as r(lead_id text, version integer, request_id text, requested_at timestamptz, requested_by text)
         where l.lead_id = any($2::text[]) and l.lead_id = r.lead_id and l.version < r.version`,
        [JSON.stringify(this.requested), this.requested.map((r) => r.lead_id)],
      );
    if (this.started.length > 0)
      await client.query(
        `update operator.leads l set queue_state = 'in_progress', start_order_position = r.start_order_position,
           attempts = greatest(l.attempts, r.attempt), last_attempt_at = r.started_at, version = r.version
         from jsonb_to_recordset($1::jsonb) as r(lead_id text, version integer, start_order_position integer, attempt integer, started_at timestamptz)
         where l.lead_id = any($2::text[]) and l.lead_id = r.lead_id and l.version < r.version`,
        [JSON.stringify(this.started), this.started.map((r) => r.lead_id)],
      );
    if (this.counting.length > 0)
      await client.query(
        `with e as (select * from jsonb_to_recordset($1::jsonb) as e(lead_id text, v integer, kind text)),
              m as (select lead_id, max(v) as v from e group by lead_id)
         update operator.leads l set
           assignments_count = l.assignments_count + (select count(*) from e where e.lead_id = l.lead_id and e.v > l.version and e.kind = 'assigned'),
           skipped_count = l.skipped_count + (select count(*) from e where e.lead_id = l.lead_id and e.v > l.version and e.kind = 'skipped'),
           queue_state = case when exists (select 1 from e where e.lead_id = l.lead_id and e.v > l.version and e.kind = 'selected')
                               and l.queue_state in ('queued', 'retrying', 'dead_lettered') then 'in_progress' else l.queue_state end,
           version = m.v
         from m
         where l.lead_id = any($2::text[]) and l.lead_id = m.lead_id and l.version < m.v`,
        [JSON.stringify(this.counting), [...new Set(this.counting.map((r) => r.lead_id))]],
      );
    if (this.completed.length > 0)
      await client.query(
        `update operator.leads l set status = 'distributed', queue_state = 'completed', outcome = r.outcome,
           start_order_position = coalesce(r.start_order_position, l.start_order_position), attempts = greatest(l.attempts, r.attempt),
           last_attempt_at = r.completed_at, completed_at = r.completed_at, duration_ms = r.duration_ms, last_error = null, version = r.version
         from jsonb_to_recordset($1::jsonb)
           as r(lead_id text, version integer, outcome text, start_order_position integer, attempt integer, completed_at timestamptz, duration_ms double precision)
         where l.lead_id = any($2::text[]) and l.lead_id = r.lead_id and l.version < r.version`,
        [JSON.stringify(this.completed), this.completed.map((r) => r.lead_id)],
      );
  }
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
    // One lead's page (a quiet moment) keeps its statements by primary key, whose plans fit one row.
    const steps = byLead.size > 1 ? new Steps() : undefined;
    for (const [leadId, list] of byLead) {
      if (steps?.take(leadId, list)) continue;
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
    await steps?.apply(client);
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
