/**
 * Micro-benchmark of billing's `charge_batch` (WalletCommands.chargeBatch, as the NATS
 * handler calls it) against real PostgreSQL: requests one after another, each the charges
 * of PERF_BATCH leads over PERF_PICKS providers (as fairness sends a pass's picks, stopping
 * at the first decline), on wallets with priced subscriptions. Both ways of writing a batch
 * are measured in one sitting, in alternating rounds (WalletLedger's batchInTwoStatements
 * true and false, on the test database's pool): per request, the SQL statements billing
 * sends (counted on pg.Client.prototype.query: every round trip to PostgreSQL, by kind), the
 * CPU of this node process (process.cpuUsage) and of this database's PostgreSQL backends
 * (/proc/<pid>/stat). Wall time is printed but not the point: the machine is shared.
 * PERF_REPEAT=1 sends every request twice (the second is answered from the records).
 *
 *   npx vitest run -c services/billing/perf/vitest.config.ts
 *   PERF_REQUESTS=600 PERF_BATCH=2 PERF_PICKS=2 npx vitest run -c services/billing/perf/vitest.config.ts
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { backendCpuDelta, backendCpuMs, recordStatements } from '@fairlead/testing/perf';
import { createWalletCommands, type WalletCommands } from '../src/application/wallet-commands';
import { WalletLedger } from '../src/application/wallet-ledger';
import type { BillingService } from '../src/service';
import { startBillingHarness, type BillingHarness } from '../src/testing/harness';

const REQUESTS = Number(process.env.PERF_REQUESTS ?? 400);
const BATCH = Number(process.env.PERF_BATCH ?? 1);
const PICKS = Number(process.env.PERF_PICKS ?? 2);
const REPEAT = process.env.PERF_REPEAT === '1';
/** Rounds per way of writing (REQUESTS are split among them). */
const ROUNDS = Number(process.env.PERF_ROUNDS ?? 4);
const PROVIDERS = 8;
const WARMUP = 20;

let h: BillingHarness;
let billing: BillingService;

beforeAll(async () => {
  h = await startBillingHarness('billing_perf');
  billing = await h.start();
});
afterAll(async () => h?.close());

it(`charge_batch: ${REQUESTS} requests of ${BATCH} lead(s) × ${PICKS} pick(s)`, async () => {
  await h.seedLevels('n', [
    { level_id: 'l1', price: 100 },
    { level_id: 'l2', price: 50 },
  ]);
  const providers = Array.from({ length: PROVIDERS }, (_, p) => `perf-p${p}`);
  for (const [p, provider] of providers.entries()) {
    await h.command('register_provider', { provider_id: provider, name: provider, email: `${provider}@perf.test` });
    await h.command('top_up', { provider_id: provider, amount_cents: 1_000_000 });
    await h.seedSubscription(`${provider}-s`, provider, `l${(p % 2) + 1}`);
  }
  await billing.caughtUp();

  const ways: { name: string; wallets: WalletCommands }[] = [true, false].map((two) => ({
    name: two ? 'two statements (read, then append + write_charge_batch)' : 'transactional (BEGIN, lock, read, append, rows, COMMIT)',
    wallets: createWalletCommands({ pool: h.db.pool, ledger: new WalletLedger({ pool: h.db.pool, store: h.store, batchInTwoStatements: two }), providers: billing.providers }),
  }));

  let lead = 0;
  const request = () => {
    const charges = [];
    for (let l = 0; l < BATCH; l++, lead++) {
      for (let k = 0; k < PICKS; k++) {
        const p = (lead + k) % PROVIDERS;
        charges.push({ lead_id: `perf-lead-${lead}`, provider_id: providers[p]!, subscription_id: `${providers[p]}-s`, level_id: `l${(p % 2) + 1}`, amount_cents: p % 2 === 0 ? 100 : 50 });
      }
    }
    return { charges, stop_at_first_decline: true };
  };
  const run = async (wallets: WalletCommands, n: number) => {
    for (let i = 0; i < n; i++) {
      const r = request();
      const reply = await wallets.chargeBatch(r);
      expect(reply.results.every((x) => 'charged' in x && x.charged)).toBe(true);
      if (REPEAT) expect(await wallets.chargeBatch(r)).toEqual(reply);
    }
  };
  for (const way of ways) await run(way.wallets, WARMUP);

  const recorder = recordStatements();
  const totals = ways.map(() => ({ node: { user: 0, system: 0 }, pg: 0 as number | undefined, wall: 0, counts: new Map<string, number>() }));
  const perRound = Math.ceil(REQUESTS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, way] of ways.entries()) {
      const t = totals[i]!;
      const pgBefore = await backendCpuMs(h.db.pool);
      const cpuBefore = process.cpuUsage();
      const t0 = performance.now();
      recorder.start();
      await run(way.wallets, perRound);
      const counts = recorder.stop();
      t.wall += performance.now() - t0;
      const cpu = process.cpuUsage(cpuBefore);
      const pgMs = backendCpuDelta(pgBefore, await backendCpuMs(h.db.pool));
      t.node.user += cpu.user;
      t.node.system += cpu.system;
      t.pg = t.pg === undefined || pgMs === undefined ? undefined : t.pg + pgMs;
      for (const [k, n] of counts) t.counts.set(k, (t.counts.get(k) ?? 0) + n);
    }
  }
  recorder.restore();

  const calls = perRound * ROUNDS * (REPEAT ? 2 : 1);
  const lines = [`billing charge_batch: ${perRound * ROUNDS} requests of ${BATCH} lead(s) × ${PICKS} pick(s)${REPEAT ? ', each sent twice' : ''}, per way, in ${ROUNDS} alternating rounds`];
  ways.forEach((way, i) => {
    const t = totals[i]!;
    const total = [...t.counts.values()].reduce((a, b) => a + b, 0);
    lines.push(
      `${way.name}:`,
      `  statements: ${(total / calls).toFixed(2)} per call`,
      ...[...t.counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `    ${(n / calls).toFixed(2)}/call  ${k}`),
      `  node CPU: ${((t.node.user + t.node.system) / 1000 / calls).toFixed(3)} ms per call (user ${(t.node.user / 1000 / calls).toFixed(3)}, system ${(t.node.system / 1000 / calls).toFixed(3)})`,
      `  PostgreSQL backends CPU: ${t.pg === undefined ? 'n/a (/proc not readable)' : `${(t.pg / calls).toFixed(3)} ms per call`}`,
      `  wall: ${(t.wall / calls).toFixed(2)} ms per call (shared machine: indicative only)`,
    );
  });
  console.log(lines.join('\n'));
});
