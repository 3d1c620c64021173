/**
 * `npm run bench:replay`: rebuild the operator API's assignments and wallet read models
 * from a generated history of REPLAY_EVENTS (default 1,000,000) distribution events,
 * with batched writes and one checkpoint per batch. Prints a table; the last line is JSON
 * {"bench":"replay","events_per_s":…}. DATABASE_URL points it at an existing server;
 * otherwise it starts an embedded PostgreSQL of its own.
 */
import pg from 'pg';
import { z } from 'zod';
import { createPostgresEventStore } from '@fairlead/event-store';
import { PROJECTIONS, rebuild } from '@fairlead/operator-api';
import { generateHistory } from './replay/generate';
import { openBenchDatabase } from './store/database';

const env = z
  .object({
    REPLAY_EVENTS: z.coerce.number().int().positive().default(1_000_000),
    REPLAY_BATCH: z.coerce.number().int().positive().default(5_000),
    REPLAY_PROVIDERS: z.coerce.number().int().positive().default(2_000),
  })
  .parse(process.env);

const log = (line: string) => process.stderr.write(`${line}\n`);
const database = await openBenchDatabase();
const pool = new pg.Pool({ connectionString: database.url, max: 4 });
const store = createPostgresEventStore({ pool });
try {
  await store.migrate();
  log(`generating ${env.REPLAY_EVENTS} events (${database.origin})…`);
  const loadStarted = performance.now();
  let lastLog = 0;
  const generated = await generateHistory(pool, store.schema, {
    events: env.REPLAY_EVENTS,
    providers: env.REPLAY_PROVIDERS,
    niches: 50,
    batch: 5_000,
    onProgress: (n) => {
      if (performance.now() - lastLog > 5_000) {
        lastLog = performance.now();
        log(`  ${n} events written`);
      }
    },
  });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  await pool.query('vacuum analyze eventstore.events');

  const projections = PROJECTIONS.filter((p) => p.name === 'operator.assignments' || p.name === 'operator.wallets');
  log('rebuilding operator.assignments and operator.wallets…');
  let lastProgress = 0;
  const started = performance.now();
  const result = await rebuild({
    store,
    pool,
    schema: 'operator',
    projections,
    batchSize: env.REPLAY_BATCH,
    onProgress: (p) => {
      if (performance.now() - lastProgress > 5_000) {
        lastProgress = performance.now();
        log(`  ${p.events} events, ${Math.round(p.events / ((performance.now() - started) / 1000))}/s`);
      }
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const rows = async (table: string) => Number((await pool.query<{ n: string }>(`select count(*)::text as n from operator.${table}`)).rows[0]!.n);
  const eventsPerSecond = Math.round(result.events / seconds);
  const table: [string, string][] = [
    ['events in the store', String(generated.events)],
    ['leads', String(generated.leads)],
    ['mix', [...generated.counts].map(([t, n]) => `${t} ${n}`).join(', ')],
    ['load (append_batch)', `${loadSeconds.toFixed(1)} s, ${Math.round(generated.events / loadSeconds)} events/s`],
    ['events replayed', String(result.events)],
    ['batch size (events per transaction and checkpoint)', String(env.REPLAY_BATCH)],
    ['replay time', `${seconds.toFixed(1)} s`],
    ['replay rate', `${eventsPerSecond} events/s`],
    ['operator.assignments rows', String(await rows('assignments'))],
    ['operator.wallets rows', String(await rows('wallets'))],
    ['operator.ledger rows', String(await rows('ledger'))],
    ['database', database.origin],
  ];
  const width = Math.max(...table.map(([k]) => k.length));
  for (const [k, v] of table) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'replay', events_per_s: eventsPerSecond, events: result.events, seconds: Number(seconds.toFixed(2)), batch: env.REPLAY_BATCH })}\n`);
} finally {
  await store.close();
  await pool.end();
  await database.dispose();
}
