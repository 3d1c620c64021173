/**
 * Appends through the append_batch function (append-sql.ts): one round trip and one
 * transaction for one append, or for several grouped by the GroupCommitter.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { validateAppend } from '../append-input';
import { withAppendMetadata } from '../append-metadata';
import { encodeEvents, type EncodedEvents } from '../encode-events';
import { ConcurrencyError, EventIdConflictError } from '../errors';
import { quoteIdentifier } from '../identifiers';
import type { AppendResult, ExpectedVersion, NewEvent } from '../types';
import { boundParameters, type BindParameter } from './parameters';

/** A pool or a client (for appends inside the caller's own transaction). */
export type Queryable = Pick<pg.ClientBase, 'query'>;

export interface AppendRequest {
  stream: string;
  events: readonly NewEvent[];
  expected: ExpectedVersion;
  /** The events' JSON when already encoded (and checked) by the caller. */
  encoded?: EncodedEvents;
}

interface BatchRow {
  r_outcomes: ('ok' | 'duplicate' | 'conflict' | 'id_conflict')[];
  r_versions: (number | null)[];
  r_positions: (string | null)[];
}

/** Per request, in order: its result, or the typed error it ended with. */
export type BatchOutcome = { ok: true; result: AppendResult } | { ok: false; error: Error };

const encodeExpected = (expected: ExpectedVersion): number | null =>
  expected === 'any' ? null : expected === 'no_stream' ? -1 : expected;

/**
 * Runs validated requests as one batch (a single SQL call, hence one transaction unless
 * `db` is inside one). `notify`: send the NOTIFY inside that transaction. A request whose
 * events the store cannot hold (too large, not storable as jsonb) gets its typed error as
 * its outcome and is left out of the call: it never fails the others.
 */
export async function appendBatch(db: Queryable, schema: string, requests: readonly AppendRequest[], notify: boolean, maxEventBytes: number): Promise<BatchOutcome[]> {
  const { outcomes, sent, params } = encodeBatch(requests, maxEventBytes);
  if (sent.length === 0) return outcomes;
  const { rows } = await db.query<BatchRow>({
    // Named: parsed once per connection, then only bound and executed.
    name: `${schema}.append_batch`,
    // int8[] would arrive as strings anyway; text[] makes that explicit.
    text: `select r_outcomes, r_versions, r_positions::text[] as r_positions
           from ${appendBatchCall(schema)}`,
    values: [...params, notify],
  });
  const row = rows[0];
  if (!row) throw new Error('append_batch returned no row');
  return batchOutcomes(db, schema, requests, sent, row, outcomes);
}

/**
 * `schema.append_batch($1 … $9)`: $1–$8 the batch (encodeBatch's params), $9 p_notify. The
 * events' data ($7) and metadata ($8) arrive as one JSON array each and become append_batch's
 * jsonb[] here: bound as JS arrays, node-postgres would write them as array literals, escaping
 * every `"` and `\` of every event (a lead's events are ~30 KB of JSON), and PostgreSQL would
 * un-escape them again before parsing each jsonb. Element i is event i (ordinality).
 */
const appendBatchCall = (schema: string) => `${quoteIdentifier(schema)}.append_batch($1, $2, $3, $4, $5, $6, ${jsonbArrayOf('$7')}, ${jsonbArrayOf('$8')}, $9)`;

/** The elements of a JSON array parameter as jsonb[], in order. */
const jsonbArrayOf = (placeholder: string) => `array(select x from jsonb_array_elements(${placeholder}::jsonb) with ordinality as t(x, i) order by i)`;

/** JSON texts as one JSON array: each is valid JSON already, so nothing needs escaping. */
const jsonArray = (texts: readonly string[]): string => `[${texts.join(',')}]`;

/**
 * The parameters of append_batch ($1–$8) for the requests the store can hold, the one place
 * they are encoded (data and metadata as one JSON array each, see appendBatchCall); a request
 * whose events it cannot hold gets its typed error in `outcomes`.
 */
