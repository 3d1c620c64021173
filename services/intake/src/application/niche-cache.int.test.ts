/**
 * Intake's niche cache in front of rotation's get_niche, on real NATS: the harness's
 * get_niche stand-in counts the requests it answers. Time is a fake clock (the cache's
 * `now`), so "within" and "after" the TTL are exact, not timed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@fairlead/testing';
import { leadPayload, startIntakeHarness, type IntakeHarness } from '../testing/harness';
import { cachedNicheDirectory } from './niche-cache';
import { natsNicheDirectory, type NicheDirectory } from './niche-directory';

let h: IntakeHarness;

beforeAll(async () => {
  // A TTL far longer than the test: every lookup after the first is the cache's.
  h = await startIntakeHarness('intake_niche_cache', { nicheCacheTtlMs: 60_000 });
});
afterAll(() => h?.close());

/** A cache over the real get_niche request, on a clock the test moves. */
function cacheAt(ttlMs: number): { niches: NicheDirectory; advance(ms: number): void } {
  let now = 1_000_000;
  return {
    niches: cachedNicheDirectory(natsNicheDirectory({ nc: h.nc, subjects: h.subjects }), { ttlMs, now: () => now }),
    advance: (ms) => (now += ms),
  };
}

/** Rotation's get_niche requests answered while `work` runs. */
async function requestsDuring(work: () => Promise<unknown>): Promise<number> {
  const before = h.niches.requests;
  await work();
  return h.niches.requests - before;
}

describe('niche cache', () => {
  it('lets concurrent lookups of one niche share one request', async () => {
    h.niches.add('shared', true);
    const { niches } = cacheAt(1_000);
    let answers: unknown[] = [];
    const asked = await requestsDuring(async () => (answers = await Promise.all(Array.from({ length: 50 }, () => niches.lookup('shared')))));
    expect(asked).toBe(1);
    expect(answers).toEqual(Array.from({ length: 50 }, () => ({ auto_distribute: true })));
  });

  it('reuses a found niche within the TTL and asks again once it has passed (a changed flag shows then)', async () => {
    h.niches.add('flag', true);
    const { niches, advance } = cacheAt(1_000);
    expect(await requestsDuring(() => niches.lookup('flag'))).toBe(1);

    h.niches.add('flag', false);
    advance(499);
    let seen: unknown;
    expect(await requestsDuring(async () => (seen = await niches.lookup('flag')))).toBe(0);
    expect(seen, 'within the TTL the remembered flag holds').toEqual({ auto_distribute: true });

    // Nobody looks it up for a while: past the TTL the lookup waits for a new answer.
    advance(501);
    expect(await requestsDuring(async () => (seen = await niches.lookup('flag')))).toBe(1);
    expect(seen).toEqual({ auto_distribute: false });
    expect(await requestsDuring(() => niches.lookup('flag')), 'the new answer is reused in turn').toBe(0);
  });

  it('under steady lookups renews a niche in the background after half the TTL, so no lookup waits and none answers older than the TTL', async () => {
    h.niches.add('steady', true);
    const { niches, advance } = cacheAt(1_000);
    await niches.lookup('steady');
    h.niches.add('steady', false);
    advance(500);
    const before = h.niches.requests;
    let seen: unknown;
    // Answered at once from the cache (the request is not awaited), and asked again behind it.
    seen = await niches.lookup('steady');
    expect(seen).toEqual({ auto_distribute: true });
    await waitFor(() => h.niches.requests === before + 1, { what: 'the background request' });
    await waitFor(async () => (await niches.lookup('steady'))?.auto_distribute === false, { what: 'the renewed answer' });
    expect(h.niches.requests, 'one background request, however many lookups').toBe(before + 1);

    // The renewed answer counts from its own request: valid for the TTL after it.
    h.niches.add('steady', true);
    advance(999);
    expect((await niches.lookup('steady'))?.auto_distribute, 'asked again at 500 ms: still valid at 1499 ms').toBe(false);
    advance(1);
    // 1000 ms after the background request: expired, the lookup waits for rotation.
    expect(await requestsDuring(async () => (seen = await niches.lookup('steady')))).toBe(1);
    expect(seen).toEqual({ auto_distribute: true });
  });

  it('keeps the remembered niche when the background request fails, until it expires', async () => {
    h.niches.add('flaky', true);
    let fail = false;
    let now = 1_000_000;
    const inner = natsNicheDirectory({ nc: h.nc, subjects: h.subjects });
    const niches = cachedNicheDirectory({ lookup: (id) => (fail ? Promise.reject(new Error('rotation unreachable')) : inner.lookup(id)) }, { ttlMs: 1_000, now: () => now });
    await niches.lookup('flaky');
    fail = true;
    now += 600;
    expect(await niches.lookup('flaky'), 'answered from the cache; its renewal fails behind it').toEqual({ auto_distribute: true });
    expect(await niches.lookup('flaky')).toEqual({ auto_distribute: true });
    now += 400;
    await expect(niches.lookup('flaky'), 'expired: the failure reaches the lookup').rejects.toThrow('rotation unreachable');
  });

  it('asks again every time about an unknown niche, so one created a moment ago is found at once', async () => {
    const { niches } = cacheAt(1_000);
    for (let i = 0; i < 3; i++) {
      let seen: unknown = 'unset';
      expect(await requestsDuring(async () => (seen = await niches.lookup('atlantis')))).toBe(1);
      expect(seen).toBeNull();
    }
    h.niches.add('atlantis', true);
    let seen: unknown;
    expect(await requestsDuring(async () => (seen = await niches.lookup('atlantis')))).toBe(1);
    expect(seen).toEqual({ auto_distribute: true });
  });

  it('does not remember a failed lookup', async () => {
    h.niches.add('flaky', false);
    const { niches } = cacheAt(1_000);
    await h.niches.stop();
    try {
      await expect(niches.lookup('flaky')).rejects.toMatchObject({ code: 'ROTATION_UNAVAILABLE' });
    } finally {
      h.niches.start();
    }
    let seen: unknown;
    expect(await requestsDuring(async () => (seen = await niches.lookup('flaky')))).toBe(1);
    expect(seen).toEqual({ auto_distribute: false });
  });

  it('with TTL 0 asks rotation for every lookup, concurrent or not', async () => {
    h.niches.add('uncached', true);
    const { niches } = cacheAt(0);
    expect(await requestsDuring(async () => {
      for (let i = 0; i < 3; i++) await niches.lookup('uncached');
    })).toBe(3);
    expect(await requestsDuring(() => Promise.all(Array.from({ length: 4 }, () => niches.lookup('uncached'))))).toBe(4);
  });

  it('costs the intake service one request for a burst of 200 leads of one niche', async () => {
    h.niches.add('burst', true);
    let replies: Array<{ status: string; distribution_requested: boolean }> = [];
    const asked = await requestsDuring(
      async () => (replies = await Promise.all(Array.from({ length: 200 }, (_, i) => h.service.commands.approve(leadPayload(`burst-${i}`, 'burst'), { via: 'nats' })))),
    );
    expect(asked).toBe(1);
    expect(replies.filter((r) => r.status === 'accepted' && r.distribution_requested)).toHaveLength(200);
  });
});
