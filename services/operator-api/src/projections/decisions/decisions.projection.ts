/**
 * The decision record of each lead, for auditors: the start level and traversal, every
 * level's evaluation (candidates in least-recently-served order with the last_received_at
 * they had then, exclusions and why, the picks), and what became of each pick (assigned,
 * skipped and why, or withdrawn before billing saw it). Evaluations and results are keyed by event id and the header row
 * is guarded by the stream version, so a replay changes nothing.
 */
import type pg from 'pg';
import { parseDistributionEvent } from '@fairlead/contracts';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';

const SETUP = `
  create table if not exists operator.decisions (
    lead_id text primary key,
    niche_id text not null,
    request_id text,
    start_order_position integer,
    traversal jsonb not null default '[]',
    started_at timestamptz,
    outcome text,
    completed_at timestamptz,
    duration_ms double precision,
    version integer not null
  );
  create table if not exists operator.decision_rounds (
    event_id text primary key,
    lead_id text not null,
    level_id text not null,
    order_position integer not null,
    round integer not null,
    candidates jsonb not null,
    excluded jsonb not null,
    picks jsonb not null,
    recorded_at timestamptz not null
  );
  create index if not exists decision_rounds_lead on operator.decision_rounds (lead_id, order_position, round);
  create table if not exists operator.decision_results (
    event_id text primary key,
    lead_id text not null,
    provider_id text not null,
    subscription_id text not null,
    level_id text not null,
    result text not null,
    reason text,
    detail text,
    price_cents integer,
    assignment_id text,
    recorded_at timestamptz not null
  );
  create index if not exists decision_results_lead on operator.decision_results (lead_id);
`;

export const decisionsProjection: ProjectionDefinition = {
  name: 'operator.decisions',
  categories: ['lead'],
  setup: async (client) => void (await client.query(SETUP)),
  apply: async (event: StoredEvent, client: pg.PoolClient) => {
    const v = event.streamVersion;
    switch (event.type) {
      case 'DistributionStarted': {
        const d = parseDistributionEvent('DistributionStarted', event.data);
        await client.query(
          `insert into operator.decisions (lead_id, niche_id, request_id, start_order_position, traversal, started_at, version)
           values ($1, $2, $3, $4, $5, $6, $7)
           on conflict (lead_id) do update set request_id = excluded.request_id, start_order_position = excluded.start_order_position,
             traversal = excluded.traversal, started_at = excluded.started_at, version = excluded.version
           where operator.decisions.version < excluded.version`,
          [d.lead_id, d.niche_id, d.request_id, d.start_order_position, JSON.stringify(d.traversal), d.started_at, v],
        );
        return;
      }
      case 'ProvidersSelected': {
        const d = parseDistributionEvent('ProvidersSelected', event.data);
        await client.query(
          `insert into operator.decision_rounds (event_id, lead_id, level_id, order_position, round, candidates, excluded, picks, recorded_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (event_id) do nothing`,
          [event.id, d.lead_id, d.level_id, d.order_position, d.round, JSON.stringify(d.candidates), JSON.stringify(d.excluded), JSON.stringify(d.picks), event.createdAt],
        );
        return;
      }
      case 'LeadAssigned': {
        const d = parseDistributionEvent('LeadAssigned', event.data);
        await client.query(
          `insert into operator.decision_results (event_id, lead_id, provider_id, subscription_id, level_id, result, price_cents, assignment_id, recorded_at)
           values ($1, $2, $3, $4, $5, 'assigned', $6, $7, $8) on conflict (event_id) do nothing`,
          [event.id, d.lead_id, d.provider_id, d.subscription_id, d.level_id, d.price_cents, d.assignment_id, d.assigned_at],
        );
        return;
      }
      case 'ProviderSkipped': {
        const d = parseDistributionEvent('ProviderSkipped', event.data);
        await client.query(
          `insert into operator.decision_results (event_id, lead_id, provider_id, subscription_id, level_id, result, reason, detail, recorded_at)
           values ($1, $2, $3, $4, $5, 'skipped', $6, $7, $8) on conflict (event_id) do nothing`,
          [event.id, d.lead_id, d.provider_id, d.subscription_id, d.level_id, d.reason, d.detail, event.createdAt],
        );
        return;
      }
      case 'PicksWithdrawn': {
        const d = parseDistributionEvent('PicksWithdrawn', event.data);
        // One row per pick taken back (keyed by event and provider): billing never saw them.
        await client.query(
          `insert into operator.decision_results (event_id, lead_id, provider_id, subscription_id, level_id, result, reason, recorded_at)
           select $1 || ':' || p.provider_id, $2, p.provider_id, p.subscription_id, p.level_id, 'withdrawn', $3, $4
             from unnest($5::text[], $6::text[], $7::text[]) as p(provider_id, subscription_id, level_id)
           on conflict (event_id) do nothing`,
          [event.id, d.lead_id, d.reason, event.createdAt, d.picks.map((p) => p.provider_id), d.picks.map((p) => p.subscription_id), d.picks.map((p) => p.level_id)],
        );
        return;
      }
      case 'DistributionCompleted': {
        const d = parseDistributionEvent('DistributionCompleted', event.data);
        // A lead with no eligible level may complete without a DistributionStarted row.
        await client.query(
          `insert into operator.decisions (lead_id, niche_id, request_id, start_order_position, outcome, completed_at, duration_ms, version)
           values ($1, $2, $3, $4, $5, $6, $7, $8)
           on conflict (lead_id) do update set outcome = excluded.outcome, completed_at = excluded.completed_at, duration_ms = excluded.duration_ms,
             start_order_position = coalesce(excluded.start_order_position, operator.decisions.start_order_position), version = excluded.version
           where operator.decisions.version < excluded.version`,
          [d.lead_id, d.niche_id, d.request_id, d.start_order_position, d.outcome, d.completed_at, d.duration_ms, v],
        );
        return;
      }
      default:
        return;
    }
  },
};
