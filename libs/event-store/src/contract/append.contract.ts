/** Contract: append with expected versions, idempotency by event id, readStream ranges. */
import { describe, expect, it } from 'vitest';
import { ConcurrencyError, EventIdConflictError, InvalidAppendError } from '../errors';
import type { EventStore, NewEvent } from '../types';
import { events, newEvent, uniqueCategory } from './helpers';

export function describeAppendContract(store: () => EventStore): void {
  describe('append with an expected version', () => {
    it("'no_stream' creates a stream and reports its version; a second 'no_stream' conflicts", async () => {
      const stream = `${uniqueCategory()}-1`;
      const first = await store().append(stream, events(2), 'no_stream');
      expect(first.nextExpectedVersion).toBe(1);
      expect(first.appended).toBe(2);
      expect(typeof first.lastGlobalPosition).toBe('bigint');
      expect(await store().streamVersion(stream)).toBe(1);

      const error = await store().append(stream, events(1), 'no_stream').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error).toMatchObject({ code: 'EVENT_STORE_CONCURRENCY', stream, expected: 'no_stream', actual: 1 });
    });

    it('a number must equal the current version; a conflict writes nothing and reports the actual version', async () => {
      const stream = `${uniqueCategory()}-1`;
      await store().append(stream, events(2), 'no_stream');
      const stale = await store().append(stream, events(1), 0).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(ConcurrencyError);
      expect(stale).toMatchObject({ expected: 0, actual: 1 });
      const ahead = await store().append(stream, events(1), 5).catch((e: unknown) => e);
      expect(ahead).toMatchObject({ expected: 5, actual: 1 });
      expect(await store().readStream(stream)).toHaveLength(2);

      const next = await store().append(stream, events(3), 1);
      expect(next).toMatchObject({ nextExpectedVersion: 4, appended: 3 });
      expect((await store().readStream(stream)).map((e) => e.streamVersion)).toEqual([0, 1, 2, 3, 4]);
    });

    it('a number on a missing stream conflicts with actual undefined', async () => {
      const stream = `${uniqueCategory()}-missing`;
      const error = await store().append(stream, events(1), 0).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect((error as ConcurrencyError).actual).toBeUndefined();
      expect(await store().streamVersion(stream)).toBeUndefined();
      expect(await store().readStream(stream)).toEqual([]);
    });

    it("'any' appends to a new and to an existing stream", async () => {
      const stream = `${uniqueCategory()}-1`;
      expect(await store().append(stream, events(1), 'any')).toMatchObject({ nextExpectedVersion: 0, appended: 1 });
      expect(await store().append(stream, events(2), 'any')).toMatchObject({ nextExpectedVersion: 2, appended: 2 });
    });

    it('global positions increase along a stream and lastGlobalPosition is the last event’s', async () => {
      const stream = `${uniqueCategory()}-1`;
      const first = await store().append(stream, events(2), 'no_stream');
      const second = await store().append(stream, events(2), 1);
      const stored = await store().readStream(stream);
      expect(stored[1]!.globalPosition).toBe(first.lastGlobalPosition);
      expect(stored[3]!.globalPosition).toBe(second.lastGlobalPosition);
      for (let i = 1; i < stored.length; i++) expect(stored[i]!.globalPosition > stored[i - 1]!.globalPosition).toBe(true);
    });

    it('refuses malformed appends with InvalidAppendError and writes nothing', async () => {
      const stream = `${uniqueCategory()}-1`;
      const one = newEvent();
      const attempts: Array<[string, NewEvent[], unknown]> = [
        [stream, [], 'no_stream'],
        [stream, [one, { ...one }], 'no_stream'],
        ['', events(1), 'no_stream'],
        [stream, events(1), -1],
        [stream, events(1), 1.5],
        [stream, [{ id: '', type: 'T', data: 1 }], 'no_stream'],
        [stream, [{ id: 'x', type: '', data: 1 }], 'no_stream'],
        [stream, [{ id: 'y', type: 'T', data: undefined }], 'no_stream'],
      ];
      for (const [name, list, expected] of attempts) {
        const error = await store()
          .append(name, list, expected as 'no_stream')
          .catch((e: unknown) => e);
        expect(error, JSON.stringify([name, list, expected])).toBeInstanceOf(InvalidAppendError);
        expect((error as InvalidAppendError).code).toBe('EVENT_STORE_INVALID_APPEND');
      }
      expect(await store().streamVersion(stream)).toBeUndefined();
    });
  });

  describe('idempotent append by event id', () => {
    it('re-appending the same events is a no-op that returns the stored positions', async () => {
      const stream = `${uniqueCategory()}-1`;
      const batch = events(2);
      const first = await store().append(stream, batch, 'no_stream');
      const again = await store().append(stream, batch, 'no_stream');
      expect(again).toEqual({ nextExpectedVersion: first.nextExpectedVersion, lastGlobalPosition: first.lastGlobalPosition, appended: 0 });
      expect((await store().readStream(stream)).map((e) => e.id)).toEqual(batch.map((e) => e.id));
    });

    it('a retry after a lost reply succeeds with the original positions even when the stream moved on', async () => {
      const stream = `${uniqueCategory()}-1`;
      const lost = events(2);
      const original = await store().append(stream, lost, 'no_stream');
      await store().append(stream, events(1), 1);
      for (const expected of ['no_stream', 'any', 7] as const) {
        const retried = await store().append(stream, lost, expected);
        expect(retried).toEqual({ nextExpectedVersion: 1, lastGlobalPosition: original.lastGlobalPosition, appended: 0 });
      }
      expect(await store().streamVersion(stream)).toBe(2);
    });

    it('an append whose ids are all stored in this stream, consecutively and in order, is a no-op (a tail of an earlier append too)', async () => {
      const stream = `${uniqueCategory()}-1`;
      const stored = events(3);
      await store().append(stream, stored, 'no_stream');
      const positions = (await store().readStream(stream)).map((e) => e.globalPosition);
      expect(await store().append(stream, stored.slice(1, 2), 'no_stream')).toEqual({ nextExpectedVersion: 1, lastGlobalPosition: positions[1], appended: 0 });
      expect(await store().append(stream, stored.slice(0, 2), 'any')).toEqual({ nextExpectedVersion: 1, lastGlobalPosition: positions[1], appended: 0 });
      expect(await store().streamVersion(stream)).toBe(2);
    });

    it('ids stored otherwise (partly, in another stream or order) raise EventIdConflictError and write nothing', async () => {
      const category = uniqueCategory();
      const stored = events(2);
      await store().append(`${category}-1`, stored, 'no_stream');
      const attempts: Array<[string, NewEvent[]]> = [
        [`${category}-1`, [stored[0]!, stored[1]!, newEvent()]],
        [`${category}-1`, [stored[1]!, stored[0]!]],
        [`${category}-2`, stored],
      ];
      for (const [stream, list] of attempts) {
        const error = await store()
          .append(stream, list, 'any')
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EventIdConflictError);
        expect((error as EventIdConflictError).code).toBe('EVENT_STORE_EVENT_ID_CONFLICT');
      }
      expect(await store().streamVersion(`${category}-1`)).toBe(1);
      expect(await store().streamVersion(`${category}-2`)).toBeUndefined();
    });
  });

  describe('readStream', () => {
    it('reads a range from a version, at most maxCount, with data and metadata as written', async () => {
      const stream = `${uniqueCategory()}-1`;
      const written = [0, 1, 2, 3, 4].map((n) => newEvent(`Type${n}`, { n, nested: { list: [n, 'x'] }, big: '9007199254740993' }, { correlationId: `c${n}` }));
      await store().append(stream, written.slice(0, 3), 'no_stream');
      await store().append(stream, written.slice(3), 2);

      const all = await store().readStream(stream);
      expect(all.map((e) => e.streamVersion)).toEqual([0, 1, 2, 3, 4]);
      expect(all[3]).toMatchObject({ id: written[3]!.id, stream, type: 'Type3', data: written[3]!.data, metadata: { correlationId: 'c3' } });
      expect(all[0]!.createdAt).toBeInstanceOf(Date);
      expect(typeof all[0]!.transactionId).toBe('bigint');

      expect((await store().readStream(stream, 2)).map((e) => e.streamVersion)).toEqual([2, 3, 4]);
      expect((await store().readStream(stream, 1, 2)).map((e) => e.streamVersion)).toEqual([1, 2]);
      expect(await store().readStream(stream, 5)).toEqual([]);
      expect(await store().readStream(`${stream}-nope`)).toEqual([]);
    });

    it('stores events without metadata with an empty metadata object', async () => {
      const stream = `${uniqueCategory()}-1`;
      await store().append(stream, [{ id: newEvent().id, type: 'Bare', data: null }], 'no_stream');
      const [event] = await store().readStream(stream);
      expect(event).toMatchObject({ type: 'Bare', data: null, metadata: {} });
    });
  });
}
