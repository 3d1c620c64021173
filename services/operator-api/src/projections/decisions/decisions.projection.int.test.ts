import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import type { StoredEvent } from '@fairlead/event-store';
import { at, event, partialDistribution } from '../../testing/events';
import { startProjectionHarness, type ProjectionHarness } from '../../testing/projection-harness';
import { inSchema } from '../../replay/in-schema';
import { providersProjection } from '../providers/providers.projection';
import { decisionsProjection } from './decisions.projection';
import { DecisionRoundUnreadableError, findDecisionRecord, roundsStatement } from './decisions.queries';

let h: ProjectionHarness;
const TABLES = ['operator.decisions', 'operator.decision_rounds', 'operator.decision_results'];

beforeAll(async () => {
  h = await startProjectionHarness('op_decisions');
  for (const [id, name] of [['p1', 'Acme Roofing'], ['p2', 'Best Roofs'], ['p3', 'Cheap Co']]) {
    await h.append(streams.provider(id!), [event('ProviderRegistered', { provider_id: id!, name: name!, email: `${id}@example.com`, actor: SYSTEM_ACTOR })]);
  }
  const s = partialDistribution('lead-1', 'roofing');
  await h.append(streams.lead(s.leadId), s.events);
  await h.project(providersProjection);
  await h.project(decisionsProjection);
});
afterAll(async () => {
  await h.close();
});

describe('the decision record', () => {
  it('shows the traversal and, per level, each candidate in LRU order with what became of it', async () => {
    const record = await findDecisionRecord(h.pool, 'lead-1', h.store.schema);
    expect(record).toMatchObject({ lead_id: 'lead-1', start_order_position: 2, outcome: 'partial', duration_ms: 42 });
    expect(record!.levels.map((l) => l.order_position)).toEqual([2, 1]);

    const [level2, level1] = record!.levels;
    expect(level2!.rounds.map((r) => r.round)).toEqual([0, 1]);
    expect(level2!.rounds[0]!.candidates.map((c) => [c.rank, c.provider_id, c.provider_name, c.decision, c.reason])).toEqual([
      [1, 'p3', 'Cheap Co', 'skipped', 'insufficient_balance'],
      [2, 'p1', 'Acme Roofing', 'not_picked', 'no free slot at this rank'],
    ]);
    expect(level2!.rounds[0]!.candidates[0]!.last_received_at).toBeNull();
    expect(level2!.rounds[0]!.excluded).toEqual([{ provider_id: 'p9', provider_name: null, subscription_id: 'p9-roofing-l2', reason: 'ineligible_area' }]);
    expect(level2!.rounds[1]!.candidates).toMatchObject([{ provider_id: 'p1', decision: 'chosen', price_cents: 2_500, assignment_id: 'lead-1-a1' }]);

    expect(level1!.rounds[0]!.candidates.map((c) => [c.provider_id, c.decision])).toEqual([
      ['p2', 'chosen'],
      ['p4', 'not_picked'],
    ]);
    expect(level1!.rounds[0]!.excluded[0]).toMatchObject({ provider_id: 'p1', reason: 'already_assigned' });
  });

  it('is unknown for a lead whose distribution never started', async () => {
    expect(await findDecisionRecord(h.pool, 'lead-none', h.store.schema)).toBeUndefined();
  });

  it('changes nothing when the whole log is replayed', async () => {
    const before = await h.dump(TABLES);
    await h.replay(decisionsProjection);
    expect(await h.dump(TABLES)).toBe(before);
  });
  it('a page of many leads, their events interleaved, writes the header rows exactly as event-by-event — a retried start included', async () => {
    const histories = (suffix: string) => {
      const partial = partialDistribution(`dec-many-partial-${suffix}`, 'roofing');
      const retried = `dec-many-retried-${suffix}`;
      const started = (attempt: number, minute: number, position: number) =>
        event('DistributionStarted', { lead_id: retried, niche_id: 'roofing', request_id: `rr-${suffix}`, attempt, start_order_position: position, traversal: [], started_at: at(minute) });
      const completion = event('DistributionCompleted', {
        lead_id: retried,
        niche_id: 'roofing',
        request_id: `rr-${suffix}`,
        outcome: 'no_eligible',
        start_order_position: null,
        traversal: [],
        assignments: [],
        skipped: [],
        duration_ms: 7,
        attempt: 2,
        completed_at: at(9),
      });
      return [partial.events, [started(1, 2, 1), started(2, 4, 2), completion]].map((events, i) => ({ stream: streams.lead(i === 0 ? partial.leadId : retried), events }));
    };
    const one = histories('one');
    const paged = histories('paged');
    for (const x of [...one, ...paged]) await h.append(x.stream, x.events);
    const client = await h.pool.connect();
    try {
      for (const x of one) for (const e of await h.store.readStream(x.stream)) await decisionsProjection.apply(e, client);
      const stored = await Promise.all(paged.map((x) => h.store.readStream(x.stream)));
      const page = [];
      for (let i = 0; i < Math.max(...stored.map((x) => x.length)); i++) for (const x of stored) if (x[i]) page.push(x[i]!);
      await decisionsProjection.applyBatch!(page, client);
      await decisionsProjection.applyBatch!(page, client);
    } finally {
      client.release();
    }
    const header = async (id: string) => {
      const { rows } = await h.pool.query(`select niche_id, start_order_position, traversal, started_at, outcome, completed_at, duration_ms, version from operator.decisions where lead_id = $1`, [id]);
      return rows[0] as unknown;
    };
    for (const kind of ['partial', 'retried']) expect(await header(`dec-many-${kind}-paged`)).toEqual(await header(`dec-many-${kind}-one`));
    expect(await header('dec-many-retried-paged')).toMatchObject({ start_order_position: 2, outcome: 'no_eligible', version: 2 });
  });
});

