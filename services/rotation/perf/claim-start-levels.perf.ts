/**
 * Micro-benchmark of rotation's claim_start_levels (what fairness asks for every batch of
 * leads) against real PostgreSQL: requests of PERF_BATCH new leads of one niche, one after
 * another, through the service's command handler (in process: NATS is not what is measured).
 * Per request: the SQL statements the service sends (counted on pg.Client.prototype.query,
 * so every round trip to PostgreSQL, by kind), the CPU of this node process
 * (process.cpuUsage) and of this database's PostgreSQL backends (/proc/<pid>/stat). Wall
 * time is printed but not the point: the machine is shared.
 *
 *   npx vitest run -c services/rotation/perf/vitest.config.ts
 *   PERF_REQUESTS=1000 PERF_BATCH=2 npx vitest run -c services/rotation/perf/vitest.config.ts
 * PERF_PROFILE=<file.cpuprofile> also writes a CPU profile of the measured requests (node:inspector).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { backendCpuDelta, backendCpuMs, recordStatements, startCpuProfile } from '@fairlead/testing/perf';
import { startRotationHarness, type Instance, type RotationHarness } from '../src/testing/harness';

const REQUESTS = Number(process.env.PERF_REQUESTS ?? 600);
const BATCH = Number(process.env.PERF_BATCH ?? 1);
const WARMUP = 20;

let h: RotationHarness;
let instance: Instance;

beforeAll(async () => {
  h = await startRotationHarness('rotation_perf');
  instance = await h.start();
});
afterAll(async () => h?.close());

it(`claims start levels: ${REQUESTS} requests of ${BATCH} lead(s)`, async () => {
  const niche = 'perf';
  await h.command('create_niche', { niche_id: niche, name: niche });
  for (const n of [1, 2, 3]) {
    await h.command('add_level', { niche_id: niche, level_id: `${niche}-l${n}`, name: `L${n}`, order_position: n, max_recipients: 1, price_per_lead_cents: 100 });
  }
  const claim = instance.service.commands.claimStartLevels;
  let next = 0;
  const run = async (requests: number) => {
    for (let r = 0; r < requests; r++) {
      const lead_ids = Array.from({ length: BATCH }, () => `lead-${next++}`);
      const reply = await claim({ niche_id: niche, lead_ids });
      expect(reply.claims.every((c) => 'start_order_position' in c)).toBe(true);
    }
  };
  await run(WARMUP);
  // Every backend of the instance's pool is open by now (one request at a time uses few).
  await Promise.all(Array.from({ length: 3 }, async () => instance.pool.query('select 1')));

  const profile = await startCpuProfile(process.env.PERF_PROFILE);
  const recorder = recordStatements();
  const pgBefore = await backendCpuMs(h.db.pool);
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  recorder.start();
  await run(REQUESTS);
  const counts = recorder.stop();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpuBefore);
  const pgMs = backendCpuDelta(pgBefore, await backendCpuMs(h.db.pool));
  recorder.restore();
  await profile.stop();

  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const leads = REQUESTS * BATCH;
  const lines = [
    `rotation claim_start_levels: ${REQUESTS} requests of ${BATCH} new lead(s), one niche, one at a time`,
    `  statements: ${total} = ${(total / REQUESTS).toFixed(2)} per request, ${(total / leads).toFixed(2)} per lead`,
    ...[...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `    ${(n / REQUESTS).toFixed(2)}/request  ${k}`),
    `  node CPU: ${((cpu.user + cpu.system) / 1000 / REQUESTS).toFixed(3)} ms per request (user ${(cpu.user / 1000 / REQUESTS).toFixed(3)}, system ${(cpu.system / 1000 / REQUESTS).toFixed(3)})`,
    `  PostgreSQL backends CPU: ${pgMs === undefined ? 'n/a (/proc not readable)' : `${(pgMs / REQUESTS).toFixed(3)} ms per request`}`,
    `  wall: ${(wall / REQUESTS).toFixed(2)} ms per request (shared machine: indicative only)`,
  ];
  console.log(lines.join('\n'));
  // Every lead was claimed once, in rotation order.
  const claimed = (await h.store.readStream(`niche-${niche}`)).filter((e) => e.type === 'StartLevelClaimed');
  expect(claimed).toHaveLength(next);
});
