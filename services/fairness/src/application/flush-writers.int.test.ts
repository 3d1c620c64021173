/**
 * flushWriters on real PostgreSQL: a flush's events and its served-view rows (pending_picks,
 * subscription_stats) are written in one statement (after a read of the stats rows when
 * assignments are among them), all or nothing, with exactly the rows the transactional
 * write gives — also for a re-append of events already stored, a concurrent writer of a
 * lead stream, and a stats row written between the read and the statement.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, type DistributionEventData } from '@fairlead/contracts';
import { ConcurrencyError } from '@fairlead/event-store';
import { openTestEnvironment, type TestEnvironment } from '@fairlead/service-testing';
import { initialDistributionState, type DistributionState } from '../domain/distribution-state';
import type { StatsRead, StatsRow } from '../projections/subscription-stats/subscription-stats';
import { subscriptionsOfLevels } from '../projections/subscriptions/subscriptions.projection';
import { migrateFairness } from '../schema';
import { flushWriters, foldLeadStream, LeadWriter, type PendingEvent } from './lead-stream';

let env: TestEnvironment;
let client: pg.PoolClient;
/** The statements sent on `client` since the last reset. */
let sent: string[] = [];
/** Runs after a statement on `client` whose text matches. */
let after: { match: RegExp; run: () => Promise<void> } | undefined;

beforeAll(async () => {
  env = await openTestEnvironment('fairness_flush');
  await migrateFairness(env.db.pool);
  client = await env.db.pool.connect();
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
    const q = args[0] as string | { text: string };
    const text = typeof q === 'string' ? q : q.text;
    sent.push(text);
    const result = await query(...args);
    const hook = after;
    if (hook && hook.match.test(text)) {
      after = undefined;
      await hook.run();
    }
    return result;
  };
});
afterAll(async () => {
  client?.release();
  await env?.close();
});

const LEVEL = 'l1';
const at = (minute: number) => new Date(Date.UTC(2026, 11, 3, 6, minute));

function selected(lead: string, picks: string[], minutes: number[]): PendingEvent {
  const data: DistributionEventData<'ProvidersSelected'> = {
    lead_id: lead,
    level_id: LEVEL,
    order_position: 1,
    round: 0,
    candidates: picks.map((p) => ({ provider_id: p, subscription_id: `s-${p}`, last_received_at: null })),
    excluded: [],
    picks: picks.map((p) => ({ provider_id: p, subscription_id: `s-${p}`, price_cents: 100 })),
  };
  return { id: randomUUID(), event: { type: 'ProvidersSelected', data }, servedAt: minutes.map(at) };
}

function assigned(lead: string, provider: string, minute: number): PendingEvent {
  const data: DistributionEventData<'LeadAssigned'> = {
    assignment_id: randomUUID(),
    lead_id: lead,
    niche_id: 'n1',
    provider_id: provider,
    subscription_id: `s-${provider}`,
    level_id: LEVEL,
    level_name: 'Gold',
    order_position: 1,
    price_cents: 100,
    balance_after_cents: 0,
    assigned_at: at(minute).toISOString(),
  };
  return { id: randomUUID(), event: { type: 'LeadAssigned', data }, servedAt: undefined };
}

const writer = (lead: string, state: DistributionState = initialDistributionState()) => new LeadWriter(lead, state, {});

async function pendingPicks(lead: string) {
  const { rows } = await env.db.pool.query<{ provider_id: string; served_at: Date }>('select provider_id, served_at from fairness.pending_picks where lead_id = $1 order by provider_id', [lead]);
  return rows.map((r) => ({ provider: r.provider_id, at: r.served_at.toISOString() }));
}

async function stats(provider: string) {
  const { rows } = await env.db.pool.query<{ last_lead_id: string; last_received_at: Date; day: string; day_count: number; month: string; month_count: number; provider_id: string }>(
    `select last_lead_id, last_received_at, to_char(day, 'YYYY-MM-DD') as day, day_count, month, month_count, provider_id from fairness.subscription_stats where subscription_id = $1`,
    [`s-${provider}`],
  );
  const r = rows[0];
  return r && { lead: r.last_lead_id, at: r.last_received_at.toISOString(), day: r.day, dayCount: r.day_count, month: r.month, monthCount: r.month_count, provider: r.provider_id };
}

/** The stats rows as the served view's read gives them (subscriptionsOfLevels). */
async function statsRead(providers: string[]): Promise<StatsRead> {
  const { rows } = await env.db.pool.query<StatsRow>(
    `select subscription_id, provider_id, level_id, last_received_at, last_lead_id, to_char(day, 'YYYY-MM-DD') as day, day_count, month, month_count, xmin::text as seen
       from fairness.subscription_stats where subscription_id = any($1::text[])`,
    [providers.map((p) => `s-${p}`)],
  );
  return new Map(providers.map((p) => [`s-${p}`, rows.find((r) => r.subscription_id === `s-${p}`) ?? null]));
}

