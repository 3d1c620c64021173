/** Contract: reading the global log in batches, checkpoints, and subscriptions. */
import { describe, expect, it } from 'vitest';
import { START, type EventStore, type StoredEvent } from '../types';
import { checkpointOf, collect, compareCheckpoints, events, readToEnd, uniqueCategory } from './helpers';

export function describeGlobalLogContract(store: () => EventStore, reader: () => EventStore): void {
  /** Appends `count` events one append at a time across three streams; returns their ids in append order. */
  async function appendSpread(category: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let n = 0; n < count; n++) {
      const [event] = events(1);
      await store().append(`${category}-${n % 3}`, [event!], 'any');
      ids.push(event!.id);
    }
    return ids;
  }

  describe('readAll', () => {
    it('pages through the log in order; each checkpoint is its last event; resuming continues exactly after it', async () => {
      const category = uniqueCategory();
      const head = (await readToEnd(reader())).checkpoint;
      const ids = await appendSpread(category, 10);

      const paged = await readToEnd(reader(), head, 3, [category]);
      expect(paged.events.map((e) => e.id)).toEqual(ids);
      expect(paged.batches).toEqual([3, 3, 3, 1]);

      const first = await reader().readAll(head, 3, { categories: [category] });
      expect(first.checkpoint).toEqual(checkpointOf(first.events[2]!));
      const rest = await readToEnd(reader(), first.checkpoint, 100, [category]);
      expect(rest.events.map((e) => e.id)).toEqual(ids.slice(3));

      const end = await reader().readAll(paged.checkpoint, 3, { categories: [category] });
      expect(end.events).toEqual([]);
      expect(compareCheckpoints(end.checkpoint, paged.checkpoint)).toBeGreaterThanOrEqual(0);
    });

    it('reads from START, and global positions are unique across the log', async () => {
      const category = uniqueCategory();
      const ids = await appendSpread(category, 4);
      const all = await readToEnd(reader(), START, 1000);
      const mine = all.events.filter((e) => e.stream.startsWith(`${category}-`));
      expect(mine.map((e) => e.id)).toEqual(ids);
      expect(new Set(all.events.map((e) => e.globalPosition)).size).toBe(all.events.length);
    });

    it('a category filter returns only that category, and its checkpoint moves past skipped events', async () => {
      const wanted = uniqueCategory('a');
      const other = uniqueCategory('b');
      const head = (await readToEnd(reader())).checkpoint;
      const mine = await appendSpread(wanted, 2);
      await appendSpread(other, 3);
      const batch = await reader().readAll(head, 100, { categories: [wanted] });
      expect(batch.events.map((e) => e.id)).toEqual(mine);
      const after = await reader().readAll(batch.checkpoint, 100, { categories: [wanted] });
      expect(after.events).toEqual([]);
      const unfiltered = await reader().readAll(head, 100);
      expect(unfiltered.events.filter((e) => e.stream.startsWith(`${other}-`))).toHaveLength(3);
    });
  });

  describe('headCheckpoint', () => {
    it('is the checkpoint of the newest readable event, of the given categories or of all', async () => {
      const wanted = uniqueCategory('h');
      const other = uniqueCategory('o');
      expect(await reader().headCheckpoint({ categories: [wanted] })).toBeUndefined();
      await appendSpread(wanted, 3);
      await appendSpread(other, 2);
      const all = await readToEnd(reader());
      const mine = all.events.filter((e) => e.stream.startsWith(`${wanted}-`));
      expect(await reader().headCheckpoint({ categories: [wanted] })).toEqual(checkpointOf(mine.at(-1)!));
      expect(await reader().headCheckpoint()).toEqual(checkpointOf(all.events.at(-1)!));
    });
  });

  describe('subscribe', () => {
    it('catches up from a mid checkpoint (strictly after it), then follows live appends', async () => {
      const category = uniqueCategory();
      const head = (await readToEnd(reader())).checkpoint;
      const ids = await appendSpread(category, 6);
      const firstThree = await reader().readAll(head, 3, { categories: [category] });
      const sub = collect(reader(), { from: firstThree.checkpoint, categories: [category], batchSize: 2 });
      try {
        await sub.waitForCount(3, 'catch-up of the last three events');
        const live = await appendSpread(category, 2);
        await sub.waitForCount(5, 'two live events');
        expect(sub.ids()).toEqual([...ids.slice(3), ...live]);
      } finally {
        await sub.subscription.stop();
      }
    });

    it('delivers only the requested categories', async () => {
      const a = uniqueCategory('a');
      const b = uniqueCategory('b');
      const onlyA = collect(reader(), { categories: [a] });
      const both = collect(reader(), { categories: [a, b] });
      try {
        const idsA = await appendSpread(a, 3);
        const idsB = await appendSpread(b, 3);
        await both.waitForCount(6);
        await onlyA.waitForCount(3);
        expect(both.ids().sort()).toEqual([...idsA, ...idsB].sort());
        // Everything after the A events has been delivered to `both`; `onlyA` reads the same log.
        const marker = await appendSpread(a, 1);
        await onlyA.waitForCount(4);
        expect(onlyA.ids()).toEqual([...idsA, ...marker]);
      } finally {
        await Promise.all([onlyA.subscription.stop(), both.subscription.stop()]);
      }
    });

    it('a handler error stops the subscription: done rejects with it and nothing more is delivered', async () => {
      const category = uniqueCategory();
      await appendSpread(category, 3);
      const seen: StoredEvent[] = [];
      const failure = new Error('handler failed');
      const subscription = reader().subscribe({
        from: START,
        categories: [category],
        handler: (event) => {
          seen.push(event);
          if (seen.length === 2) throw failure;
        },
      });
      await expect(subscription.done).rejects.toBe(failure);
      await appendSpread(category, 1);
      await expect(subscription.stop()).resolves.toBeUndefined();
      expect(seen).toHaveLength(2);
    });

    it('after stop() resolves the handler is not called again', async () => {
      const category = uniqueCategory();
      const stopped = collect(reader(), { categories: [category] });
      const witness = collect(reader(), { categories: [category] });
      try {
        await appendSpread(category, 1);
        await stopped.waitForCount(1);
        await stopped.subscription.stop();
        await appendSpread(category, 2);
        await witness.waitForCount(3, 'the witness to see the later events');
        // A subscriber reading the same log has delivered them; the stopped one must not have.
        expect(stopped.received).toHaveLength(1);
        await expect(stopped.subscription.done).resolves.toBeUndefined();
      } finally {
        await witness.subscription.stop();
      }
    });
  });
}
