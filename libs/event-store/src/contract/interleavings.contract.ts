/**
 * Contract: commit order differs from id order. Transactions that take their id (or
 * position) before others but commit after them must never be skipped by a reader or a
 * subscriber that already moved on. Needs adapter hooks (capabilities) to hold
 * transactions open; without them these tests are skipped.
 */
import { describe, expect, it } from 'vitest';
import type { EventStore, StoredEvent } from '../types';
import type { EventStoreContractCapabilities } from './capabilities';
import { collect, duplicates, events, readToEnd, uniqueCategory } from './helpers';

export function describeInterleavingContract(
  store: () => EventStore,
  reader: () => EventStore,
  capabilities: EventStoreContractCapabilities,
): void {
  const withTransactions = capabilities.openTransaction ? it : it.skip;
  const withIdle = capabilities.holdIdleTransaction ? it : it.skip;
  const ids = (list: readonly StoredEvent[]) => list.map((e) => e.id);

  /** A live subscriber on a fresh category that has already delivered one event. */
  async function primedSubscriber(category: string) {
    const [first] = events(1);
    await store().append(`${category}-pre`, [first!], 'no_stream');
    const sub = collect(reader(), { categories: [category] });
    await sub.waitForCount(1, 'the priming event');
    return { sub, first: first! };
  }

  describe('commit order differs from id order', () => {
    withTransactions('A takes its id first, B appends and commits, then A appends and commits: both are delivered once', async () => {
      const category = uniqueCategory();
      const { sub, first } = await primedSubscriber(category);
      try {
        const a = await capabilities.openTransaction!();
        const [eventB] = events(1);
        const [eventA] = events(1);
        await store().append(`${category}-b`, [eventB!], 'no_stream');
        await a.append(`${category}-a`, [eventA!], 'no_stream');
        await a.commit();
        await sub.waitForCount(3, 'A and B');
        expect(new Set(sub.ids())).toEqual(new Set([first.id, eventA!.id, eventB!.id]));
        expect(duplicates(sub.received)).toEqual([]);
        if (capabilities.ordersByTransaction) expect(sub.ids()).toEqual([first.id, eventA!.id, eventB!.id]);
        const fromStart = await readToEnd(reader(), undefined, 100, [category]);
        expect(ids(fromStart.events)).toEqual(sub.ids());
      } finally {
        await sub.subscription.stop();
      }
    });

    withTransactions('A inserts first but commits after B: a reader that resumed from its checkpoint in between loses nothing', async () => {
      const category = uniqueCategory();
      const { sub, first } = await primedSubscriber(category);
      try {
        const before = await readToEnd(reader(), undefined, 100, [category]);
        const a = await capabilities.openTransaction!();
        const [eventA] = events(1);
        const [eventB] = events(1);
        await a.append(`${category}-a`, [eventA!], 'no_stream');
        await store().append(`${category}-b`, [eventB!], 'no_stream');
        // A reader polls while A is still open, then resumes from its checkpoint after A commits.
        const during = await readToEnd(reader(), before.checkpoint, 100, [category]);
        await a.commit();
        const after = await readToEnd(reader(), during.checkpoint, 100, [category]);
        const resumed = [...during.events, ...after.events];
        expect(new Set(ids(resumed))).toEqual(new Set([eventA!.id, eventB!.id]));
        expect(duplicates(resumed)).toEqual([]);

        await sub.waitForCount(3, 'A and B');
        expect(new Set(sub.ids())).toEqual(new Set([first.id, eventA!.id, eventB!.id]));
        expect(duplicates(sub.received)).toEqual([]);
      } finally {
        await sub.subscription.stop();
      }
    });

    withTransactions('A rolls back after B committed: B is delivered once, A never', async () => {
      const category = uniqueCategory();
      const { sub, first } = await primedSubscriber(category);
      try {
        const a = await capabilities.openTransaction!();
        const [eventA] = events(1);
        const [eventB] = events(1);
        await a.append(`${category}-a`, [eventA!], 'no_stream');
        await store().append(`${category}-b`, [eventB!], 'no_stream');
        await a.rollback();
        const [marker] = events(1);
        await store().append(`${category}-c`, [marker!], 'no_stream');
        await sub.waitForCount(3, 'B and the marker');
        expect(sub.ids()).toEqual([first.id, eventB!.id, marker!.id]);
        expect(await store().streamVersion(`${category}-a`)).toBeUndefined();
      } finally {
        await sub.subscription.stop();
      }
    });

    withIdle('an idle transaction on another connection delays events but loses none', async () => {
      const category = uniqueCategory();
      const [first] = events(1);
      await store().append(`${category}-pre`, [first!], 'no_stream');
      const idle = await capabilities.holdIdleTransaction!();
      const written: string[] = [];
      let sub: ReturnType<typeof collect> | undefined;
      try {
        try {
          await Promise.all(
            Array.from({ length: 4 }, async (_, i) => {
              const batch = events(2);
              await store().append(`${category}-${i}`, batch, 'no_stream');
              written.push(...batch.map((e) => e.id));
            }),
          );
          // Subscribing now: its first read delivers the earlier event and may find the
          // rest held back; once that read is done, the idle transaction ends.
          sub = collect(reader(), { categories: [category] });
          await sub.waitForCount(1, 'the event from before the idle transaction');
        } finally {
          // Ends without a commit of its own, so no notification announces it.
          await idle.release();
        }
        await sub.waitForCount(1 + written.length, 'the delayed events');
        expect(new Set(sub.ids())).toEqual(new Set([first!.id, ...written]));
        expect(duplicates(sub.received)).toEqual([]);
        const fromStart = await readToEnd(reader(), undefined, 3, [category]);
        expect(ids(fromStart.events)).toEqual(sub.ids());
      } finally {
        await sub?.subscription.stop();
      }
    });
  });
}
