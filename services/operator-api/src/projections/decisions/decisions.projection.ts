/**
 * The decision record of each lead, for auditors: the start level and traversal, every
 * level's evaluation (candidates in least-recently-served order with the last_received_at
 * they had then, exclusions and why, the picks), and what became of each pick (assigned,
 * skipped and why, or withdrawn before billing saw it). Evaluations and results are keyed by event id and the header row
 * is guarded by the stream version, so a replay changes nothing.
 *
 * An evaluation (`decision_rounds`) is a reference to its ProvidersSelected event, not a
 * copy: the event is immutable and stays in the log (`eventstore.events`, unique by
 * event_id), so the row keeps only what orders and finds it (lead, level, position,
 * round) and the query reads candidates, exclusions and picks from the event itself
 * (decisions.queries.ts). Each lead has three such events of ~7 KB; copying them meant
 * validating every candidate, serialising it again, and PostgreSQL parsing and
 * compressing it again — for a record read only when someone asks. The projector checks
 * the keys it writes and that the three lists are lists (an event without them stalls
 * the read model, as any event it cannot apply); the entries are checked against the
 * contract when the record is read.
 */
import type pg from 'pg';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';
import { ProvidersSelected } from '@fairlead/contracts';
import { z } from 'zod';
import { eventData } from '../event-data';
import { dropColumns, moneyToBigint } from '../upgrade';

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
    recorded_at timestamptz not null
  );
  create index if not exists decision_rounds_lead on operator.decision_rounds (lead_id, order_position, round);
  ${dropColumns('decision_rounds', ['candidates', 'excluded', 'picks'])}
  create table if not exists operator.decision_results (
    event_id text primary key,
    lead_id text not null,
    provider_id text not null,
    subscription_id text not null,
    level_id text not null,
    result text not null,
    reason text,
    detail text,
    price_cents bigint,
    assignment_id text,
    recorded_at timestamptz not null
  );
  create index if not exists decision_results_lead on operator.decision_results (lead_id);
  ${moneyToBigint('decision_results', ['price_cents'])}
