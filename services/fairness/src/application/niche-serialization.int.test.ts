import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@fairlead/testing';
import { level, startHarness, type Harness } from '../testing/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('fairness_lock');
});
afterAll(async () => h?.close());

describe('two fairness instances sharing the work', () => {
  it('still decide one niche one lead at a time, so providers take exact turns and nobody is served twice in a row', async () => {
    // Both instances take messages from the same durable; only the advisory lock keeps them from interleaving a niche.
    const [one, two] = [await h.startService({ concurrency: 2 }), await h.startService({ concurrency: 2 })];
    await h.seedNiche('k1', [level('k1', 1, 1, 100)]);
    await h.seedNiche('k2', [level('k2', 1, 1, 100)]);
    for (const niche of ['k1', 'k2']) {
      for (const p of ['a', 'b', 'c']) {
        h.billing.fund(`${niche}-${p}`, 100_000);
        await h.subscribe({ provider_id: `${niche}-${p}`, niche_id: niche, level_id: `${niche}-l1` });
      }
    }
    await Promise.all([one!.caughtUp(), two!.caughtUp()]);

    const leads = Array.from({ length: 24 }, (_, i) => ({ id: `lead-${i}`, niche: i % 2 === 0 ? 'k1' : 'k2' }));
    await Promise.all(leads.map((l) => h.approveLead(l.id, l.niche)));
    const outcomes = new Map((await Promise.all(leads.map((l) => h.waitForOutcome(l.id, 30_000)))).map((o) => [o.lead_id, o]));

    // The outcome is stored just before the message is acked.
    await waitFor(() => one!.stats().processed + two!.stats().processed === 24, { what: 'every request acked' });
    expect(one!.stats().processed).toBeGreaterThan(0);
    expect(two!.stats().processed).toBeGreaterThan(0);
    for (const niche of ['k1', 'k2']) {
      // Rotation is asked inside the niche's lock, so its claim order is the order the leads were decided in.
      const decided = h.rotation.claimOrder.filter((id) => outcomes.get(id)?.niche_id === niche);
      const served = decided.map((id) => outcomes.get(id)!.assignments[0]?.provider_id);
      expect(served).toEqual(Array.from({ length: 12 }, (_, i) => `${niche}-${'abc'[i % 3]}`));
    }
    // A pass's last write takes the niche's lock along to its commit: none is left held.
    const { rows } = await h.db.pool.query<{ held: number }>(
      `select count(*)::int as held from pg_locks l where l.locktype = 'advisory' and l.objsubid = 1
          and ((l.classid::bigint << 32) | l.objid::bigint) = any(array[hashtextextended('fairness:niche:k1', 0), hashtextextended('fairness:niche:k2', 0)])`,
    );
    expect(rows[0]!.held).toBe(0);
  });
});