function encodeBatch(requests: readonly AppendRequest[], maxEventBytes: number): { outcomes: BatchOutcome[]; sent: number[]; params: unknown[] } {
  const outcomes: BatchOutcome[] = new Array<BatchOutcome>(requests.length);
  /** Indexes of the requests sent, in order. */
  const sent: number[] = [];
  const values = {
    streams: [] as string[],
    expected: [] as (number | null)[],
    counts: [] as number[],
    app: [] as number[],
    ids: [] as string[],
    types: [] as string[],
    data: [] as string[],
    metadata: [] as string[],
  };
  requests.forEach((request, index) => {
    let encoded: EncodedEvents;
    try {
      encoded = request.encoded ?? encodeEvents(request.stream, request.events, maxEventBytes);
    } catch (error) {
      outcomes[index] = { ok: false, error: error as Error };
      return;
    }
    sent.push(index);
    values.streams.push(request.stream);
    values.expected.push(encodeExpected(request.expected));
    values.counts.push(request.events.length);
    request.events.forEach((event, i) => {
      values.app.push(sent.length);
      values.ids.push(event.id);
      values.types.push(event.type);
      values.data.push(encoded.data[i]!);
      values.metadata.push(encoded.metadata[i]!);
    });
  });
  return { outcomes, sent, params: [values.streams, values.expected, values.counts, values.app, values.ids, values.types, jsonArray(values.data), jsonArray(values.metadata)] };
}

/** Each sent request's outcome from append_batch's row (fills `outcomes`). */
async function batchOutcomes(db: Queryable, schema: string, requests: readonly AppendRequest[], sent: readonly number[], row: BatchRow, outcomes: BatchOutcome[]): Promise<BatchOutcome[]> {
  await Promise.all(
    sent.map(async (index, position) => {
      const request = requests[index]!;
      const outcome = row.r_outcomes[position];
      const version = row.r_versions[position] ?? undefined;
      const globalPosition = row.r_positions[position];
      outcomes[index] = await (async (): Promise<BatchOutcome> => {
        switch (outcome) {
          case 'ok':
          case 'duplicate':
            return {
              ok: true,
              result: { nextExpectedVersion: version!, lastGlobalPosition: BigInt(globalPosition!), appended: outcome === 'ok' ? request.events.length : 0 },
            };
          case 'conflict':
            return { ok: false, error: new ConcurrencyError(request.stream, request.expected, version) };
          case 'id_conflict':
            return { ok: false, error: new EventIdConflictError(request.stream, await storedIds(db, schema, request.events)) };
          default:
            return { ok: false, error: new Error(`append_batch returned no outcome for ${request.stream}`) };
        }
      })();
    }),
  );
  return outcomes;
}

/**
 * The caller's own SQL, run in the statement that appends (appendManyWith). `ctes` are
 * further common table expressions after `appended`, the row of append_batch:
 * `appended.r_outcomes[i]` is 'ok' when append i (1-based, in the order given) wrote,
 * 'duplicate' when it was stored before, 'conflict' / 'id_conflict' when it was refused.
 * `param(value)` binds a value and returns its placeholder (values belong in parameters,
 * never in the text: the statement is prepared once per distinct text). A data-modifying
 * CTE always runs; anything else only when referenced — from `select`, a SQL expression
 * the statement's one row returns (e.g. a check that raises, which undoes the whole statement).
 */
export interface AppendStatement {
  ctes: (param: BindParameter) => string;
  select?: (param: BindParameter) => string;
}

/**
 * appendMany and the caller's own SQL in one statement: one round trip, and atomic as
 * one statement is (on an autocommit connection its own transaction). Every append must be
 * storable: one that is not throws before anything is sent. Results as appendMany's; the
 * caller's SQL decides what its own writes do for appends that did not write.
 */
