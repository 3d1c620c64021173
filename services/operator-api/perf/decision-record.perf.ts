/**
 * Micro-benchmark of one lead's decision record (GET /api/v1/admin/leads/:id/decision-record)
 * against real PostgreSQL: a lead of three levels, each one round of 50 candidates and 10
 * exclusions (uuid subscription ids, so each ProvidersSelected is stored compressed and out of
 * line, as a real one is), its providers registered. The record is asked PERF_REQUESTS times
 * per round, one request at a time, in PERF_ROUNDS rounds, through the API in process
 * (app.inject: routing, auth, the queries, the response's serialisation), and, alternating
 * with those rounds, as many reads of the record alone (findDecisionRecord on the API's pool:
 * the statements and their assembly, where the log is read). Per record: the SQL statements
 * the process sends (by kind), the CPU of this node process (process.cpuUsage) and of this
 * database's PostgreSQL backends (/proc/<pid>/stat); medians of the rounds. Wall time is
 * printed but not the point: the machine is shared.
 *
 *   npx vitest run -c services/operator-api/perf/vitest.config.ts
 *   PERF_REQUESTS=1000 PERF_ROUNDS=7 npx vitest run -c services/operator-api/perf/vitest.config.ts
 * PERF_PROFILE=<file.cpuprofile> also writes a CPU profile of the measured requests (node:inspector).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { backendCpuDelta, backendCpuMs, median, recordStatements, startCpuProfile } from '@fairlead/testing/perf';
import { findDecisionRecord } from '../src/projections/decisions/decisions.queries';
import { startApiHarness, type ApiHarness } from '../src/testing/api-harness';
import { at, event } from '../src/testing/events';

const REQUESTS = Number(process.env.PERF_REQUESTS ?? 300);
const ROUNDS = Number(process.env.PERF_ROUNDS ?? 5);
const WARMUP = 50;
const LEAD = 'perf-lead';
const LEVELS = [1, 2, 3];

let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness('op_decision_record_perf');
  const providers = LEVELS.flatMap((n) => Array.from({ length: 60 }, (_, i) => `perf-p${n}-${i}`));
  for (const id of providers) await h.append(streams.provider(id), [event('ProviderRegistered', { provider_id: id, name: `Provider ${id}`, email: `${id}@example.com`, actor: SYSTEM_ACTOR })]);
  const traversal = LEVELS.map((n) => ({ level_id: `perf-l${n}`, name: `Level ${n}`, order_position: n, max_recipients: 2, price_per_lead_cents: 1_000 }));
  const rounds = LEVELS.map((n) => {
    const ids = providers.filter((p) => p.startsWith(`perf-p${n}-`));
    const candidates = ids.slice(0, 50).map((id, i) => ({ provider_id: id, subscription_id: randomUUID(), last_received_at: at(i) }));
    const excluded = ids.slice(50).map((id) => ({ provider_id: id, subscription_id: randomUUID(), reason: 'daily_cap' as const }));
    const picks = candidates.slice(0, 2).map((c) => ({ provider_id: c.provider_id, subscription_id: c.subscription_id, price_cents: 1_000 }));
    return event('ProvidersSelected', { lead_id: LEAD, level_id: `perf-l${n}`, order_position: n, round: 0, candidates, excluded, picks });
  });
  await h.appendAndProject(streams.lead(LEAD), [
    event('DistributionStarted', { lead_id: LEAD, niche_id: 'perf', request_id: randomUUID(), attempt: 1, start_order_position: 1, traversal, started_at: at(0) }),
    ...rounds,
  ]);
});
afterAll(async () => h?.close());

it(`reads a decision record of 3 rounds × 50 candidates: ${ROUNDS} rounds of ${REQUESTS} requests`, async () => {
  const token = await h.token(['viewer']);
  const url = `/api/v1/admin/leads/${LEAD}/decision-record`;
  const ask = async (requests: number) => {
    for (let i = 0; i < requests; i++) {
      const res = await h.api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      if (res.statusCode !== 200) throw new Error(`${res.statusCode}: ${res.body}`);
    }
  };
  const first = await h.api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  expect(first.json<{ levels: { rounds: { candidates: unknown[] }[] }[] }>().levels.map((l) => l.rounds[0]!.candidates.length)).toEqual([50, 50, 50]);
  await ask(WARMUP);
  // Every backend of the pool is open by now (a record's statements go out together).
  await Promise.all(Array.from({ length: 5 }, async () => h.db.pool.query('select 1')));

  const read = async (requests: number) => {
    for (let i = 0; i < requests; i++) if (!(await findDecisionRecord(h.db.pool, LEAD, h.store.schema))) throw new Error('no record');
  };
  await read(WARMUP);

  const profile = await startCpuProfile(process.env.PERF_PROFILE);
  const recorder = recordStatements();
  const ways = { route: ask, read } as const;
  const cost = Object.fromEntries(Object.keys(ways).map((w) => [w, { node: [] as number[], postgres: [] as number[], wall: [] as number[], counts: new Map<string, number>() }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [way, run] of Object.entries(ways)) {
      const c = cost[way]!;
      const pgBefore = await backendCpuMs(h.db.pool);
      const cpuBefore = process.cpuUsage();
      const t0 = performance.now();
      recorder.start();
      await run(REQUESTS);
      c.counts = recorder.stop();
      c.wall.push((performance.now() - t0) / REQUESTS);
      const cpu = process.cpuUsage(cpuBefore);
      c.node.push((cpu.user + cpu.system) / 1000 / REQUESTS);
      const pgMs = backendCpuDelta(pgBefore, await backendCpuMs(h.db.pool));
      if (pgMs !== undefined) c.postgres.push(pgMs / REQUESTS);
    }
  }
  recorder.restore();
  await profile.stop();

  const list = (xs: readonly number[]) => xs.map((x) => x.toFixed(3)).join(' ');
  const lines = [`decision record, 3 rounds × (50 candidates + 10 excluded): ${ROUNDS} rounds of ${REQUESTS} requests each way, one at a time`];
  for (const [way, c] of Object.entries(cost)) {
    const total = [...c.counts.values()].reduce((a, b) => a + b, 0);
    lines.push(
      `  ${way === 'route' ? 'GET through the route' : 'findDecisionRecord alone'}:`,
      `    statements: ${(total / REQUESTS).toFixed(2)} per record`,
      ...[...c.counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `      ${(n / REQUESTS).toFixed(2)}/record  ${k}`),
      `    node CPU: median ${median(c.node).toFixed(3)} ms per record (rounds: ${list(c.node)})`,
      `    PostgreSQL backends CPU: ${c.postgres.length ? `median ${median(c.postgres).toFixed(3)} ms per record (rounds: ${list(c.postgres)})` : 'n/a (/proc not readable)'}`,
      `    wall: median ${median(c.wall).toFixed(2)} ms per record (shared machine: indicative only)`,
    );
  }
  console.log(lines.join('\n'));
});
