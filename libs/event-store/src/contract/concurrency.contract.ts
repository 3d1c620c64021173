/**
 * Contract: real concurrency. Writers are separate store instances (separate connections,
 * as separate processes would be) or concurrent calls on one instance.
 */
import { describe, expect, it } from 'vitest';
import { ConcurrencyError } from '../errors';
import { START, type AppendResult, type EventStore, type ExpectedVersion, type NewEvent, type StoredEvent } from '../types';
import { collect, compareCheckpoints, checkpointOf, duplicates, events, eventually, newEvent, readToEnd, uniqueCategory } from './helpers';

const WRITERS = 8;

export function describeConcurrencyContract(store: () => EventStore, writers: () => readonly EventStore[], reader: () => EventStore): void {
  describe('concurrent writers', () => {
    for (const mode of ['separate store instances', 'one store instance'] as const) {
      const writerFor = (i: number) => (mode === 'one store instance' ? store() : writers()[i % writers().length]!);

      it(`8 writers on one stream, same expected version: exactly one success per version, the rest ConcurrencyError (${mode})`, async () => {
        const stream = `${uniqueCategory()}-hot`;
        const winners: string[] = [];
        for (let round = 0; round < 5; round++) {
          const expected: ExpectedVersion = round === 0 ? 'no_stream' : round - 1;
          const attempts = Array.from({ length: WRITERS }, () => newEvent('Claimed', { round }));
          const settled = await Promise.allSettled(attempts.map((event, i) => writerFor(i).append(stream, [event], expected)));
          const fulfilled = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [{ result: s.value, event: attempts[i]! }] : []));
          const rejected = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
          expect(fulfilled).toHaveLength(1);
          expect(fulfilled[0]!.result).toMatchObject({ nextExpectedVersion: round, appended: 1 });
          expect(rejected).toHaveLength(WRITERS - 1);
          for (const error of rejected) {
            expect(error).toBeInstanceOf(ConcurrencyError);
            expect(error).toMatchObject({ stream, expected, actual: round });
          }
          winners.push(fulfilled[0]!.event.id);
        }
        const stored = await store().readStream(stream);
        expect(stored.map((e) => e.id)).toEqual(winners);
        expect(stored.map((e) => e.streamVersion)).toEqual([0, 1, 2, 3, 4]);
      });

      it(`8 writers racing on one stream with re-read and retry: every event lands once, versions contiguous (${mode})`, async () => {
        const stream = `${uniqueCategory()}-race`;
        const perWriter = 4;
        const conflicts: ConcurrencyError[] = [];
        const written = await Promise.all(
          Array.from({ length: WRITERS }, async (_, i) => {
            const mine: string[] = [];
            let expected: ExpectedVersion = 'no_stream';
            while (mine.length < perWriter) {
              const event = newEvent('Raced', { writer: i });
              try {
                const result: AppendResult = await writerFor(i).append(stream, [event], expected);
                mine.push(event.id);
                expected = result.nextExpectedVersion;
              } catch (error) {
                if (!(error instanceof ConcurrencyError)) throw error;
                conflicts.push(error);
                expect(error.actual).not.toBe(error.expected);
                expected = error.actual ?? 'no_stream';
              }
            }
            return mine;
          }),
        );
        const stored = await store().readStream(stream);
        expect(stored.map((e) => e.streamVersion)).toEqual(Array.from({ length: WRITERS * perWriter }, (_, v) => v));
        expect(new Set(stored.map((e) => e.id))).toEqual(new Set(written.flat()));
        expect(duplicates(stored)).toEqual([]);
      });

      it(`concurrent copies of one append (a retry racing the original) store it once; all copies succeed (${mode})`, async () => {
        const stream = `${uniqueCategory()}-dup`;
        for (const expected of ['no_stream', 'any'] as const) {
          const target = expected === 'any' ? `${stream}-any` : stream;
          const batch: NewEvent[] = events(2);
          const results = await Promise.all(Array.from({ length: WRITERS }, (_, i) => writerFor(i).append(target, batch, expected)));
          expect(results.filter((r) => r.appended === 2)).toHaveLength(1);
          expect(results.filter((r) => r.appended === 0)).toHaveLength(WRITERS - 1);
          expect(new Set(results.map((r) => r.lastGlobalPosition)).size).toBe(1);
          expect(new Set(results.map((r) => r.nextExpectedVersion))).toEqual(new Set([1]));
          expect((await store().readStream(target)).map((e) => e.id)).toEqual(batch.map((e) => e.id));
        }
      });
    }

    it('8 writers on distinct streams: a live subscriber and, afterwards, a reader from the start each get every event exactly once', async () => {
      const category = uniqueCategory('w');
      const live = collect(reader(), { categories: [category], batchSize: 17 });
      const unfiltered: StoredEvent[] = [];
      const all = reader().subscribe({
        from: START,
        batchSize: 50,
        handler: (event) => {
          if (event.stream.startsWith(`${category}-`)) unfiltered.push(event);
        },
      });
      try {
        const written = await Promise.all(
          Array.from({ length: WRITERS }, async (_, i) => {
            const stream = `${category}-${i}`;
            const ids: string[] = [];
            let expected: ExpectedVersion = 'no_stream';
            for (let n = 0; n < 12; n++) {
              const batch = events(1 + ((i + n) % 3));
              // Half the writers share the main instance (grouped appends), half use their own.
              const writer = i % 2 === 0 ? store() : writers()[i]!;
              expected = (await writer.append(stream, batch, expected)).nextExpectedVersion;
              ids.push(...batch.map((e) => e.id));
            }
            return ids;
          }),
        );
        const expectedIds = new Set(written.flat());
        await live.waitForCount(expectedIds.size, `the live subscriber to receive ${expectedIds.size} events`);
        await eventually(() => unfiltered.length >= expectedIds.size, 'the unfiltered subscriber to catch up');

        for (const received of [live.received, unfiltered]) {
          expect(duplicates(received)).toEqual([]);
          expect(new Set(received.map((e) => e.id))).toEqual(expectedIds);
          assertGlobalOrder(received);
        }
        const fromStart = await readToEnd(reader(), START, 13, [category]);
        expect(duplicates(fromStart.events)).toEqual([]);
        expect(new Set(fromStart.events.map((e) => e.id))).toEqual(expectedIds);
        expect(fromStart.events.map((e) => e.id)).toEqual(live.ids());
      } finally {
        await Promise.all([live.subscription.stop(), all.stop()]);
      }
    });
  });
}

/** Strictly increasing checkpoints, and within each stream strictly increasing versions. */
export function assertGlobalOrder(received: readonly StoredEvent[]): void {
  for (let i = 1; i < received.length; i++) {
    expect(compareCheckpoints(checkpointOf(received[i - 1]!), checkpointOf(received[i]!))).toBe(-1);
  }
  const lastVersion = new Map<string, number>();
  for (const event of received) {
    const previous = lastVersion.get(event.stream) ?? -1;
    expect(event.streamVersion).toBe(previous + 1);
    lastVersion.set(event.stream, event.streamVersion);
  }
}