describe('reading a record', () => {
  // Rounds the size a lead has in production (50 candidates, uuid subscription ids): their
  // data is compressed and stored out of line, in the log's TOAST table, as a real event's is.
  const BIG = 'lead-big';
  const bigRounds = () =>
    [1, 2, 3].map((n) => {
      const ids = Array.from({ length: 60 }, (_, i) => (i < 3 ? `p${i + 1}` : `big-${n}-${i}`));
      const candidates = ids.slice(0, 50).map((id, i) => ({ provider_id: id, subscription_id: randomUUID(), last_received_at: i < 10 ? null : at(i) }));
      const excluded = ids.slice(50).map((id) => ({ provider_id: id, subscription_id: randomUUID(), reason: 'daily_cap' as const }));
      const picks = candidates.slice(0, 2).map((c) => ({ provider_id: c.provider_id, subscription_id: c.subscription_id, price_cents: 1_000 }));
      return event('ProvidersSelected', { lead_id: BIG, level_id: `roofing-l${n}`, order_position: n, round: 0, candidates, excluded, picks });
    });

  beforeAll(async () => {
    const traversal = [1, 2, 3].map((n) => ({ level_id: `roofing-l${n}`, name: `L${n}`, order_position: n, max_recipients: 2, price_per_lead_cents: 1_000 }));
    await h.append(streams.lead(BIG), [
      event('DistributionStarted', { lead_id: BIG, niche_id: 'roofing', request_id: `r-${BIG}`, attempt: 1, start_order_position: 1, traversal, started_at: at(2) }),
      ...bigRounds(),
    ]);
    await h.project(decisionsProjection);
  });

  it("reads each round's event from the log once: one statement names the log, and it fetches each event's stored data once", async () => {
    const { rows: relations } = await h.pool.query<{ toast: number; toast_index: number }>(
      `select c.reltoastrelid::int as toast, i.indexrelid::int as toast_index from pg_class c join pg_index i on i.indrelid = c.reltoastrelid where c.oid = 'eventstore.events'::regclass`,
    );
    const { toast, toast_index } = relations[0]!;
    const { rows: rounds } = await h.pool.query<{ event_id: string }>(`select event_id from operator.decision_rounds where lead_id = $1`, [BIG]);
    expect(rounds).toHaveLength(3);
    const client = await h.pool.connect();
    try {
      // Block reads of the log's TOAST table and its index by this backend (counted within a
      // transaction: the counters are not flushed to the statistics until it ends).
      const fetched = async () => {
        const { rows } = await client.query<{ toast: string; toast_index: string }>(
          'select pg_stat_get_xact_blocks_fetched($1) as toast, pg_stat_get_xact_blocks_fetched($2) as toast_index',
          [toast, toast_index],
        );
        return { toast: Number(rows[0]!.toast), toast_index: Number(rows[0]!.toast_index) };
      };
      const since = async (before: { toast: number; toast_index: number }) => {
        const after = await fetched();
        return { toast: after.toast - before.toast, toast_index: after.toast_index - before.toast_index };
      };
      let logStatements = 0;
      // The real connection, with the statements that name the log counted.
      const counting = new Proxy(client, {
        get(target, key, receiver) {
          if (key !== 'query') return Reflect.get(target, key, receiver);
          return (text: unknown, ...rest: unknown[]) => {
            if (typeof text === 'string' && /"?eventstore"?\.events\b/.test(text)) logStatements++;
            return (target.query as (...a: unknown[]) => unknown).call(target, text, ...rest);
          };
        },
      }) as pg.PoolClient;

      await client.query('begin');
      // What reading the three events' data once costs.
      let before = await fetched();
      await client.query('select data from eventstore.events where event_id = any($1::text[])', [rounds.map((r) => r.event_id)]);
      const once = await since(before);
      // Stored out of line, else there would be nothing to count.
      expect(once.toast).toBeGreaterThanOrEqual(3);

      before = await fetched();
      const record = await findDecisionRecord(counting, BIG, h.store.schema);
      const read = await since(before);
      await client.query('commit');

      expect(record!.levels.map((l) => l.rounds[0]!.candidates.length)).toEqual([50, 50, 50]);
      expect(record!.levels[0]!.rounds[0]!.candidates.slice(0, 3).map((c) => c.provider_name)).toEqual(['Acme Roofing', 'Best Roofs', 'Cheap Co']);
      expect(record!.levels[0]!.rounds[0]!.excluded.map((x) => x.provider_name)).toEqual(Array.from({ length: 10 }, () => null));
      expect(logStatements).toBe(1);
      expect(read).toEqual(once);
    } finally {
      await client.query('rollback').catch(() => undefined);
      client.release();
    }
  });
});

