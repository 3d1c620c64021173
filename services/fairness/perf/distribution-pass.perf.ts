/**
 * Micro-benchmark of a distribution pass (distributeBatch) against real PostgreSQL and NATS
 * (stand-in rotation and billing responders): per lead, the SQL statements fairness sends
 * (counted on pg.Client.prototype.query, so every round trip to PostgreSQL, by kind), the
 * CPU of this node process (process.cpuUsage) and of this database's PostgreSQL backends
 * (/proc/<pid>/stat of every backend, when readable). Wall time is printed but not the
 * point: the machine is shared.
 *
 *   npx vitest run -c services/fairness/perf/vitest.config.ts
 *   PERF_LEADS=300 PERF_BATCH=3 npx vitest run -c services/fairness/perf/vitest.config.ts
 * PERF_ALLOW_TRANSACTIONS=1 measures code older than the one-statement flush (it fails otherwise).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DistributionEventData } from '@fairlead/contracts';
import { backendCpuDelta, backendCpuMs, recordStatements } from '@fairlead/testing/perf';
import { distributeBatch, type DistributeLeadDeps, type DistributeLeadInput } from '../src/application/distribute-batch';
import type { FairnessService } from '../src/service';
import { level, startHarness, type Harness } from '../src/testing/harness';

const LEADS = Number(process.env.PERF_LEADS ?? 200);
const BATCH = Number(process.env.PERF_BATCH ?? 2);
const WARMUP = 10;

let h: Harness;
let service: FairnessService;
let deps: DistributeLeadDeps;

beforeAll(async () => {
  h = await startHarness('fairness_perf', { relay: false });
  service = await h.startService();
  deps = h.distributeDeps();
});
afterAll(async () => h?.close());

it(`distributes ${LEADS} leads in batches of ${BATCH}`, async () => {
  const niche = 'perf';
  await h.seedNiche(niche, [level(niche, 1, 2, 100), level(niche, 2, 1, 50)]);
  for (let p = 0; p < 8; p++) {
    const provider = `${niche}-p${p}`;
    h.billing.fund(provider, 1_000_000_000);
    await h.subscribe({ provider_id: provider, niche_id: niche, level_id: `${niche}-l${(p % 2) + 1}` });
  }
  await service.caughtUp();
  // Only the passes measured talk to PostgreSQL from here on.
  await service.stop();
  const inputs: DistributeLeadInput[] = [];
  for (let i = 0; i < WARMUP + LEADS; i++) {
    const leadId = `${niche}-lead-${i}`;
    const requestId = await h.approveLead(leadId, niche);
    inputs.push({ request: { lead_id: leadId, niche_id: niche, request_id: requestId, requested_by: { kind: 'system' }, requested_at: new Date().toISOString() } as unknown as DistributionEventData<'DistributionRequested'>, attempt: 1 });
  }
  const requested = await h.store.readStreams(inputs.map((i) => `lead-${i.request.lead_id}`));
  for (const input of inputs) {
    const e = requested.get(`lead-${input.request.lead_id}`)!.find((x) => x.type === 'DistributionRequested')!;
    input.request = e.data as DistributionEventData<'DistributionRequested'>;
  }
  const run = async (slice: DistributeLeadInput[]) => {
    for (let i = 0; i < slice.length; i += BATCH) {
      const results = await distributeBatch(deps, niche, slice.slice(i, i + BATCH));
      expect(results.every((r) => r.ok)).toBe(true);
    }
  };
  await run(inputs.slice(0, WARMUP));

  const recorder = recordStatements();
  const pgBefore = await backendCpuMs(h.db.pool);
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  recorder.start();
  await run(inputs.slice(WARMUP));
  const counts = recorder.stop();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpuBefore);
  const pgMs = backendCpuDelta(pgBefore, await backendCpuMs(h.db.pool));
  recorder.restore();

  const passes = Math.ceil(LEADS / BATCH);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const lines = [
    `fairness distribution pass: ${LEADS} leads in batches of ${BATCH} (${passes} distributeBatch calls)`,
    `  statements: ${total} = ${(total / passes).toFixed(2)} per call, ${(total / LEADS).toFixed(2)} per lead`,
    ...[...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `    ${(n / LEADS).toFixed(2)}/lead  ${k}`),
    `  node CPU: ${((cpu.user + cpu.system) / 1000 / LEADS).toFixed(2)} ms per lead (user ${(cpu.user / 1000 / LEADS).toFixed(2)}, system ${(cpu.system / 1000 / LEADS).toFixed(2)})`,
    `  PostgreSQL backends CPU: ${pgMs === undefined ? 'n/a (/proc not readable)' : `${(pgMs / LEADS).toFixed(2)} ms per lead`}`,
    `  wall: ${(wall / LEADS).toFixed(2)} ms per lead (shared machine: indicative only)`,
  ];
  console.log(lines.join('\n'));
  // Every flush took the one-statement path (the transactional one would show BEGIN).
  expect(process.env.PERF_ALLOW_TRANSACTIONS === '1' || !counts.has('begin')).toBe(true);
});
