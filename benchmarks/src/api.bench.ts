/**
 * `npm run bench:api` — the operator API's read side under load. Loads 1,000,000
 * assignments (250,000 leads, 2,000 providers) into the projection tables, starts the
 * API in this process on a real port, and drives it with autocannon at a fixed
 * 200 requests/s: the distribution-status endpoint (a random lead each request), the assignments list
 * (first page, and the deepest page reached by walking the cursor through all 1,000,000
 * rows), and the per-lead assignments page (page/limit). Prints a table and, last, one
 * line of JSON. Goal: p99 ≤ 20 ms at 200 req/s, the deepest page as fast as the first.
 *
 * BENCH_ASSIGNMENTS (default 1000000), BENCH_DURATION_S (default 15) and BENCH_RATE
 * (default 200) change the run; DATABASE_URL / NATS_URL use existing servers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { subjectsFor } from '@fairlead/contracts';
import { createPostgresEventStore } from '@fairlead/event-store';
import { freePort, startNatsServer, type RunningNats } from '@fairlead/local-servers';
import { connectNats, drainAndClose } from '@fairlead/messaging';
import { mintToken, startOperatorApi } from '@fairlead/operator-api';
import { loadReadModels } from './api/load-data';
import { runLoad, type LoadResult } from './api/load-test';
import { openBenchDatabase } from './store/database';

const ASSIGNMENTS = Number(process.env.BENCH_ASSIGNMENTS ?? 1_000_000);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 15);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const PER_LEAD = 4;
const PROVIDERS = 2_000;
const LEADS = Math.ceil(ASSIGNMENTS / PER_LEAD);
const SECRET = 'bench-secret-bench-secret-bench-secret-0123';
const log = (line: string) => process.stderr.write(`bench:api | ${line}\n`);

const database = await openBenchDatabase();
let nats: RunningNats | undefined;
let natsDir: string | undefined;
const results: LoadResult[] = [];
const serial = new Map<string, number>();
const walk = { pages: 0, rows: 0, ms: 0 };
let loadMs = 0;
try {
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    natsDir = await mkdtemp(join(tmpdir(), 'fairlead-bench-nats-'));
    nats = await startNatsServer({ port: await freePort(), storeDir: natsDir });
    natsUrl = nats.url;
  }
  const pool = new pg.Pool({ connectionString: database.url, max: 10 });
  const store = createPostgresEventStore({ pool });
  await store.migrate();
  const nc = await connectNats({ servers: natsUrl, name: 'bench-api' });
  const api = await startOperatorApi({
    pool,
    store,
    nc,
    subjects: subjectsFor(`bench_${process.pid}`),
    logger: pino({ level: 'warn' }),
    auth: { secret: SECRET, issuer: 'fairlead', audience: 'fairlead-operator-api' },
    config: { rateLimitMax: 10_000_000 },
  });

  const loadStarted = Date.now();
  log(`loading ${ASSIGNMENTS.toLocaleString('en-US')} assignments, ${LEADS.toLocaleString('en-US')} leads, ${PROVIDERS} providers…`);
  await loadReadModels(pool, { assignments: ASSIGNMENTS, perLead: PER_LEAD, providers: PROVIDERS }, log);
  loadMs = Date.now() - loadStarted;

  const base = await api.listen({ host: '127.0.0.1', port: 0 });
  const token = await mintToken({ secret: SECRET, issuer: 'fairlead', audience: 'fairlead-operator-api', sub: 'bench', roles: ['viewer'], mfa: false, ttlSec: 3600 });
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  // The deepest page is reached the way a client would: by following next_cursor to the end.
  log('walking the assignments list to its last page by cursor…');
  const walkStarted = Date.now();
  let cursor: string | null = null;
  let deepest = '';
  const seen = new Set<string>();
  for (;;) {
    const path: string = `/api/v1/admin/assignments?limit=200${cursor ? `&cursor=${cursor}` : ''}`;
    const page: { items: { assignment_id: string }[]; next_cursor: string | null } = await get(path);
    walk.pages++;
    walk.rows += page.items.length;
    for (const item of page.items) seen.add(item.assignment_id);
    if (!page.next_cursor) break;
    if (walk.rows >= ASSIGNMENTS - 200) deepest = page.next_cursor;
    cursor = page.next_cursor;
  }
  walk.ms = Date.now() - walkStarted;
  if (seen.size !== ASSIGNMENTS) throw new Error(`the cursor walk saw ${seen.size} distinct assignments, expected ${ASSIGNMENTS}`);
  // From the cursor before the last 200 rows, pages of 50 down to the very last one.
  let deepCursor = deepest;
  for (;;) {
    const page: { next_cursor: string | null } = await get(`/api/v1/admin/assignments?limit=50&cursor=${deepCursor}`);
    if (!page.next_cursor) break;
    deepCursor = page.next_cursor;
  }
  const lastPage: { items: { assignment_id: string }[]; next_cursor: string | null } = await get(`/api/v1/admin/assignments?limit=50&cursor=${deepCursor}`);
  if (lastPage.next_cursor !== null || !lastPage.items.some((a) => a.assignment_id === 'a-1')) throw new Error('the deep cursor does not reach the last page');

  const scenarios = [
    { name: 'status', path: '/api/v1/admin/leads/lead-{lead}/distribution-status' },
    { name: 'assignments_first', path: '/api/v1/admin/assignments?limit=50' },
    { name: 'assignments_deepest', path: `/api/v1/admin/assignments?limit=50&cursor=${deepCursor}` },
    { name: 'lead_assignments', path: '/api/v1/admin/leads/lead-{lead}/assignments?page=1&limit=50' },
    // No database, no token check: the floor this machine gives any request at this rate right now.
    { name: 'healthz_floor', path: '/healthz' },
  ];
  // One request at a time: the service time of each endpoint, which machine contention
  // inflates far less at the median than it does the p99 of a concurrent load.
  log('serial service times…');
  for (const s of scenarios) {
    const times: number[] = [];
    for (let i = 0; i < 1_000; i++) {
      const path = s.path.replace('{lead}', String(1 + Math.floor(Math.random() * LEADS)));
      const started = performance.now();
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    serial.set(s.name, times[Math.floor(times.length / 2)]!);
  }
  log('warming up…');
  for (const s of scenarios) await runLoad({ ...s, leads: LEADS, url: base, token, rate: RATE, durationSec: 2 });
  for (const s of scenarios) {
    log(`${s.name}: ${RATE} req/s for ${DURATION_S} s…`);
    results.push(await runLoad({ ...s, leads: LEADS, url: base, token, rate: RATE, durationSec: DURATION_S }));
  }

  await api.stop();
  await drainAndClose(nc);
  await store.close();
  await pool.end();
} finally {
  await database.dispose();
  await nats?.stop();
  if (natsDir) await rm(natsDir, { recursive: true, force: true });
}

const row = (name: string) => results.find((r) => r.name === name)!;
const [status, first, deep, lead] = ['status', 'assignments_first', 'assignments_deepest', 'lead_assignments'].map(row) as [LoadResult, LoadResult, LoadResult, LoadResult];
const ms = (v: number) => v.toFixed(1).padStart(8);

console.log(`\nbench:api — ${database.origin}; ${ASSIGNMENTS.toLocaleString('en-US')} assignments, ${LEADS.toLocaleString('en-US')} leads loaded in ${(loadMs / 1000).toFixed(1)} s`);
console.log(`cursor walk of the whole list: ${walk.pages} pages of 200, ${walk.rows.toLocaleString('en-US')} rows, each once, in ${(walk.ms / 1000).toFixed(1)} s (${(walk.ms / walk.pages).toFixed(2)} ms/page)`);
console.log(`fixed rate ${RATE} req/s, ${DURATION_S} s each, 10 connections, latency corrected for coordinated omission\n`);
console.log(`${'endpoint'.padEnd(22)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'non-2xx'.padStart(8)} ${'errors'.padStart(7)} ${'serial p50 ms'.padStart(14)}`);
for (const r of results) {
  const alone = serial.get(r.name);
  console.log(
    `${r.name.padEnd(22)} ${r.rps.toFixed(1).padStart(8)} ${ms(r.p50)} ${ms(r.p99)} ${ms(r.max)} ${String(r.non2xx).padStart(8)} ${String(r.errors).padStart(7)} ${(alone === undefined ? 'n/a' : alone.toFixed(2)).padStart(14)}`,
  );
}
console.log('serial p50: median of 1,000 requests sent one at a time (client round trip included)');
console.log(`machine load average (1, 5, 15 min) at the end: ${loadavg().map((l) => l.toFixed(2)).join(', ')} on ${cpus().length} cores`);
console.log(`\ngoal: p99 ≤ 20 ms at ${RATE} req/s; deepest page p99 / first page p99 = ${(deep.p99 / Math.max(first.p99, 0.001)).toFixed(2)} (keyset: ≈ 1)`);
console.log(
  JSON.stringify({
    bench: 'api',
    status_rps: Math.round(status.rps),
    status_p99_ms: status.p99,
    assignments_rps: Math.round(Math.min(first.rps, deep.rps)),
    assignments_p99_ms: Math.max(first.p99, deep.p99),
    assignments_first_p99_ms: first.p99,
    assignments_deepest_p99_ms: deep.p99,
    lead_assignments_p99_ms: lead.p99,
    healthz_floor_p99_ms: row('healthz_floor').p99,
    status_serial_p50_ms: Number((serial.get('status') ?? 0).toFixed(2)),
    assignments_deepest_serial_p50_ms: Number((serial.get('assignments_deepest') ?? 0).toFixed(2)),
    rate: RATE,
    assignments: ASSIGNMENTS,
  }),
);