describe('a round is a reference to its event', () => {
  const started = (leadId: string) =>
    event('DistributionStarted', { lead_id: leadId, niche_id: 'roofing', request_id: `r-${leadId}`, attempt: 1, start_order_position: 1, traversal: [], started_at: at(2) });

  it('keeps no copy of the lists: the row is the event id and what orders it', async () => {
    const { rows } = await h.pool.query(`select column_name from information_schema.columns where table_schema = 'operator' and table_name = 'decision_rounds' order by ordinal_position`);
    expect(rows.map((r: { column_name: string }) => r.column_name)).toEqual(['event_id', 'lead_id', 'level_id', 'order_position', 'round', 'recorded_at']);
    const { rows: joined } = await h.pool.query(
      `select count(*)::int as n from operator.decision_rounds r join eventstore.events e on e.event_id = r.event_id and e.type = 'ProvidersSelected' where r.lead_id = 'lead-1'`,
    );
    expect(joined[0]).toEqual({ n: 3 });
  });

  it('finds each event through the log\'s unique index on event_id, never by scanning the log', async () => {
    const client = await h.pool.connect();
    try {
      // With scans priced out, a plan that still scans the log has no index it can use.
      await client.query('set enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${roundsStatement('eventstore')}`, ['lead-1']);
      const plan = JSON.stringify(rows[0]!['QUERY PLAN']);
      expect(plan).toContain('"Relation Name":"events"');
      expect(plan).not.toMatch(/"Node Type":"Seq Scan","Parallel Aware":false,"Async Capable":false,"Relation Name":"events"/);
      expect(plan).toMatch(/"Index Name":"events_event_id_key"/);
    } finally {
      await client.query('reset enable_seqscan');
      client.release();
    }
  });

  it('a ProvidersSelected whose candidates break the contract is projected (its keys are fine), and its record says which event is wrong instead of showing half of it', async () => {
    // Not what a service writes (the test events are validated): written raw, as a bug or another writer could.
    await h.append(streams.lead('lead-bad'), [
      started('lead-bad'),
      {
        id: randomUUID(),
        type: 'ProvidersSelected',
        data: {
          lead_id: 'lead-bad',
          level_id: 'roofing-l1',
          order_position: 1,
          round: 0,
          candidates: [{ provider_id: 'p1', subscription_id: 's1', last_received_at: 'yesterday' }, 'not a candidate'],
          excluded: [],
          picks: [],
        },
        metadata: {},
      },
    ]);
    await h.project(decisionsProjection);
    const [bad] = (await h.store.readStream(streams.lead('lead-bad'))).filter((e) => e.type === 'ProvidersSelected');
    const error = await findDecisionRecord(h.pool, 'lead-bad', h.store.schema).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DecisionRoundUnreadableError);
    expect(error).toMatchObject({ status: 500, code: 'DECISION_ROUND_EVENT_INVALID', details: { lead_id: 'lead-bad', event_id: bad!.id } });
    // The other leads' records are untouched by it.
    expect((await findDecisionRecord(h.pool, 'lead-1', h.store.schema))!.levels).toHaveLength(2);
  });

  it('a ProvidersSelected without its lists, or with a bad key, is not applied: the read model stalls on it as on any event it cannot apply', async () => {
    const raw = (data: Record<string, unknown>): StoredEvent => ({
      id: randomUUID(),
      stream: streams.lead('lead-raw'),
      streamVersion: 1,
      globalPosition: 1n,
      type: 'ProvidersSelected',
      data,
      metadata: {},
      createdAt: new Date(),
    }) as StoredEvent;
    const keys = { lead_id: 'lead-raw', level_id: 'roofing-l1', order_position: 1, round: 0 };
    const client = await h.pool.connect();
    try {
      for (const data of [{ ...keys, excluded: [], picks: [] }, { ...keys, candidates: {}, excluded: [], picks: [] }, { ...keys, round: -1, candidates: [], excluded: [], picks: [] }, { ...keys, lead_id: undefined, candidates: [], excluded: [], picks: [] }]) {
        await expect(decisionsProjection.apply(raw(data), client), JSON.stringify(data)).rejects.toThrow();
        await expect(decisionsProjection.applyBatch!([raw(data)], client), JSON.stringify(data)).rejects.toThrow();
      }
    } finally {
      client.release();
    }
    expect((await h.pool.query(`select 1 from operator.decision_rounds where lead_id = 'lead-raw'`)).rowCount).toBe(0);
  });

  it('a round whose event is not in the log (a read model built from another log) is reported by its event id, not shown empty', async () => {
    await h.append(streams.lead('lead-lost'), [started('lead-lost')]);
    await h.project(decisionsProjection);
    await h.pool.query(`insert into operator.decision_rounds (event_id, lead_id, level_id, order_position, round, recorded_at) values ('no-such-event', 'lead-lost', 'roofing-l1', 1, 0, now())`);
    try {
      await expect(findDecisionRecord(h.pool, 'lead-lost', h.store.schema)).rejects.toMatchObject({ status: 500, code: 'DECISION_ROUND_EVENT_MISSING', details: { event_id: 'no-such-event' } });
      // Asked of another event store schema than the one holding the log: the same clear answer, no SQL error.
      await h.pool.query('create schema if not exists other_store; create table if not exists other_store.events (like eventstore.events)');
      await expect(findDecisionRecord(h.pool, 'lead-1', 'other_store')).rejects.toMatchObject({ code: 'DECISION_ROUND_EVENT_MISSING' });
      await expect(findDecisionRecord(h.pool, 'lead-1', 'eventstore; drop table x')).rejects.toThrow(/schema/);
    } finally {
      await h.pool.query(`delete from operator.decision_rounds where lead_id = 'lead-lost'`);
    }
  });

  it('a table of the old shape (lists copied) is upgraded at setup: the copies dropped, its rows kept and read from the log', async () => {
    const client = await h.pool.connect();
    try {
      await client.query(`create schema old_shape`);
      await client.query(`create table old_shape.decision_rounds (event_id text primary key, lead_id text not null, level_id text not null, order_position integer not null,
        round integer not null, candidates jsonb not null, excluded jsonb not null, picks jsonb not null, recorded_at timestamptz not null)`);
      await client.query(`insert into old_shape.decision_rounds select event_id, lead_id, level_id, order_position, round, '[]', '[]', '[]', recorded_at from operator.decision_rounds where lead_id = 'lead-1'`);
      const old = inSchema(decisionsProjection, 'old_shape');
      await old.setup(client);
      await old.setup(client);
      const { rows } = await client.query(`select column_name from information_schema.columns where table_schema = 'old_shape' and table_name = 'decision_rounds' order by ordinal_position`);
      expect(rows.map((r: { column_name: string }) => r.column_name)).toEqual(['event_id', 'lead_id', 'level_id', 'order_position', 'round', 'recorded_at']);
      const { rows: kept } = await client.query(`select count(*)::int as n from old_shape.decision_rounds r join eventstore.events e using (event_id)`);
      expect(kept[0]).toEqual({ n: 3 });
      // Rows written after the upgrade go in alongside the old ones.
      const page = (await h.store.readStream(streams.lead('lead-1'))).filter((e) => e.type === 'ProvidersSelected');
      await old.applyBatch(page, client);
    } finally {
      await client.query('drop schema if exists old_shape cascade');
      client.release();
    }
  });
});
