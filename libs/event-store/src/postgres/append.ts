/**
 * append(): one round trip to the append_events function (see schema.ts), which does the
 * idempotency check, the optimistic version check, the insert and the NOTIFY.
 */
import type pg from 'pg';
import { validateAppend } from '../append-input';
import { ConcurrencyError, EventIdConflictError } from '../errors';
import type { AppendResult, ExpectedVersion, NewEvent } from '../types';
import { quoteIdentifier } from '../identifiers';
import { bigintTypes } from './rows';

/** A pool or a client (for appends inside the caller's own transaction). */
export type Queryable = Pick<pg.ClientBase, 'query'>;

interface AppendRow {
  r_outcome: 'ok' | 'duplicate' | 'conflict' | 'id_conflict';
  r_version: number | null;
  r_position: bigint | null;
  r_appended: number;
}

const encodeExpected = (expected: ExpectedVersion): number | null =>
  expected === 'any' ? null : expected === 'no_stream' ? -1 : expected;

export async function appendEvents(
  db: Queryable,
  schema: string,
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedVersion,
): Promise<AppendResult> {
  validateAppend(stream, events, expected);
  const { rows } = await db.query<AppendRow>({
    // Named: prepared once per connection, then only bound and executed.
    name: `${schema}.append_events`,
    text: `select r_outcome, r_version, r_position, r_appended from ${quoteIdentifier(schema)}.append_events($1, $2, $3, $4, $5, $6)`,
    values: [
      stream,
      encodeExpected(expected),
      events.map((e) => e.id),
      events.map((e) => e.type),
      events.map((e) => JSON.stringify(e.data)),
      events.map((e) => JSON.stringify(e.metadata ?? {})),
    ],
    types: bigintTypes,
  });
  const row = rows[0];
  if (!row) throw new Error('append_events returned no row');
  switch (row.r_outcome) {
    case 'ok':
    case 'duplicate':
      return { nextExpectedVersion: row.r_version!, lastGlobalPosition: row.r_position!, appended: row.r_appended };
    case 'conflict':
      throw new ConcurrencyError(stream, expected, row.r_version ?? undefined);
    case 'id_conflict':
      throw new EventIdConflictError(stream, await storedIds(db, schema, events));
  }
}

async function storedIds(db: Queryable, schema: string, events: readonly NewEvent[]): Promise<string[]> {
  const { rows } = await db.query<{ event_id: string }>(`select event_id from ${quoteIdentifier(schema)}.events where event_id = any($1)`, [
    events.map((e) => e.id),
  ]);
  return rows.map((r) => r.event_id);
}