`;

interface ResultRow {
  event_id: string;
  lead_id: string;
  provider_id: string;
  subscription_id: string;
  level_id: string;
  result: 'assigned' | 'skipped' | 'withdrawn';
  reason: string | null;
  detail: string | null;
  price_cents: number | null;
  assignment_id: string | null;
  recorded_at: Date;
}

/** The decision_results rows of one event (empty for other types). */
function resultRowsOf(event: StoredEvent): ResultRow[] {
  const base = { reason: null, detail: null, price_cents: null, assignment_id: null };
  switch (event.type) {
    case 'LeadAssigned': {
      const d = eventData('LeadAssigned', event);
      return [{ ...base, event_id: event.id, lead_id: d.lead_id, provider_id: d.provider_id, subscription_id: d.subscription_id, level_id: d.level_id, result: 'assigned', price_cents: d.price_cents, assignment_id: d.assignment_id, recorded_at: new Date(d.assigned_at) }];
    }
    case 'ProviderSkipped': {
      const d = eventData('ProviderSkipped', event);
      return [{ ...base, event_id: event.id, lead_id: d.lead_id, provider_id: d.provider_id, subscription_id: d.subscription_id, level_id: d.level_id, result: 'skipped', reason: d.reason, detail: d.detail, recorded_at: event.createdAt }];
    }
    case 'PicksWithdrawn': {
      // One row per pick taken back (keyed by event and provider): billing never saw them.
      const d = eventData('PicksWithdrawn', event);
      return d.picks.map((p) => ({ ...base, event_id: `${event.id}:${p.provider_id}`, lead_id: d.lead_id, provider_id: p.provider_id, subscription_id: p.subscription_id, level_id: p.level_id, result: 'withdrawn', reason: d.reason, recorded_at: event.createdAt }));
    }
    default:
      return [];
  }
}

async function insertResults(client: pg.PoolClient, rows: readonly ResultRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof ResultRow>(k: K) => rows.map((r) => r[k]);
  await client.query(
    `insert into operator.decision_results (event_id, lead_id, provider_id, subscription_id, level_id, result, reason, detail, price_cents, assignment_id, recorded_at)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[], $11::timestamptz[])
     on conflict (event_id) do nothing`,
    [col('event_id'), col('lead_id'), col('provider_id'), col('subscription_id'), col('level_id'), col('result'), col('reason'), col('detail'), col('price_cents'), col('assignment_id'), col('recorded_at')],
  );
}

/**
 * What a round's row needs of its ProvidersSelected: its keys, checked against the
 * contract, and that candidates, exclusions and picks are lists (their entries are not
 * looked at here: decisions.queries.ts checks them when the record is read).
 */
const RoundKeys = ProvidersSelected.pick({ lead_id: true, level_id: true, order_position: true, round: true }).extend({
  candidates: z.array(z.unknown()),
  excluded: z.array(z.unknown()),
  picks: z.array(z.unknown()),
});

/**
 * The rounds in one insert, as one JSON document (one parameter, the statement text fixed,
 * so its plan is cached): a reference to each event, no copy of its lists.
 */
async function insertRounds(client: pg.PoolClient, events: readonly StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rounds = events.map((e) => {
    const d = RoundKeys.parse(e.data);
    return { event_id: e.id, lead_id: d.lead_id, level_id: d.level_id, order_position: d.order_position, round: d.round, recorded_at: e.createdAt };
  });
  await client.query(
    `insert into operator.decision_rounds (event_id, lead_id, level_id, order_position, round, recorded_at)
     select * from jsonb_to_recordset($1::jsonb)
       as r(event_id text, lead_id text, level_id text, order_position integer, round integer, recorded_at timestamptz)
     on conflict (event_id) do nothing`,
    [JSON.stringify(rounds)],
  );
}

/**
 * Header rows of DistributionStarted events, one statement for all; at most one event per
 * lead (an upsert cannot touch a row twice), each as apply() writes it, under the same
 * version guard.
 */
async function upsertStarted(client: pg.PoolClient, events: readonly StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => {
    const d = eventData('DistributionStarted', e);
    return { lead_id: d.lead_id, niche_id: d.niche_id, request_id: d.request_id, start_order_position: d.start_order_position, traversal: d.traversal, started_at: d.started_at, version: e.streamVersion };
  });
  await client.query(
    `insert into operator.decisions (lead_id, niche_id, request_id, start_order_position, traversal, started_at, version)
     select lead_id, niche_id, request_id, start_order_position, traversal, started_at, version
       from jsonb_to_recordset($1::jsonb)
         as r(lead_id text, niche_id text, request_id text, start_order_position integer, traversal jsonb, started_at timestamptz, version integer)
     on conflict (lead_id) do update set request_id = excluded.request_id, start_order_position = excluded.start_order_position,
       traversal = excluded.traversal, started_at = excluded.started_at, version = excluded.version
     where operator.decisions.version < excluded.version`,
    [JSON.stringify(rows)],
  );
}

/** Header rows of DistributionCompleted events, as upsertStarted. */
async function upsertCompleted(client: pg.PoolClient, events: readonly StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => {
    const d = eventData('DistributionCompleted', e);
    return { lead_id: d.lead_id, niche_id: d.niche_id, request_id: d.request_id, start_order_position: d.start_order_position, outcome: d.outcome, completed_at: d.completed_at, duration_ms: d.duration_ms, version: e.streamVersion };
  });
  // A lead with no eligible level may complete without a DistributionStarted row.
  await client.query(
    `insert into operator.decisions (lead_id, niche_id, request_id, start_order_position, outcome, completed_at, duration_ms, version)
     select lead_id, niche_id, request_id, start_order_position, outcome, completed_at, duration_ms, version
       from jsonb_to_recordset($1::jsonb)
         as r(lead_id text, niche_id text, request_id text, start_order_position integer, outcome text, completed_at timestamptz, duration_ms double precision, version integer)
     on conflict (lead_id) do update set outcome = excluded.outcome, completed_at = excluded.completed_at, duration_ms = excluded.duration_ms,
       start_order_position = coalesce(excluded.start_order_position, operator.decisions.start_order_position), version = excluded.version
     where operator.decisions.version < excluded.version`,
    [JSON.stringify(rows)],
  );
}

const headerLeadOf = (e: StoredEvent): string => (e.type === 'DistributionStarted' ? eventData('DistributionStarted', e).lead_id : eventData('DistributionCompleted', e).lead_id);

export const decisionsProjection: ProjectionDefinition = {
  name: 'operator.decisions',
  categories: ['lead'],
  setup: async (client) => void (await client.query(SETUP)),
  // A page: rounds and results (append-only rows keyed by event id) in one insert each; the
  // header rows (version-guarded): the starts of all leads in one statement, then their
  // completions in another — for a lead whose page holds a start, a completion, or a start
  // then a completion (each row sees its events in order); any other lead's header events
  // one by one, in order.
  applyBatch: async (events: readonly StoredEvent[], client: pg.PoolClient) => {
    const headers = new Map<string, StoredEvent[]>();
    for (const event of events) {
      if (event.type !== 'DistributionStarted' && event.type !== 'DistributionCompleted') continue;
      const key = headerLeadOf(event);
      const list = headers.get(key);
      if (list) list.push(event);
      else headers.set(key, [event]);
    }
    const started: StoredEvent[] = [];
    const completed: StoredEvent[] = [];
    for (const list of headers.values()) {
      const [first, second] = list;
      if (list.length === 1 || (list.length === 2 && first!.type === 'DistributionStarted' && second!.type === 'DistributionCompleted')) {
        for (const e of list) (e.type === 'DistributionStarted' ? started : completed).push(e);
      } else {
        for (const e of list) await decisionsProjection.apply(e, client);
      }
    }
    await upsertStarted(client, started);
    await upsertCompleted(client, completed);
    await insertRounds(
      client,
      events.filter((e) => e.type === 'ProvidersSelected'),
    );
    await insertResults(client, events.flatMap(resultRowsOf));
  },
  apply: async (event: StoredEvent, client: pg.PoolClient) => {
    switch (event.type) {
      case 'DistributionStarted':
        await upsertStarted(client, [event]);
        return;
      case 'ProvidersSelected':
        await insertRounds(client, [event]);
        return;
      case 'LeadAssigned':
      case 'ProviderSkipped':
      case 'PicksWithdrawn':
        await insertResults(client, resultRowsOf(event));
        return;
      case 'DistributionCompleted':
        await upsertCompleted(client, [event]);
        return;
      default:
        return;
    }
  },
};
