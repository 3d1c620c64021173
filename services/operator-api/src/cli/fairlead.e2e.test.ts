/**
 * The `fairlead` CLI (its bin, cli/bin/fairlead.js) as a process against a real PostgreSQL and event store, with the
 * operator read models kept live by running projectors (as the API runs them).
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { createPostgresEventStore, type PostgresEventStore } from '@fairlead/event-store';
import { startProjector, type RunningProjector } from '@fairlead/projections';
import { createTestDatabase, waitFor, type TestDatabase } from '@fairlead/testing';
import { PROJECTIONS, SCHEMA } from '../projections/index';
import { at, event, level, partialDistribution } from '../testing/events';

const CLI = fileURLToPath(new URL('../../../../cli/bin/fairlead.js', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let db: TestDatabase;
let store: PostgresEventStore;
const projectors: RunningProjector[] = [];

function fairlead(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...db.serviceEnv('fairlead_operator_cli') }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const LIVE_TABLES = ['assignments', 'wallets', 'ledger', 'leads', 'audit_log'];
async function dump(schema: string): Promise<string> {
  const parts: Record<string, unknown> = {};
  for (const t of LIVE_TABLES) {
    const { rows } = await db.pool.query<Record<string, unknown>>(`select * from ${schema}.${t}`);
    parts[t] = rows.map((r) => JSON.stringify({ ...r, seq: undefined })).sort();
  }
  return JSON.stringify(parts);
}

const caughtUp = () => Promise.all(projectors.map((p) => p.waitUntilCaughtUp()));

/**
 * A one-level decision of an earlier lead, straight into the store: the pick (ranked first,
 * never served, ahead of `others`) and its assignment.
 */
async function servedEarlier(leadId: string, nicheId: string, position: number, provider: string, others: { provider_id: string; last_received_at: string | null }[], assignedAt: string) {
  const l = level(nicheId, position, 1, 1_000);
  const sub = (p: string) => `${p}-${l.level_id}`;
  await store.append(
    streams.lead(leadId),
    [
      event('ProvidersSelected', {
        lead_id: leadId,
        level_id: l.level_id,
        order_position: position,
        round: 0,
        candidates: [{ provider_id: provider, subscription_id: sub(provider), last_received_at: null }, ...others.map((o) => ({ ...o, subscription_id: sub(o.provider_id) }))],
        excluded: [],
        picks: [{ provider_id: provider, subscription_id: sub(provider), price_cents: 1_000 }],
      }),
      event('LeadAssigned', {
        assignment_id: `${leadId}-a`,
        lead_id: leadId,
        niche_id: nicheId,
        provider_id: provider,
        subscription_id: sub(provider),
        level_id: l.level_id,
        level_name: l.name,
        order_position: position,
        price_cents: 1_000,
        balance_after_cents: 9_000,
        assigned_at: assignedAt,
      }),
    ],
    'any',
  );
}

beforeAll(async () => {
  db = await createTestDatabase('cli_fairlead');
  db.pool.on('error', () => undefined);
  store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();
  for (const p of ['p1', 'p2', 'p3', 'p4']) {
    await store.append(streams.provider(p), [event('ProviderRegistered', { provider_id: p, name: `Provider ${p}`, email: `${p}@example.com`, actor: SYSTEM_ACTOR })], 'any');
    await store.append(streams.wallet(p), [event('WalletToppedUp', { provider_id: p, amount_cents: 10_000, balance_after_cents: 10_000, reference: 'initial', actor: SYSTEM_ACTOR })], 'any');
  }
  // The history the fixture's candidates were ranked on (the audit re-derives the order from the log):
  // p2 served in level 1 at -90, p1 in level 2 at -60, p4 in level 1 at -30.
  await servedEarlier('lead-0a', 'roofing', 1, 'p2', [], at(-90));
  await servedEarlier('lead-0b', 'roofing', 2, 'p1', [], at(-60));
  await servedEarlier('lead-0c', 'roofing', 1, 'p4', [{ provider_id: 'p2', last_received_at: at(-90) }], at(-30));
  for (const id of ['lead-1', 'lead-2', 'lead-3']) {
    const s = partialDistribution(id, 'roofing');
    await store.append(streams.niche('roofing'), [
      event('StartLevelClaimed', { niche_id: 'roofing', lead_id: id, start_order_position: 2, next_start_order_position: 1, traversal: [level('roofing', 2, 1, 2_500), level('roofing', 1, 1, 1_000)] }),
    ], 'any');
    await store.append(streams.lead(id), s.events, 'any');
    await store.append(streams.wallet('p1'), [event('WalletCharged', { provider_id: 'p1', lead_id: id, subscription_id: `p1-roofing-l2`, level_id: 'roofing-l2', amount_cents: 2_500, balance_after_cents: 7_500 })], 'any');
  }
  for (const projection of PROJECTIONS) projectors.push(await startProjector({ store, pool: db.pool, schema: SCHEMA, projection }));
  await caughtUp();
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(projectors.map((p) => p.stop()));
  await store?.close();
  await db?.drop();
});