const insertStats = (provider: string, dayCount: number, minute: number) =>
  env.db.pool.query(
    `insert into fairness.subscription_stats (subscription_id, provider_id, level_id, last_received_at, last_lead_id, day, day_count, month, month_count)
     values ($1, $2, $3, $4, 'older-lead', '2026-12-03', $5, '2026-12', $5)`,
    [`s-${provider}`, provider, LEVEL, at(minute), dayCount],
  );

const storedState = async (lead: string) => foldLeadStream(await env.store.readStream(streams.lead(lead)));

describe('flushWriters', () => {
  it('writes a flush of picks in one statement, and one of assignments in a read and one statement, with the exact rows', async () => {
    await env.db.pool.query(
      `insert into fairness.subscription_stats (subscription_id, provider_id, level_id, last_received_at, last_lead_id, day, day_count, month, month_count)
       values ('s-a1', 'a1', $1, $2, 'older-lead', '2026-12-03', 3, '2026-12', 9)`,
      [LEVEL, at(1)],
    );
    const w = writer('lead-a');
    w.add([selected('lead-a', ['a1', 'a2'], [10, 11])]);
    sent = [];
    await flushWriters(client, env.store, [w]);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/append_batch[\s\S]*insert into fairness.pending_picks[\s\S]*flush_written/);
    expect(w.hasPending).toBe(false);
    expect(await pendingPicks('lead-a')).toEqual([
      { provider: 'a1', at: at(10).toISOString() },
      { provider: 'a2', at: at(11).toISOString() },
    ]);

    w.add([assigned('lead-a', 'a1', 10), assigned('lead-a', 'a2', 11)]);
    sent = [];
    await flushWriters(client, env.store, [w]);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatch(/^\s*select .* from fairness.subscription_stats/s);
    expect(sent[0]).not.toMatch(/for update/);
    expect(await pendingPicks('lead-a')).toEqual([]);
    expect(await stats('a1')).toEqual({ lead: 'lead-a', at: at(10).toISOString(), day: '2026-12-03', dayCount: 4, month: '2026-12', monthCount: 10, provider: 'a1' });
    expect(await stats('a2')).toEqual({ lead: 'lead-a', at: at(11).toISOString(), day: '2026-12-03', dayCount: 1, month: '2026-12', monthCount: 1, provider: 'a2' });
    expect((await env.store.readStream(streams.lead('lead-a'))).map((e) => e.type)).toEqual(['ProvidersSelected', 'LeadAssigned', 'LeadAssigned']);
  });

  it('re-appending events already stored (an earlier attempt) writes nothing, counts nothing twice and brings no settled pick back', async () => {
    const pick = selected('lead-b', ['b1'], [20]);
    const assignment = assigned('lead-b', 'b1', 20);
    const w = writer('lead-b');
    w.add([pick]);
    await flushWriters(client, env.store, [w]);
    const afterPick = w.state;
    w.add([assignment]);
    await flushWriters(client, env.store, [w]);
    const counted = await stats('b1');
    expect(counted?.dayCount).toBe(1);

    // The assignment again, decided on the state before it was stored: a duplicate.
    const again = writer('lead-b', afterPick);
    again.add([assignment]);
    await flushWriters(client, env.store, [again]);
    expect(await stats('b1')).toEqual(counted);
    expect(again.hasPending).toBe(false);
    expect(again.state.version).toBe(1);

    // The pick again, from the start: its pending pick, settled since, does not come back.
    const first = writer('lead-b');
    first.add([pick]);
    await flushWriters(client, env.store, [first]);
    expect(await pendingPicks('lead-b')).toEqual([]);
    expect(first.state.version).toBe(1);
    expect((await env.store.readStream(streams.lead('lead-b'))).length).toBe(2);
  });

  it('a flush racing a concurrent writer of one of its lead streams writes nothing at all, side rows included', async () => {
    const ok = writer('lead-c');
    ok.add([selected('lead-c', ['c1'], [30]), assigned('lead-c', 'c2', 30)]);
    const raced = writer('lead-d');
    raced.add([selected('lead-d', ['d1'], [31])]);
    // Someone else writes lead-d's stream after our decisions were made on its empty state.
    await env.store.append(streams.lead('lead-d'), [{ id: randomUUID(), type: 'SomethingElse', data: {} }], 'no_stream');

    await expect(flushWriters(client, env.store, [ok, raced])).rejects.toBeInstanceOf(ConcurrencyError);
    expect(await env.store.readStream(streams.lead('lead-c'))).toEqual([]);
    expect((await env.store.readStream(streams.lead('lead-d'))).map((e) => e.type)).toEqual(['SomethingElse']);
    expect(await pendingPicks('lead-c')).toEqual([]);
    expect(await pendingPicks('lead-d')).toEqual([]);
    expect(await stats('c2')).toBeUndefined();
  });

  it('a stats row written between its read and the statement is counted on as written, not overwritten', async () => {
    const w = writer('lead-e');
    w.add([selected('lead-e', ['e1'], [40])]);
    await flushWriters(client, env.store, [w]);
    await env.db.pool.query(
      `insert into fairness.subscription_stats (subscription_id, provider_id, level_id, last_received_at, last_lead_id, day, day_count, month, month_count)
       values ('s-e1', 'e1', $1, $2, 'older-lead', '2026-12-03', 1, '2026-12', 1)`,
      [LEVEL, at(2)],
    );
    // Between flushWriters' read of the row and its statement, another write moves the row.
    after = {
      match: /from fairness.subscription_stats where/,
      run: async () => {
        await env.db.pool.query(`update fairness.subscription_stats set day_count = 7, month_count = 12, last_lead_id = 'other-lead', last_received_at = $1 where subscription_id = 's-e1'`, [at(3)]);
      },
    };
    w.add([assigned('lead-e', 'e1', 40)]);
    await flushWriters(client, env.store, [w]);
    expect(after).toBeUndefined();
    expect(await stats('e1')).toEqual({ lead: 'lead-e', at: at(40).toISOString(), day: '2026-12-03', dayCount: 8, month: '2026-12', monthCount: 13, provider: 'e1' });
    expect((await env.store.readStream(streams.lead('lead-e'))).map((e) => e.type)).toEqual(['ProvidersSelected', 'LeadAssigned']);
    expect(await storedState('lead-e')).toMatchObject({ version: 1 });
  });

  it('counts on the stats rows read with the served view: the assignments are one statement; rows written since are found out', async () => {
    await insertStats('f1', 2, 1);
    const w = writer('lead-f');
    w.add([selected('lead-f', ['f1', 'f2', 'f3'], [50, 51, 52])]);
    await flushWriters(client, env.store, [w]);
    const read = await statsRead(['f1', 'f2', 'f3']);
    w.add([assigned('lead-f', 'f1', 50), assigned('lead-f', 'f2', 51)]);
    sent = [];
    await flushWriters(client, env.store, [w], read);
    expect(sent).toHaveLength(1);
    expect(await stats('f1')).toMatchObject({ lead: 'lead-f', dayCount: 3, monthCount: 3 });
    expect(await stats('f2')).toMatchObject({ lead: 'lead-f', dayCount: 1, monthCount: 1 });

    // Read before f1's row moved and before f3's was written: both are counted on as they are now.
    const stale = await statsRead(['f1', 'f3']);
    await env.db.pool.query(`update fairness.subscription_stats set day_count = 20, month_count = 20 where subscription_id = 's-f1'`);
    await insertStats('f3', 5, 2);
    const g = writer('lead-g');
    g.add([assigned('lead-g', 'f1', 55)]);
    await flushWriters(client, env.store, [g], stale);
    expect(await stats('f1')).toMatchObject({ lead: 'lead-g', dayCount: 21, monthCount: 21 });
    w.add([assigned('lead-f', 'f3', 52)]);
    await flushWriters(client, env.store, [w], stale);
    expect(await stats('f3')).toMatchObject({ lead: 'lead-f', dayCount: 6, monthCount: 6 });
    expect(await pendingPicks('lead-f')).toEqual([]);
  });

  it('subscriptionsOfLevels gives the stats rows exactly as flushWriters reads them', async () => {
    await insertStats('h1', 4, 3);
    for (const p of ['h1', 'h2']) {
      await env.db.pool.query(
        `insert into fairness.subscriptions (subscription_id, provider_id, niche_id, level_id, postal_codes, states, daily_cap, monthly_cap, status, version)
         values ($1, $2, 'n1', 'lh', '{}', '{CA}', null, null, 'active', 0)`,
        [`s-${p}`, p],
      );
    }
    await env.db.pool.query(`update fairness.subscription_stats set level_id = 'lh' where subscription_id = 's-h1'`);
    const read: StatsRead = new Map();
    await subscriptionsOfLevels(env.db.pool, ['lh'], read);
    expect(read).toEqual(await statsRead(['h1', 'h2']));
    expect(read.get('s-h1')).toMatchObject({ day_count: 4, last_lead_id: 'older-lead', day: '2026-12-03' });
    expect(read.get('s-h2')).toBeNull();
  });

  it('sends the same statement text whatever the number of picks and assignments (one prepared statement per shape)', async () => {
    const texts = async (lead: string, providers: string[]) => {
      const w = writer(lead);
      w.add([selected(lead, providers, providers.map((_, i) => 60 + i))]);
      sent = [];
      await flushWriters(client, env.store, [w]);
      const picks = sent.at(-1);
      const read = await statsRead(providers);
      w.add(providers.map((p, i) => assigned(lead, p, 60 + i)));
      sent = [];
      await flushWriters(client, env.store, [w], read);
      expect(sent).toHaveLength(1);
      return [picks, sent[0]];
    };
    const one = await texts('lead-i', ['i1']);
    const three = await texts('lead-j', ['j1', 'j2', 'j3']);
    expect(three).toEqual(one);
  });
});
