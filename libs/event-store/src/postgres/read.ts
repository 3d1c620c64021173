/**
 * Reads: one stream by version, and the global log by (transaction_id, global_position)
 * below the snapshot's xmin, so that no event of a still-running transaction can later
 * appear behind a checkpoint already handed out.
 */
import { quoteIdentifier } from '../identifiers';
import type { Checkpoint, StoredEvent } from '../types';
import type { Queryable } from './append';
import { bigintTypes, EVENT_COLUMNS, toStoredEvent, type EventRow } from './rows';

export async function readStream(db: Queryable, schema: string, stream: string, fromVersion = 0, maxCount?: number): Promise<StoredEvent[]> {
  const { rows } = await db.query<EventRow>({
    // Named: parsed and planned once per connection, not on every read (a read per lead and service).
    name: `${schema}.read_stream`,
    text: `select ${EVENT_COLUMNS} from ${quoteIdentifier(schema)}.events e
           where e.stream_name = $1 and e.stream_version >= $2
           order by e.stream_version limit $3`,
    values: [stream, fromVersion, maxCount ?? null],
    types: bigintTypes,
  });
  return rows.map(toStoredEvent);
}

export async function readStreams(db: Queryable, schema: string, streams: readonly string[]): Promise<Map<string, StoredEvent[]>> {
  const byStream = new Map<string, StoredEvent[]>(streams.map((s) => [s, []]));
  if (streams.length === 0) return byStream;
  const { rows } = await db.query<EventRow>({
    name: `${schema}.read_streams`,
    text: `select ${EVENT_COLUMNS} from ${quoteIdentifier(schema)}.events e
           where e.stream_name = any($1::text[])
           order by e.stream_name, e.stream_version`,
    values: [[...new Set(streams)]],
    types: bigintTypes,
  });
  for (const row of rows) byStream.get(row.stream_name)?.push(toStoredEvent(row));
  return byStream;
}

export async function streamVersion(db: Queryable, schema: string, stream: string): Promise<number | undefined> {
  const { rows } = await db.query<{ version: number }>(`select version from ${quoteIdentifier(schema)}.streams where stream_name = $1`, [stream]);
  return rows[0]?.version;
}

export interface GlobalPage {
  /** Events of the requested categories (all events when no filter). */
  events: StoredEvent[];
  /** After the last row scanned, matching or not (the input when nothing was scanned). */
  checkpoint: Checkpoint;
  /** batchSize rows were scanned: more may follow at once. */
  full: boolean;
  /**
   * Committed events exist at or above the watermark, held back by an older transaction
   * still running: they become readable when it ends, which may send no notification.
   */
  heldBack: boolean;
}

interface PageRow extends EventRow {
  matches: boolean | null;
  held_back: boolean;
}

/**
 * One page of the global log after `from`. With categories, rows of other categories are
 * scanned (to move the checkpoint) but their payload is not read.
 */
export async function readGlobalPage(
  db: Queryable,
  schema: string,
  from: Checkpoint,
  batchSize: number,
  categories?: readonly string[],
): Promise<GlobalPage> {
  const s = quoteIdentifier(schema);
  // read_page (read-sql.ts): one statement, hence one snapshot, planned once per session.
  const { rows } = await db.query<PageRow>({
    // Named: parsed once per connection, then only bound and executed.
    name: `${schema}.read_page`,
    text: `select * from ${s}.read_page($1::xid8, $2::bigint, $3::integer, $4::text[])`,
    values: [from.transactionId.toString(), from.globalPosition.toString(), batchSize, categories ? [...categories] : null],
    types: bigintTypes,
  });
  const heldBack = rows[0]?.held_back ?? false;
  const scanned = rows.filter((r) => r.global_position !== null);
  const last = scanned.at(-1);
  return {
    events: scanned.filter((r) => r.matches).map(toStoredEvent),
    checkpoint: last ? { transactionId: last.transaction_id, globalPosition: last.global_position } : from,
    full: scanned.length >= batchSize,
    heldBack,
  };
}

/**
 * The checkpoint of the newest event a reader of the global log can see now (below the
 * xmin watermark; with `includeHeldBack`, the newest committed at all), optionally of some categories only: one backward step of the
 * (transaction_id, global_position) index, walking back past other categories' rows.
 */
export async function readHeadCheckpoint(db: Queryable, schema: string, categories?: readonly string[], includeHeldBack = false): Promise<Checkpoint | undefined> {
  const s = quoteIdentifier(schema);
  const { rows } = await db.query<{ transaction_id: bigint; global_position: bigint }>({
    text: `select e.transaction_id, e.global_position from ${s}.events e
           where ($2 or e.transaction_id < pg_snapshot_xmin(pg_current_snapshot()))
             and ($1::text[] is null or split_part(e.stream_name, '-', 1) = any($1::text[]))
           order by e.transaction_id desc, e.global_position desc limit 1`,
    values: [categories ? [...categories] : null, includeHeldBack],
    types: bigintTypes,
  });
  const row = rows[0];
  return row ? { transactionId: row.transaction_id, globalPosition: row.global_position } : undefined;
}