describe('fairlead replay', () => {
  it('switches every read model over atomically while a reader keeps querying, and a second replay changes nothing', async () => {
    const before = await dump(SCHEMA);
    const expected = (await db.pool.query<{ n: string }>(`select count(*)::text as n from ${SCHEMA}.assignments`)).rows[0]!.n;
    let reading = true;
    let reads = 0;
    const failures: string[] = [];
    const reader = (async () => {
      while (reading) {
        try {
          const { rows } = await db.pool.query<{ n: string }>(`select count(*)::text as n from ${SCHEMA}.assignments`);
          if (rows[0]?.n !== expected) failures.push(`read ${rows[0]?.n} rows, expected ${expected}`);
          reads++;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    })();
    const first = await fairlead('replay', 'all');
    reading = false;
    await reader;
    expect(first.stderr + first.stdout).toMatch(/switched \d+ tables/);
    expect(first.code).toBe(0);
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(0);
    expect(await dump(SCHEMA)).toEqual(before);

    const second = await fairlead('replay', 'all');
    expect(second.code).toBe(0);
    expect(await dump(SCHEMA)).toEqual(before);
    const { rows } = await db.pool.query<{ n: string }>(`select count(*)::text as n from pg_namespace where nspname like '${SCHEMA}\\_%'`);
    expect(rows[0]!.n).toBe('0'); // no shadow or retired schema left behind
  }, 60_000);

  it('leaves the running projectors working on the new tables', async () => {
    const s = partialDistribution('lead-after', 'roofing');
    await store.append(streams.lead('lead-after'), s.events, 'any');
    await waitFor(async () => (await db.pool.query(`select 1 from ${SCHEMA}.assignments where lead_id = 'lead-after'`)).rowCount === 2, { what: 'the new lead in the switched read model' });
  }, 30_000);

  it('--until a position rebuilds the past state into a named schema without touching the live one', async () => {
    const refund = event('WalletRefunded', { provider_id: 'p1', lead_id: 'lead-1', amount_cents: 2_500, balance_after_cents: 10_000, reason: 'returned', actor: { actor_id: 'alice', actor_role: 'admin' } });
    const beforeRefund = await store.headCheckpoint();
    await store.append(streams.wallet('p1'), [refund], 'any');
    await caughtUp();
    const live = await dump(SCHEMA);
    const run = await fairlead('replay', 'all', '--until', beforeRefund!.globalPosition.toString(), '--into', 'audit_before_refund');
    expect(run.code, run.stderr).toBe(0);
    const past = await db.pool.query<{ status: string }>(`select status from audit_before_refund.assignments where lead_id = 'lead-1' and provider_id = 'p1'`);
    expect(past.rows.map((r) => r.status)).toEqual(['active']);
    const now = await db.pool.query<{ status: string }>(`select status from ${SCHEMA}.assignments where lead_id = 'lead-1' and provider_id = 'p1'`);
    expect(now.rows.map((r) => r.status)).toEqual(['refunded']);
    expect((await db.pool.query(`select balance_cents from audit_before_refund.wallets where provider_id = 'p1'`)).rows).toEqual([{ balance_cents: '7500' }]);
    expect(await dump(SCHEMA)).toEqual(live);
    expect((await fairlead('replay', 'all', '--until', '1', '--into', 'audit_before_refund')).code).toBe(1); // the schema exists already

    // The same past state by time: just before the refund was recorded.
    const refundAt = (await store.readStream(streams.wallet('p1'))).find((e) => e.id === refund.id)!.createdAt;
    const byTime = await fairlead('replay', 'wallets', '--until', new Date(refundAt.getTime() - 1).toISOString(), '--into', 'audit_by_time');
    expect(byTime.code, byTime.stderr).toBe(0);
    expect((await db.pool.query(`select balance_cents from audit_by_time.wallets where provider_id = 'p1'`)).rows).toEqual([{ balance_cents: '7500' }]);
  }, 60_000);
});

describe('fairlead verify', () => {
  it('finds nothing on a healthy read model and reports a corrupted row with a non-zero exit', async () => {
    const clean = await fairlead('verify');
    expect(clean.stdout).toMatch(/identical/);
    expect(clean.code).toBe(0);
    await db.pool.query(`update ${SCHEMA}.wallets set balance_cents = balance_cents + 1 where provider_id = 'p2'`);
    const dirty = await fairlead('verify');
    expect(dirty.code).toBe(1);
    expect(dirty.stdout).toMatch(/wallets: 1 rows only in the live read model, 1 only in the rebuilt one/);
    expect(dirty.stdout).toContain('"balance_cents":10001');

    // Replaying that one projection repairs it; the other read models are left as they are.
    const assignmentsBefore = await db.pool.query(`select assignment_id from ${SCHEMA}.assignments order by 1`);
    const repair = await fairlead('replay', 'wallets');
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/switched 2 tables \(ledger, wallets\)/);
    expect((await db.pool.query(`select balance_cents from ${SCHEMA}.wallets where provider_id = 'p2'`)).rows).toEqual([{ balance_cents: '10000' }]);
    expect((await db.pool.query(`select assignment_id from ${SCHEMA}.assignments order by 1`)).rows).toEqual(assignmentsBefore.rows);
    expect((await fairlead('verify')).code).toBe(0);
  }, 60_000);
});

describe('fairlead audit', () => {
  it("tells a lead's story with every round's candidates in LRU order and a re-derivable check", async () => {
    const run = await fairlead('audit', 'lead', 'lead-1', '--json');
    expect(run.code, run.stderr).toBe(0);
    const story = JSON.parse(run.stdout) as {
      lru_check: string;
      rounds: { level_id: string; round: number; candidates: { provider_id: string; last_received_at: string | null }[]; picks: { provider_id: string }[]; lru_check: string; outcomes: unknown[] }[];
      timeline: { type: string }[];
      charges: { type: string }[];
    };
    expect(story.lru_check).toBe('ok');
    expect(story.rounds.map((r) => [r.level_id, r.round, r.candidates.map((c) => c.provider_id), r.picks.map((p) => p.provider_id), r.lru_check])).toEqual([
      ['roofing-l2', 0, ['p3', 'p1'], ['p3'], 'ok'],
      ['roofing-l2', 1, ['p1'], ['p1'], 'ok'],
      ['roofing-l1', 0, ['p2', 'p4'], ['p2'], 'ok'],
    ]);
    expect(story.rounds[0]!.outcomes).toEqual([{ provider_id: 'p3', outcome: 'skipped', reason: 'insufficient_balance' }]);
    // The auditor's own check, from the output alone: picks are the head of the list, the list in LRU order.
    for (const r of story.rounds) {
      const times = r.candidates.map((c) => (c.last_received_at === null ? -Infinity : Date.parse(c.last_received_at)));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(r.picks.map((p) => p.provider_id)).toEqual(r.candidates.slice(0, r.picks.length).map((c) => c.provider_id));
    }
    expect(story.timeline.map((e) => e.type)).toContain('StartLevelClaimed');
    expect(story.timeline[0]!.type).toBe('StartLevelClaimed');
    expect(story.charges.map((e) => e.type)).toEqual(['WalletCharged', 'WalletRefunded']);

    const text = await fairlead('audit', 'lead', 'lead-1');
    expect(text.stdout).toMatch(/least-recently-served check \(re-derived from the log\): ok/);
  }, 30_000);

  it('flags a doctored decision: a pick that was not the least recently served', async () => {
    const l1 = level('roofing', 1, 1, 1_000);
    await store.append(streams.lead('lead-doctored'), [
      event('ProvidersSelected', {
        lead_id: 'lead-doctored',
        level_id: l1.level_id,
        order_position: 1,
        round: 0,
        candidates: [
          { provider_id: 'p2', subscription_id: 'p2-roofing-l1', last_received_at: at(-90) },
          { provider_id: 'p4', subscription_id: 'p4-roofing-l1', last_received_at: at(-30) },
        ],
        excluded: [],
        picks: [{ provider_id: 'p4', subscription_id: 'p4-roofing-l1', price_cents: 1_000 }],
      }),
    ], 'any');
    const run = await fairlead('audit', 'lead', 'lead-doctored', '--json');
    expect(run.code).toBe(1);
    const story = JSON.parse(run.stdout) as { lru_check: string; rounds: { violations: string[] }[] };
    expect(story.lru_check).toBe('violated');
    expect(story.rounds[0]!.violations.join()).toMatch(/least recently served eligible candidate left was p2/);
    expect((await fairlead('audit', 'lead', 'nobody')).code).toBe(1);
  }, 30_000);

  it('re-derives the order from the log: a pick whose record agrees with itself but not with the history is reported, the right one is ok', async () => {
    // x is served first (lead-h1), then y (lead-h2): the next lead must go to x.
    await servedEarlier('lead-h1', 'hist', 1, 'x', [{ provider_id: 'y', last_received_at: null }], at(10));
    await servedEarlier('lead-h2', 'hist', 1, 'y', [{ provider_id: 'x', last_received_at: at(10) }], at(11));
    // The restart bug's trace: y recorded as never served, so it ranked first and was chosen — consistent with its own record.
    await servedEarlier('lead-wrong', 'hist', 1, 'y', [{ provider_id: 'x', last_received_at: at(10) }], at(12));
    // Then the right choice by the history (x served at lead-h1, y at lead-wrong since).
    await store.append(
      streams.lead('lead-right'),
      [
        event('ProvidersSelected', {
          lead_id: 'lead-right',
          level_id: 'hist-l1',
          order_position: 1,
          round: 0,
          candidates: [
            { provider_id: 'x', subscription_id: 'x-hist-l1', last_received_at: at(10) },
            { provider_id: 'y', subscription_id: 'y-hist-l1', last_received_at: at(12) },
          ],
          excluded: [],
          picks: [{ provider_id: 'x', subscription_id: 'x-hist-l1', price_cents: 1_000 }],
        }),
      ],
      'any',
    );

    const wrong = await fairlead('audit', 'lead', 'lead-wrong', '--json');
    expect(wrong.code, wrong.stderr).toBe(1);
    const story = JSON.parse(wrong.stdout) as { lru_check: string; rounds: { violations: string[]; derived_order: { provider_id: string; last_served: { lead_id: string } | null }[] }[] };
    expect(story.lru_check).toBe('violated');
    expect(story.rounds[0]!.derived_order.map((c) => [c.provider_id, c.last_served?.lead_id ?? null])).toEqual([
      ['x', 'lead-h1'],
      ['y', 'lead-h2'],
    ]);
    expect(story.rounds[0]!.violations).toEqual(
      expect.arrayContaining([
        'pick 1 is y, but the least recently served eligible candidate left by the log was x',
        expect.stringMatching(/^y is recorded as never served, but the log shows it served for lead lead-h2/),
      ]),
    );
    const text = await fairlead('audit', 'lead', 'lead-wrong');
    expect(text.stdout).toMatch(/order by the log: x \(lead lead-h1 #\d+\), y \(lead lead-h2 #\d+\)/);

    const right = await fairlead('audit', 'lead', 'lead-right', '--json');
    expect(right.code, right.stdout).toBe(0);
    expect((JSON.parse(right.stdout) as { lru_check: string }).lru_check).toBe('ok');
  }, 60_000);

  it('exports a range of the log as JSON lines, in order', async () => {
    const all = await store.readAll({ transactionId: 0n, globalPosition: 0n }, 10_000);
    const from = all.events[3]!;
    const to = all.events[12]!;
    const run = await fairlead('audit', 'export', '--from', from.globalPosition.toString(), '--to', to.globalPosition.toString());
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; global_position: string });
    expect(lines.map((l) => l.id)).toEqual(all.events.slice(3, 13).map((e) => e.id));
    expect(run.stderr).toMatch(/exported 10 events/);
  }, 30_000);

  it('rejects bad arguments with exit code 2', async () => {
    const run = await fairlead('replay', 'all', '--until', 'yesterday', '--into', 'x');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/not a global position or an ISO time/);
    expect((await fairlead('replay', 'nonsense')).code).toBe(2);
  }, 30_000);

  it('events tail follows new events of a stream live, and stops on SIGINT', async () => {
    const child = spawn(process.execPath, [CLI, 'events', 'tail', '--stream', 'lead-lead-tailed'], { env: { ...process.env, ...db.serviceEnv('fairlead_operator_cli') } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => stderr.includes('following lead-lead-tailed'), { what: 'the tail to start' });
      await store.append(streams.lead('lead-other'), partialDistribution('lead-other', 'roofing').events.slice(0, 1), 'any');
      await store.append(streams.lead('lead-tailed'), partialDistribution('lead-tailed', 'roofing').events.slice(0, 2), 'any');
      await waitFor(() => stdout.trim().split('\n').length === 2, { what: 'two tailed events' });
      const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { stream: string; type: string });
      expect(lines.map((l) => [l.stream, l.type])).toEqual([
        ['lead-lead-tailed', 'LeadApproved'],
        ['lead-lead-tailed', 'DistributionRequested'],
      ]);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 30_000);
});
