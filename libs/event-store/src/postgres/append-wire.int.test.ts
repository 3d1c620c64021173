/**
 * How append_batch gets the events' JSON: data and metadata as one JSON array parameter each
 * (the encoded events joined, nothing escaped), unpacked into append_batch's jsonb[] in the
 * statement — on every path that appends (group commit, a caller's transaction, several
 * streams, the caller's own SQL). Data that could break the joining or the unpacking (quotes,
 * backslashes, escapes, brackets and commas inside strings) is stored exactly as given, each
 * event's where it belongs; what jsonb cannot hold is refused as before.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { createPostgresEventStore, InvalidAppendError, type NewEvent, type PostgresEventStore } from '../index';

const stream = () => `wire-${randomUUID().slice(0, 8)}`;
const event = (data: unknown, metadata?: Record<string, unknown>): NewEvent => ({ id: randomUUID(), type: 'Tested', data, ...(metadata ? { metadata } : {}) });

/** Strings meant to break a hand-made JSON array or array literal, or its unpacking. */
const NASTY = [
  'a "quoted" word',
  'back\\slash, \\\\double, trailing\\',
  '\\"escaped quote\\"',
  '\\u0041 is not A, \\u0000 is not NUL, \\ud800 no surrogate',
  '], [ {}, { "x": 1 } ,',
  '"]},{"injected":true},["',
  '{"a","b"} NULL {} {NULL}',
  'é ü € 😀 \u2028\u2029 \u0001\u001f\t\n\r',
  '',
];
const nastyData = (i: number) => ({
  i,
  list: NASTY,
  nested: { '"key"': NASTY[4], 'back\\slash': NASTY[5], ']': [NASTY[1], { ',': NASTY[3] }] },
  numbers: [0, -1.5, 1e21, 123456789012345],
  empty: { a: [], o: {} },
  nothing: null,
});

interface Sent {
  text: string;
  values: unknown[];
}

