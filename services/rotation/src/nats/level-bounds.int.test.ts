/**
 * Prices and counts at the boundary of rotation's commands: a level price of
 * 2,147,483,648 cents (accepted before, it stopped the fairness and billing projections
 * for good on an `integer` column) is refused with the reasons, as are counts past
 * COUNT_LIMITS; the largest accepted values are stored and read back exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNT_LIMITS, MONEY_LIMITS, streams } from '@fairlead/contracts';
import { isRemoteError } from '@fairlead/messaging';
import { startRotationHarness, type RotationHarness } from '../testing/harness';

let h: RotationHarness;

beforeAll(async () => {
  h = await startRotationHarness('rotation_bounds');
  await h.start({ autoDistributeDefault: false });
  await h.command('create_niche', { niche_id: 'bounds', name: 'Bounds' });
});
afterAll(() => h?.close());

const level = (n: number, extra: Record<string, unknown>) => ({ niche_id: 'bounds', level_id: `bounds-l${n}`, name: `L${n}`, order_position: n, max_recipients: 1, price_per_lead_cents: 100, ...extra });

async function refusal(verb: 'add_level' | 'update_level', body: Record<string, unknown>): Promise<{ code: string; paths: string[] }> {
  const error = await h.command(verb, body as never).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRemoteError(error)) throw new Error(`${verb} was accepted: ${JSON.stringify(body)}`);
  return { code: error.code, paths: (error.issues ?? []).map((i) => i.path.join('.')) };
}

describe('level bounds on rotation’s commands', () => {
  it.each([
    ['a price of 2,147,483,648 cents', { price_per_lead_cents: 2_147_483_648 }, 'price_per_lead_cents'],
    ['a price one cent over the maximum', { price_per_lead_cents: MONEY_LIMITS.maxPriceCents + 1 }, 'price_per_lead_cents'],
    ['max_recipients past the limit', { max_recipients: COUNT_LIMITS.maxRecipients + 1 }, 'max_recipients'],
    ['an order position past the limit', { order_position: COUNT_LIMITS.maxOrderPosition + 1 }, 'order_position'],
  ])('add_level refuses %s, writing nothing', async (_, extra, path) => {
    const before = await h.store.streamVersion(streams.niche('bounds'));
    expect(await refusal('add_level', level(9, extra))).toEqual({ code: 'INVALID_REQUEST', paths: [path] });
    expect(await h.store.streamVersion(streams.niche('bounds'))).toBe(before);
  });

  it('stores the largest price and counts, and refuses raising a price past the maximum', async () => {
    const niche = await h.command('add_level', level(1, { price_per_lead_cents: MONEY_LIMITS.maxPriceCents, max_recipients: COUNT_LIMITS.maxRecipients }));
    expect(niche.levels[0]).toMatchObject({ price_per_lead_cents: MONEY_LIMITS.maxPriceCents, max_recipients: COUNT_LIMITS.maxRecipients });
    expect(await refusal('update_level', { niche_id: 'bounds', level_id: 'bounds-l1', price_per_lead_cents: 2_147_483_648 })).toEqual({ code: 'INVALID_REQUEST', paths: ['price_per_lead_cents'] });
  });
});
