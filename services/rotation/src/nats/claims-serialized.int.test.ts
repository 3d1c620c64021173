/**
 * The niche lock serializes every write of a niche across instances: two rotation instances
 * (own pools and connections, as two processes) that may not retry a lost race at all
 * (maxConflicts 0) answer racing claims — batches and single claims — and configuration
 * changes of one niche, written both ways (two autocommit statements under the session lock,
 * and add_level's transaction under the transaction-level lock on the same key). A read not
 * after the previous holder's commit would lose its race and fail its request: every request
 * succeeds, the claims follow the rotation strictly, one per lead, and no lock is left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams, type CommandReply } from '@fairlead/contracts';
import { startRotationHarness, type Instance, type RotationHarness } from '../testing/harness';

let h: RotationHarness;
let instances: Instance[];

beforeAll(async () => {
  h = await startRotationHarness('rotation_serial');
  instances = [await h.start({ maxConflicts: 0 }), await h.start({ maxConflicts: 0 })];
});
afterAll(() => h?.close());

const actor = { actor_id: 'op', actor_role: 'operator' };
type Entry = CommandReply<'rotation', 'claim_start_levels'>['claims'][number];

describe('claims under the niche lock, two instances that never retry', () => {
  it('strict rotation order, one claim per lead, every request answered, no lock left', async () => {
    const niche = 'strict';
    await h.command('create_niche', { niche_id: niche, name: niche });
    for (const n of [1, 2, 3]) {
      await h.command('add_level', { niche_id: niche, level_id: `${niche}-l${n}`, name: `L${n}`, order_position: n, max_recipients: 1, price_per_lead_cents: 100 });
    }
    const leads = Array.from({ length: 150 }, (_, i) => `strict-${i}`);
    const before = instances.map((i) => i.acquired());
    // Batches of 1 to 3 leads, every fifth lead also asked alone, and configuration written
    // both ways meanwhile (inactive levels: the rotation does not change).
    const batches: string[][] = [];
    for (let i = 0; i < leads.length; ) {
      const size = (i % 3) + 1;
      batches.push(leads.slice(i, i + size));
      i += size;
    }
    const [batchReplies, singleReplies] = await Promise.all([
      Promise.all(batches.map((lead_ids) => h.command('claim_start_levels', { niche_id: niche, lead_ids }))),
      Promise.all(leads.filter((_, i) => i % 5 === 0).map((lead_id) => h.command('claim_start_level', { niche_id: niche, lead_id }))),
      Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          h.command('add_level', { niche_id: niche, level_id: `${niche}-off${i}`, name: `Off${i}`, order_position: 10 + i, max_recipients: 1, price_per_lead_cents: 100, active: false, actor }),
        ),
      ),
      Promise.all(Array.from({ length: 6 }, (_, i) => h.command('update_niche', { niche_id: niche, name: `strict ${i}`, actor }))),
    ]);

    const claimed = (await h.store.readStream(streams.niche(niche)))
      .filter((e) => e.type === 'StartLevelClaimed')
      .map((e) => parseDistributionEvent('StartLevelClaimed', e.data));
    expect(claimed.map((c) => c.lead_id).sort()).toEqual([...leads].sort());
    claimed.forEach((c, i) => {
      expect(c.start_order_position).toBe((i % 3) + 1);
      expect(c.next_start_order_position).toBe(((i + 1) % 3) + 1);
    });
    const startOf = new Map(claimed.map((c) => [c.lead_id, c.start_order_position]));
    const answered = (entry: Entry) => ('start_order_position' in entry ? entry.start_order_position : entry.error.code);
    batchReplies.forEach((reply) => reply.claims.forEach((entry) => expect(answered(entry)).toBe(startOf.get(entry.lead_id))));
    singleReplies.forEach((reply) => expect(reply.start_order_position).toBe(startOf.get(reply.lead_id)));
    const { rows } = await h.db.pool.query<{ n: string }>('select count(*) as n from rotation.claims where niche_id = $1', [niche]);
    expect(Number(rows[0]!.n)).toBe(leads.length);

    // Both instances answered; neither left a lock on a pooled connection.
    instances.forEach((instance, i) => expect(instance.acquired()).toBeGreaterThan(before[i]!));
    const locks = await h.db.pool.query(`select 1 from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`);
    expect(locks.rows).toEqual([]);
  });
});