describe('append_batch on the wire', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  const sent: Sent[] = [];
  const original = pg.Client.prototype.query;
  beforeAll(async () => {
    db = await createTestDatabase('es_append_wire');
    store = createPostgresEventStore({ pool: db.pool, pollIntervalMs: 60_000 });
    await store.migrate();
  });
  // Every statement any client of this process sends, with its parameters.
  beforeEach(() => {
    sent.length = 0;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const q = args[0] as string | { text?: string; values?: unknown[] };
      if (typeof q === 'string') sent.push({ text: q, values: (args[1] as unknown[] | undefined) ?? [] });
      else if (q?.text) sent.push({ text: q.text, values: q.values ?? [] });
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
  });
  afterEach(() => {
    pg.Client.prototype.query = original;
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  const appendCalls = () => sent.filter((s) => s.text.includes('append_batch'));

  /** The data and metadata parameters ($7, $8) of each append_batch call, parsed. */
  const wirePayloads = () =>
    appendCalls().map(({ text, values }) => {
      expect(text).toContain('jsonb_array_elements($7::jsonb)');
      expect(text).toContain('jsonb_array_elements($8::jsonb)');
      const [data, metadata] = [values[6], values[7]];
      // One JSON array each, as text: not a JS array (node-postgres's escaped `{…}` literal).
      expect(typeof data).toBe('string');
      expect(typeof metadata).toBe('string');
      expect(data as string).toMatch(/^\[/);
      return { data: JSON.parse(data as string) as unknown[], metadata: JSON.parse(metadata as string) as unknown[] };
    });

  /** Each event's data and metadata as stored are the jsonb of its own JSON, and read back as given. */
  const expectStored = async (appended: { stream: string; events: NewEvent[] }[]) => {
    const read = await store.readStreams(appended.map((a) => a.stream));
    for (const a of appended) {
      expect(read.get(a.stream)!.map((e) => [e.id, e.data, e.metadata])).toStrictEqual(a.events.map((e) => [e.id, e.data, e.metadata ?? {}]));
      for (const e of a.events) {
        const { rows } = await db.pool.query<{ same: boolean; text: string }>(
          `select data = $2::jsonb and metadata = $3::jsonb as same, data::text as text from ${store.schema}.events where event_id = $1`,
          [e.id, JSON.stringify(e.data), JSON.stringify(e.metadata ?? {})],
        );
        expect(rows[0]?.same, e.id).toBe(true);
        expect(JSON.parse(rows[0]!.text)).toStrictEqual(e.data);
      }
    }
  };

  it('sends a grouped batch’s data and metadata as one JSON array each, events in order', async () => {
    const appends = Array.from({ length: 6 }, (_, i) => ({ stream: stream(), events: [event(nastyData(2 * i), { note: NASTY[i] }), event(nastyData(2 * i + 1))] }));
    // 6 appends at once while at most 2 batches are on their way: some leave grouped.
    await Promise.all(appends.map((a) => store.append(a.stream, a.events, 'no_stream')));
    const payloads = wirePayloads();
    expect(payloads.length).toBeGreaterThan(0);
    expect(payloads.length).toBeLessThan(appends.length);
    const byI = new Map(payloads.flatMap((p) => p.data.map((d, k) => [(d as { i: number }).i, p.metadata[k]] as const)));
    expect([...byI.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    appends.forEach((a, i) => expect(byI.get(2 * i)).toStrictEqual({ note: NASTY[i] }));
    await expectStored(appends);
  });

  it('sends the same form for appends in a caller’s transaction, several streams, and with the caller’s SQL', async () => {
    const client = await db.pool.connect();
    try {
      const one = { stream: stream(), events: [event(nastyData(100)), event({ s: NASTY[5] })] };
      const many = [
        { stream: stream(), events: [event({ s: NASTY[4] }, { m: NASTY[1] })], expected: 'no_stream' as const },
        { stream: stream(), events: [event(nastyData(101)), event([NASTY[6], '"', '\\'])], expected: 'no_stream' as const },
      ];
      const withSql = [{ stream: stream(), events: [event({ s: NASTY[3] }), event(nastyData(102))], expected: 'no_stream' as const }];
      await client.query('begin');
      await store.appendInTransaction(client, one.stream, one.events, 'no_stream');
      await store.appendManyInTransaction(client, many);
      await client.query('commit');
      await store.appendManyWith(client, withSql, { ctes: () => '', select: () => 'cardinality(r_outcomes)' });
      const payloads = wirePayloads();
      expect(payloads.map((p) => p.data.length)).toEqual([2, 3, 2]);
      expect(payloads[1]!.data).toStrictEqual([many[0]!.events[0]!.data, many[1]!.events[0]!.data, many[1]!.events[1]!.data]);
      await expectStored([one, ...many, ...withSql]);
    } finally {
      client.release();
    }
  });

  it('keeps the outcomes per append: a duplicate, a conflict and a write in one call', async () => {
    const [a, b, c] = [stream(), stream(), stream()];
    const stored = event(nastyData(200));
    await store.append(a, [stored], 'no_stream');
    await store.append(b, [event({ first: true })], 'no_stream');
    const client = await db.pool.connect();
    sent.length = 0;
    try {
      // Autocommit: c's write commits with the statement; the conflict is thrown after all were tried.
      await expect(
        store.appendManyInTransaction(client, [
          { stream: a, events: [stored], expected: 'no_stream' },
          { stream: b, events: [event({ s: NASTY[4] })], expected: 'no_stream' },
          { stream: c, events: [event({ s: NASTY[5] })], expected: 'no_stream' },
        ]),
      ).rejects.toMatchObject({ name: 'ConcurrencyError', stream: b });
    } finally {
      client.release();
    }
    expect(wirePayloads().map((p) => p.data.length)).toEqual([3]);
    expect((await store.readStream(a)).map((e) => e.id)).toEqual([stored.id]);
    expect(await store.streamVersion(b)).toBe(0);
    expect((await store.readStream(c)).map((e) => e.data)).toStrictEqual([{ s: NASTY[5] }]);
  });

  it('refuses a NUL or an unpaired surrogate before sending anything, with InvalidAppendError', async () => {
    for (const data of [{ s: 'a\u0000b' }, { s: 'a\ud800b' }, { s: 'a\\\u0000' }]) {
      sent.length = 0;
      await expect(store.append(stream(), [event({ ok: 1 }), event(data)], 'no_stream')).rejects.toBeInstanceOf(InvalidAppendError);
      expect(appendCalls()).toEqual([]);
    }
  });

  it('PostgreSQL refuses a NUL escape in the JSON array as it did in the array literal (22P05), should one get past that check', async () => {
    const codeOf = (text: string, value: string) => db.pool.query(text, [value]).then(() => 'stored', (e: { code?: string }) => e.code);
    const unpacked = 'select array(select x from jsonb_array_elements($1::jsonb) with ordinality as t(x, i) order by i)';
    expect(await codeOf(unpacked, '[{"s":"a\\u0000b"}]')).toBe('22P05');
    expect(await codeOf('select $1::jsonb[]', '{"{\\"s\\":\\"a\\\\u0000b\\"}"}')).toBe('22P05');
  });
});
