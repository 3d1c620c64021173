/**
 * `npm run bench:store` — append throughput of our PostgreSQL event store against a plain
 * INSERT and against Emmett's PostgreSQL event store, on one database, in one run.
 * Prints a table and, as its last line, one line of JSON (events per second).
 *
 * BENCH_DURATION_MS (default 5000) is the measured time per row; DATABASE_URL points it
 * at an existing server instead of an embedded one.
 */
import pg from 'pg';
import { createPostgresEventStore } from '@fairlead/event-store';
import { openBenchDatabase } from './store/database';
import { emmettWriter, openEmmett } from './store/emmett';
import { ownStreamWriter, sharedStreamWriter } from './store/ours';
import { createPlainTable, plainInsertWriter } from './store/plain';
import { measureRelay } from './store/relay';
import { printReport, type Row } from './store/report';
import { measure } from './store/run';

const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5_000);
const warmupMs = Math.min(1_000, durationMs);
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
  const run = async (key: string, what: string, writers: number, makeWriter: Parameters<typeof measure>[0]) => {
    const result = await measure(makeWriter, { writers, durationMs, warmupMs });
    rows.push({ key, what, result });
    process.stderr.write(`${key}: ${Math.round(result.perSecond)} events/s\n`);
  };

  await run('ours_1w', 'ours: 1 writer, 1 event per append, own stream, exact expected version', 1, ownStreamWriter(store, 'one', 1));
  await run('ours_8w', `ours: 8 writers, ${BATCH} events per append, distinct streams (default store: group commit on)`, WRITERS, ownStreamWriter(store, 'eight', BATCH));
  await run('ours_8w_1ev', 'ours: 8 writers, 1 event per append, distinct streams; concurrent appends share a transaction (group commit)', WRITERS, ownStreamWriter(store, 'single', 1));
  await run('ours_8w_1ev_solo', 'ours: as ours_8w_1ev with groupCommit: false (one transaction per append)', WRITERS, ownStreamWriter(solo, 'solo', 1));
  await run('ours_same_stream', 'ours: 8 writers, 1 event per append, ONE stream; a conflict re-reads the version and retries', WRITERS, sharedStreamWriter(store, 'bench-shared'));
  await run('plain_insert_8w', 'pg: single-row INSERT per event, autocommit, same columns, primary key only, 8 connections', WRITERS, plainInsertWriter(pool));
  await run('emmett_8w', `Emmett 0.42 getPostgreSQLEventStore: 8 writers, ${BATCH} events per append, distinct streams`, WRITERS, emmettWriter(emmett, 'batch', BATCH));
  await run('emmett_8w_1ev', 'Emmett 0.42: 8 writers, 1 event per append, distinct streams', WRITERS, emmettWriter(emmett, 'single', 1));

  relayPerSecond = await measureRelay({ databaseUrl: database.url, schema: store.schema, durationMs });
  await emmett.close();
  await Promise.all([store.close(), solo.close()]);
  await pool.end();
} finally {
  await database.dispose();
}

printReport({ origin: database.origin, durationMs, warmupMs, rows, relayPerSecond });
