/**
 * What the store refuses before it writes: an event larger than `maxEventBytes`, and data
 * PostgreSQL's jsonb cannot hold (\u0000, unpaired surrogates, nesting deeper than JSON
 * can be written). Each is a typed error of its own append; appends grouped with it (group
 * commit) and the store itself go on.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { createPostgresEventStore, DEFAULT_MAX_EVENT_BYTES, EventTooLargeError, InvalidAppendError, isEventTooLargeError, type NewEvent, type PostgresEventStore } from '../index';

const MAX = 4_096;
const stream = () => `limits-${randomUUID().slice(0, 8)}`;
const event = (data: unknown, metadata?: Record<string, unknown>): NewEvent => ({ id: randomUUID(), type: 'Tested', data, ...(metadata ? { metadata } : {}) });
/** An event whose data and metadata come to exactly `bytes` as JSON. */
const eventOf = (bytes: number): NewEvent => event({ s: 'x'.repeat(bytes - '{"s":""}'.length - '{}'.length) });

describe('event store limits', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let solo: PostgresEventStore;
  beforeAll(async () => {
    db = await createTestDatabase('es_limits');
    store = createPostgresEventStore({ pool: db.pool, maxEventBytes: MAX, pollIntervalMs: 60_000 });
    solo = createPostgresEventStore({ pool: db.pool, maxEventBytes: MAX, groupCommit: false, pollIntervalMs: 60_000 });
    await store.migrate();
  });
  afterAll(async () => {
    await solo.close();
    await store.close();
    await db.drop();
  });

  it('defaults to 64 KiB under NATS’s default max_payload of 1 MiB', () => {
    expect(DEFAULT_MAX_EVENT_BYTES).toBe(1_048_576 - 65_536);
    expect(createPostgresEventStore({ pool: db.pool }).maxEventBytes).toBe(DEFAULT_MAX_EVENT_BYTES);
  });

  it.each([
    ['grouped', () => store],
    ['solo', () => solo],
  ])('accepts an event of exactly maxEventBytes and refuses one byte more with EventTooLargeError (%s)', async (_, of) => {
    const s = stream();
    await expect(of().append(s, [eventOf(MAX)], 'no_stream')).resolves.toMatchObject({ appended: 1 });
    const tooLarge = eventOf(MAX + 1);
    const error = await of()
      .append(s, [tooLarge], 0)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventTooLargeError);
    expect(error).toMatchObject({ code: 'EVENT_STORE_EVENT_TOO_LARGE', stream: s, eventId: tooLarge.id, bytes: MAX + 1, maxBytes: MAX });
    expect(await of().streamVersion(s)).toBe(0);
  });

  it('counts UTF-8 bytes, metadata included', async () => {
    // 1,400 euro signs are 4,200 bytes, though only 1,400 UTF-16 units.
    await expect(store.append(stream(), [event({ s: '€'.repeat(1_400) })], 'no_stream')).rejects.toSatisfy(isEventTooLargeError);
    await expect(store.append(stream(), [event({ ok: true }, { note: 'm'.repeat(MAX) })], 'no_stream')).rejects.toSatisfy(isEventTooLargeError);
  });

  it('an oversized append fails alone: the appends grouped with it are written', async () => {
    const streams = Array.from({ length: 20 }, stream);
    const results = await Promise.allSettled(streams.map((s, i) => store.append(s, [i === 7 ? eventOf(MAX * 2) : event({ i })], 'no_stream')));
    expect(results.map((r) => r.status)).toEqual(streams.map((_, i) => (i === 7 ? 'rejected' : 'fulfilled')));
    expect((results[7] as PromiseRejectedResult).reason).toBeInstanceOf(EventTooLargeError);
  });

  it('appendInTransaction and appendManyInTransaction refuse an oversized event with the same typed error', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      await expect(store.appendInTransaction(client, stream(), [eventOf(MAX + 1)], 'no_stream')).rejects.toBeInstanceOf(EventTooLargeError);
      await expect(
        store.appendManyInTransaction(client, [
          { stream: stream(), events: [event({ fine: true })], expected: 'no_stream' },
          { stream: stream(), events: [eventOf(MAX + 1)], expected: 'no_stream' },
        ]),
      ).rejects.toBeInstanceOf(EventTooLargeError);
      await client.query('rollback');
    } finally {
      client.release();
    }
  });

  it.each([
    ['a NUL character', { note: 'a\u0000b' }],
    ['an unpaired high surrogate', { note: 'a\ud83db' }],
    ['an unpaired low surrogate', { note: 'a\ude00' }],
    ['nesting deeper than JSON.stringify can write', JSON.parse(`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`)],
  ])('refuses data holding %s with InvalidAppendError, before any round trip, and stays usable', async (_, data) => {
    const s = stream();
    await expect(store.append(s, [event(data)], 'no_stream')).rejects.toBeInstanceOf(InvalidAppendError);
    await expect(solo.append(s, [event(data)], 'no_stream')).rejects.toBeInstanceOf(InvalidAppendError);
    expect(await store.streamVersion(s)).toBeUndefined();
    await expect(store.append(s, [event({ after: true })], 'no_stream')).resolves.toMatchObject({ appended: 1 });
  });

  it('stores what only looks like such an escape: an escaped backslash, a surrogate pair, other control characters', async () => {
    const data = { text: 'a\\u0000b \\\\ud800', emoji: '😀', tab: 'a\tb\u0001' };
    const s = stream();
    await store.append(s, [event(data)], 'no_stream');
    expect((await store.readStream(s))[0]!.data).toEqual(data);
  });
});
