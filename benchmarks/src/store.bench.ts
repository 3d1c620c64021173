/**
 * `npm run bench:store` — append throughput of our PostgreSQL event store against a plain
 * INSERT and against Emmett's PostgreSQL event store, on one database, in one run.
 * Prints a table and, as its last line, one line of JSON (events per second).
 *
 * The machine is shared, so the rows are measured in BENCH_ROUNDS (default 3) interleaved
 * rounds of BENCH_DURATION_MS / rounds each (default 6000 ms per row in total) and each
 * figure is the median round: a burst of outside load hits every contender alike.
 * DATABASE_URL points it at an existing server instead of an embedded one.
 */
import pg from 'pg';
import { createPostgresEventStore } from '@fairlead/event-store';
import { openBenchDatabase } from './store/database';
import { emmettWriter, openEmmett } from './store/emmett';
import { ownStreamWriter, sharedStreamWriter } from './store/ours';
import { createPlainTable, plainInsertWriter } from './store/plain';
import { measureRelay } from './store/relay';
import { printReport, type Row } from './store/report';
import { measure, type Measurement } from './store/run';

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 6_000);
const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const roundMs = Math.round(durationMs / rounds);
const warmupMs = Math.min(500, roundMs);
const WRITERS = 8;
/** Events per append call in the batched rows (ours_8w and emmett_8w alike). */
const BATCH = 10;

const database = await openBenchDatabase();
const rows: Row[] = [];
let relayPerSecond: number | null = null;
try {
  const pool = new pg.Pool({ connectionString: database.url, max: WRITERS + 2 });
  const store = createPostgresEventStore({ pool });
  await store.migrate();
  const solo = createPostgresEventStore({ pool, groupCommit: false });
  await createPlainTable(pool);
  const emmett = await openEmmett(database.url);
  type Writer = Parameters<typeof measure>[0];
  const scenarios: { key: string; what: string; writers: number; make: (round: number) => Writer }[] = [
    {
      key: 'ours_1w',
      what: 'ours: 1 writer, 1 event per append, own stream, exact expected version',
      writers: 1,
      make: (r) => ownStreamWriter(store, `one${r}-`, 1),
    },
    {
      key: 'ours_8w',
      what: `ours: 8 writers, ${BATCH} events per append, distinct streams (default store: group commit on)`,
      writers: WRITERS,
      make: (r) => ownStreamWriter(store, `eight${r}-`, BATCH),
    },
    {
      key: 'ours_8w_1ev',
      what: 'ours: 8 writers, 1 event per append, distinct streams; concurrent appends share a transaction (group commit)',
      writers: WRITERS,
      make: (r) => ownStreamWriter(store, `single${r}-`, 1),
    },
    {
      key: 'ours_8w_1ev_solo',
      what: 'ours: as ours_8w_1ev with groupCommit: false (one transaction per append)',
      writers: WRITERS,
      make: (r) => ownStreamWriter(solo, `solo${r}-`, 1),
    },
    {
      key: 'ours_same_stream',
      what: 'ours: 8 writers, 1 event per append, ONE stream; a conflict re-reads the version and retries',
      writers: WRITERS,
      make: (r) => sharedStreamWriter(store, `bench-shared${r}`),
    },
    {
      key: 'plain_insert_8w',
      what: 'pg: single-row INSERT per event, autocommit, same columns, primary key only, 8 connections',
      writers: WRITERS,
      make: () => plainInsertWriter(pool),
    },
    {
      key: 'emmett_8w',
      what: `Emmett 0.42 getPostgreSQLEventStore: 8 writers, ${BATCH} events per append, distinct streams`,
      writers: WRITERS,
      make: (r) => emmettWriter(emmett, `batch${r}-`, BATCH),
    },
    {
      key: 'emmett_8w_1ev',
      what: 'Emmett 0.42: 8 writers, 1 event per append, distinct streams',
      writers: WRITERS,
      make: (r) => emmettWriter(emmett, `single${r}-`, 1),
    },
  ];
  const results = new Map<string, Measurement[]>();
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) {
      const result = await measure(scenario.make(round), { writers: scenario.writers, durationMs: roundMs, warmupMs });
      results.set(scenario.key, [...(results.get(scenario.key) ?? []), result]);
      process.stderr.write(`round ${round + 1}/${rounds} ${scenario.key}: ${Math.round(result.perSecond)} events/s\n`);
    }
  }
  for (const scenario of scenarios) rows.push({ key: scenario.key, what: scenario.what, rounds: results.get(scenario.key)! });

  relayPerSecond = await measureRelay({ databaseUrl: database.url, schema: store.schema, durationMs });
  await emmett.close();
  await Promise.all([store.close(), solo.close()]);
  await pool.end();
} finally {
  await database.dispose();
}

printReport({ origin: database.origin, durationMs, rounds, rows, relayPerSecond });