export async function appendManyWith(db: Queryable, schema: string, appends: readonly AppendRequest[], statement: AppendStatement, maxEventBytes: number): Promise<AppendResult[]> {
  if (appends.length === 0) return [];
  const requests = validatedRequests(appends);
  const { outcomes, sent, params } = encodeBatch(requests, maxEventBytes);
  const refused = outcomes.find((o) => o !== undefined && !o.ok);
  if (refused && !refused.ok) throw refused.error;
  const { param, values } = boundParameters([...params, true]);
  const ctes = statement.ctes(param);
  const select = statement.select?.(param);
  const text = `with appended as materialized (select r_outcomes, r_versions, r_positions from ${appendBatchCall(schema)})${ctes.trim() ? `,\n${ctes}` : ''}
select r_outcomes, r_versions, r_positions::text[] as r_positions${select ? `, ${select} as caller` : ''} from appended`;
  // Named by its text: each shape of the caller's SQL is parsed and planned once per connection.
  const name = `${schema}.append_with.${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  const { rows } = await db.query<BatchRow>({ name, text, values }).catch((error: unknown) => {
    throw idConflictOf(requests, error);
  });
  const row = rows[0];
  if (!row) throw new Error('append_batch returned no row');
  return resultsOf(requests, await batchOutcomes(db, schema, requests, sent, row, outcomes));
}

/** One append on `db`, validated first. */
export async function appendOne(
  db: Queryable,
  schema: string,
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedVersion,
  notify: boolean,
  maxEventBytes: number,
): Promise<AppendResult> {
  validateAppend(stream, events, expected);
  const [outcome] = await appendBatch(db, schema, [{ stream, events, expected }], notify, maxEventBytes).catch((error: unknown) => {
    throw asEventIdConflict(error, stream, events) ?? error;
  });
  if (!outcome) throw new Error('append_batch returned nothing');
  if (!outcome.ok) throw outcome.error;
  return outcome.result;
}

/**
 * Several streams' appends on `db` (the caller's transaction) in one call, validated first
 * and with the NOTIFY inside; throws the first failure after all were tried.
 */
export async function appendMany(db: Queryable, schema: string, appends: readonly AppendRequest[], maxEventBytes: number): Promise<AppendResult[]> {
  if (appends.length === 0) return [];
  const requests = validatedRequests(appends);
  const outcomes = await appendBatch(db, schema, requests, true, maxEventBytes).catch((error: unknown) => {
    throw idConflictOf(requests, error);
  });
  return resultsOf(requests, outcomes);
}

/** Several appends of a caller, with their metadata, each validated before anything is sent. */
function validatedRequests(appends: readonly AppendRequest[]): AppendRequest[] {
  return appends.map((a) => {
    const events = withAppendMetadata(a.events);
    validateAppend(a.stream, events, a.expected);
    return { stream: a.stream, events, expected: a.expected };
  });
}

/** A failed call's error as the EventIdConflictError of the append it names, if it is one. */
const idConflictOf = (requests: readonly AppendRequest[], error: unknown): unknown =>
  requests.map((r) => asEventIdConflict(error, r.stream, r.events)).find((e) => e !== undefined) ?? error;

/** Each append's result, in order; the first failure is thrown after all were tried. */
function resultsOf(requests: readonly AppendRequest[], outcomes: readonly BatchOutcome[]): AppendResult[] {
  return outcomes.map((outcome, i) => {
    if (!outcome) throw new Error(`append_batch returned nothing for ${requests[i]!.stream}`);
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  });
}

/**
 * The one race append_batch cannot see coming: the same id written to two different
 * streams at the same moment (a caller bug, not a version conflict). The unique index on
 * event_id stops the second; it is reported as what it is.
 */
export function asEventIdConflict(error: unknown, stream: string, events: readonly NewEvent[]): EventIdConflictError | undefined {
  const pgError = error as { code?: string; constraint?: string };
  if (pgError?.code !== '23505' || pgError.constraint !== 'events_event_id_key') return undefined;
  return new EventIdConflictError(
    stream,
    events.map((e) => e.id),
  );
}

async function storedIds(db: Queryable, schema: string, events: readonly NewEvent[]): Promise<string[]> {
  const { rows } = await db.query<{ event_id: string }>(`select event_id from ${quoteIdentifier(schema)}.events where event_id = any($1)`, [
    events.map((e) => e.id),
  ]);
  return rows.map((r) => r.event_id);
}
