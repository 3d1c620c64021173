/**
 * The rotation pointer under real concurrency: many claims at once, over NATS, answered
 * by two rotation instances (own pools and connections, as two processes) sharing one
 * database. The niche stream's order of StartLevelClaimed is the order leads were decided.
 * Single claims (claim_start_level) and batches (claim_start_levels) mix freely.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams, type CommandReply } from '@fairlead/contracts';
import { startRotationHarness, type Instance, type RotationHarness } from '../testing/harness';

let h: RotationHarness;
let instances: Instance[];

beforeAll(async () => {
  h = await startRotationHarness('rotation_conc');
  instances = [await h.start(), await h.start()];
});
afterAll(() => h?.close());

async function seedNiche(nicheId: string, positions: number[]): Promise<void> {
  await h.command('create_niche', { niche_id: nicheId, name: nicheId });
  for (const n of positions) {
    await h.command('add_level', { niche_id: nicheId, level_id: `${nicheId}-l${n}`, name: `L${n}`, order_position: n, max_recipients: 1, price_per_lead_cents: 100 });
  }
}

async function claimedStarts(nicheId: string): Promise<{ lead: string; start: number; next: number }[]> {
  return (await h.store.readStream(streams.niche(nicheId)))
    .filter((e) => e.type === 'StartLevelClaimed')
    .map((e) => parseDistributionEvent('StartLevelClaimed', e.data))
    .map((d) => ({ lead: d.lead_id, start: d.start_order_position, next: d.next_start_order_position }));
}

describe('claim_start_level under concurrency, two instances', () => {
  it('parallel claims of one niche follow 1,2,3,1,2,3… with no repeat or skip; repeats of a lead get its first answer', async () => {
    await seedNiche('busy', [1, 2, 3]);
    const before = instances.map((i) => i.acquired());
    const leads = Array.from({ length: 150 }, (_, i) => `lead-${i}`);
    // Every lead asked for twice, all at once: the second ask races the first.
    const asks = [...leads, ...leads].map((lead) => h.command('claim_start_level', { niche_id: 'busy', lead_id: lead }));
    const replies = await Promise.all(asks);

    const claimed = await claimedStarts('busy');
    expect(claimed).toHaveLength(150);
    expect(new Set(claimed.map((c) => c.lead)).size).toBe(150);
    claimed.forEach((c, i) => {
      expect(c.start).toBe((i % 3) + 1);
      expect(c.next).toBe(((i + 1) % 3) + 1);
    });

    const byLead = new Map(claimed.map((c) => [c.lead, c.start]));
    replies.forEach((reply, i) => {
      const lead = leads[i % leads.length]!;
      expect(reply.lead_id).toBe(lead);
      expect(reply.start_order_position).toBe(byLead.get(lead));
      const expectedTraversal = [0, 1, 2].map((k) => ((reply.start_order_position - 1 + k) % 3) + 1);
      expect(reply.traversal.map((l) => l.order_position)).toEqual(expectedTraversal);
    });
    for (let i = 0; i < leads.length; i++) expect(replies[i]).toEqual(replies[i + leads.length]);

    // Both instances took part (each borrowed connections from its own pool to answer).
    instances.forEach((instance, i) => expect(instance.acquired()).toBeGreaterThan(before[i]!));
    const { rows } = await h.db.pool.query<{ n: string }>(`select count(*) as n from rotation.claims where niche_id = 'busy'`);
    expect(Number(rows[0]!.n)).toBe(150);
  });

  it('niches rotate independently while claimed at the same time', async () => {
    await seedNiche('a', [1, 2]);
    await seedNiche('b', [1, 2, 3, 4]);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => [
        h.command('claim_start_level', { niche_id: 'a', lead_id: `a-${i}` }),
        h.command('claim_start_level', { niche_id: 'b', lead_id: `b-${i}` }),
      ]).flat(),
    );
    expect((await claimedStarts('a')).map((c) => c.start)).toEqual(Array.from({ length: 40 }, (_, i) => (i % 2) + 1));
    expect((await claimedStarts('b')).map((c) => c.start)).toEqual(Array.from({ length: 40 }, (_, i) => (i % 4) + 1));
  });

  it('an instance with a cached niche sees configuration written through the other one', async () => {
    await seedNiche('cached', [1, 2, 3]);
    const [one, two] = instances as [Instance, Instance];
    expect((await one.service.commands.claimStartLevel({ niche_id: 'cached', lead_id: 'c-1' })).start_order_position).toBe(1);
    await two.service.commands.updateLevel({ niche_id: 'cached', level_id: 'cached-l2', active: false, actor: { actor_id: 'op', actor_role: 'operator' } });
    const next = await one.service.commands.claimStartLevel({ niche_id: 'cached', lead_id: 'c-2' });
    expect(next.start_order_position).toBe(3);
    expect(next.traversal.map((l) => l.order_position)).toEqual([3, 1]);
    expect((await two.service.commands.claimStartLevel({ niche_id: 'cached', lead_id: 'c-3' })).start_order_position).toBe(1);
  });
});

type BatchEntry = CommandReply<'rotation', 'claim_start_levels'>['claims'][number];

const chunks = <T>(items: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

async function storedClaims(): Promise<Map<string, { niche_id: string; start_order_position: number; traversal: { order_position: number }[] }>> {
  const { rows } = await h.db.pool.query<{ lead_id: string; niche_id: string; start_order_position: number; traversal: { order_position: number }[] }>(
    'select lead_id, niche_id, start_order_position, traversal from rotation.claims',
  );
  return new Map(rows.map(({ lead_id, ...row }) => [lead_id, row]));
}

describe('claim_start_levels and claim_start_level at the same time, two instances', () => {
  it('one claim per lead and starts 1,2,3,1,… with no repeat or skip; every answer is the stored claim', async () => {
    await seedNiche('mixed', [1, 2, 3]);
    const leads = Array.from({ length: 120 }, (_, i) => `mixed-${i}`);
    // Each lead is asked for two or three times: in a batch of 8 (in order), in a batch of
    // 5 (in reverse order), and every fourth one also alone.
    const asBatches = [...chunks(leads, 8), ...chunks([...leads].reverse(), 5)];
    const singles = leads.filter((_, i) => i % 4 === 0);
    const [batchReplies, singleReplies] = await Promise.all([
      Promise.all(asBatches.map((lead_ids) => h.command('claim_start_levels', { niche_id: 'mixed', lead_ids }))),
      Promise.all(singles.map((lead_id) => h.command('claim_start_level', { niche_id: 'mixed', lead_id }))),
    ]);

    const claimed = await claimedStarts('mixed');
    expect(claimed).toHaveLength(120);
    expect(new Set(claimed.map((c) => c.lead))).toEqual(new Set(leads));
    claimed.forEach((c, i) => {
      expect(c.start).toBe((i % 3) + 1);
      expect(c.next).toBe(((i + 1) % 3) + 1);
    });

    const stored = await storedClaims();
    const expectStored = (entry: BatchEntry) => {
      if (!('start_order_position' in entry)) throw new Error(`lead ${entry.lead_id}: ${entry.error.code}`);
      const row = stored.get(entry.lead_id)!;
      expect(row.niche_id).toBe('mixed');
      expect(entry.start_order_position).toBe(row.start_order_position);
      expect(entry.traversal).toEqual(row.traversal);
      expect(entry.traversal.map((l) => l.order_position)).toEqual([0, 1, 2].map((k) => ((entry.start_order_position - 1 + k) % 3) + 1));
    };
    batchReplies.forEach((reply, i) => {
      expect(reply.claims.map((c) => c.lead_id)).toEqual(asBatches[i]);
      reply.claims.forEach(expectStored);
    });
    singleReplies.forEach((reply, i) => {
      expect(reply.lead_id).toBe(singles[i]);
      expectStored(reply);
    });
    instances.forEach((instance) => expect(instance.acquired()).toBeGreaterThan(0));
  });

  it('batches of two niches contesting the same leads: each lead claimed once, the other niche answers LEAD_CLAIMED_IN_OTHER_NICHE', async () => {
    await seedNiche('east', [1, 2]);
    await seedNiche('west', [1, 2, 3]);
    const leads = Array.from({ length: 60 }, (_, i) => `contested-${i}`);
    const asks = chunks(leads, 6).flatMap((lead_ids) => [
      { niche_id: 'east', lead_ids },
      { niche_id: 'west', lead_ids: [...lead_ids].reverse() },
    ]);
    const replies = await Promise.all(asks.map((ask) => h.command('claim_start_levels', ask)));

    const stored = await storedClaims();
    expect(leads.every((lead) => stored.has(lead))).toBe(true);
    replies.forEach((reply, i) => {
      const ask = asks[i]!;
      expect(reply.claims.map((c) => c.lead_id)).toEqual(ask.lead_ids);
      for (const entry of reply.claims) {
        const row = stored.get(entry.lead_id)!;
        if (row.niche_id === ask.niche_id) expect(entry).toEqual({ lead_id: entry.lead_id, start_order_position: row.start_order_position, traversal: row.traversal });
        else expect(entry).toMatchObject({ error: { code: 'LEAD_CLAIMED_IN_OTHER_NICHE' } });
      }
    });
    for (const [niche, levels] of [['east', 2], ['west', 3]] as const) {
      const claimed = await claimedStarts(niche);
      expect(claimed.map((c) => c.lead).sort()).toEqual(leads.filter((l) => stored.get(l)!.niche_id === niche).sort());
      expect(claimed.map((c) => c.start)).toEqual(claimed.map((_, i) => (i % levels) + 1));
    }
  });
});
