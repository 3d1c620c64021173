/**
 * One wallet under many concurrent charges and top-ups, over NATS, answered by two billing
 * instances (own pools and connections, as two processes) sharing one database; and
 * charge_batch's two-statement path (read, then one statement that writes) against writers
 * that move its wallets in between, made to happen at exactly that moment.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { fold } from '../application/wallet-ledger';
import { openWallet } from '../domain/wallet';
import { startBillingHarness, type BillingHarness } from '../testing/harness';

let h: BillingHarness;

beforeAll(async () => {
  h = await startBillingHarness('billing_conc');
  await h.start({ maxConcurrentWrites: 3 });
  await h.start({ maxConcurrentWrites: 3 });
});
afterAll(() => h?.close());

describe('charges against one wallet, concurrently, two instances', () => {
  it('never overdraws, charges each (lead, provider) once, and the charges sum to the balance drop', async () => {
    await h.command('register_provider', { provider_id: 'hot', name: 'Hot', email: 'hot@w.test' });
    await h.command('top_up', { provider_id: 'hot', amount_cents: 1000 });
    const leads = Array.from({ length: 60 }, (_, i) => `lead-${i}`);
    const chargeOf = (lead: string) => h.command('charge', { provider_id: 'hot', lead_id: lead, subscription_id: 's', level_id: 'l', amount_cents: 30 });
    // Each lead charged twice at once, with five top-ups racing the charges.
    const [charges, repeats] = await Promise.all([
      Promise.all(leads.map(chargeOf)),
      Promise.all(leads.map(chargeOf)),
      Promise.all(Array.from({ length: 5 }, () => h.command('top_up', { provider_id: 'hot', amount_cents: 100 }))),
    ]);
    expect(repeats).toEqual(charges);

    const events = await h.store.readStream(streams.wallet('hot'));
    const decisions = events.filter((e) => e.type === 'WalletCharged' || e.type === 'WalletChargeDeclined');
    expect(decisions).toHaveLength(60);
    expect(new Set(decisions.map((e) => (e.data as { lead_id: string }).lead_id)).size).toBe(60);

    // Replaying the stream: the balance never goes below zero, declines only when short.
    let balance = 0;
    for (const e of events) {
      if (e.type === 'WalletToppedUp') balance += parseDistributionEvent('WalletToppedUp', e.data).amount_cents;
      if (e.type === 'WalletCharged') {
        const d = parseDistributionEvent('WalletCharged', e.data);
        balance -= d.amount_cents;
        expect(d.balance_after_cents).toBe(balance);
      }
      if (e.type === 'WalletChargeDeclined') expect(parseDistributionEvent('WalletChargeDeclined', e.data).balance_cents).toBeLessThan(30);
      expect(balance).toBeGreaterThanOrEqual(0);
    }

    const charged = charges.filter((c) => c.charged);
    const final = (await h.command('get_provider', { provider_id: 'hot' })).balance_cents;
    expect(final).toBe(1500 - 30 * charged.length);
    expect(final).toBeGreaterThanOrEqual(0);
    expect(charged.length).toBeLessThanOrEqual(1500 / 30);
    expect(charged.length).toBe(decisions.filter((e) => e.type === 'WalletCharged').length);
    const folded = fold(openWallet('hot'), events);
    expect(folded.balance_cents).toBe(final);
    const { rows } = await h.db.pool.query<{ n: string; sum: string }>(
      `select count(*) as n, coalesce(sum(amount_cents) filter (where charged), 0) as sum from billing.charges where provider_id = 'hot'`,
    );
    expect({ n: Number(rows[0]!.n), sum: Number(rows[0]!.sum) }).toEqual({ n: 60, sum: 30 * charged.length });
  });

  it('different wallets are charged in parallel without affecting each other', async () => {
    const providers = ['p1', 'p2', 'p3', 'p4'];
    for (const p of providers) {
      await h.command('register_provider', { provider_id: p, name: p, email: `${p}@w.test` });
      await h.command('top_up', { provider_id: p, amount_cents: 100 });
    }
    await Promise.all(
      providers.flatMap((p) => Array.from({ length: 10 }, (_, i) => h.command('charge', { provider_id: p, lead_id: `x-${i}`, subscription_id: 's', level_id: 'l', amount_cents: 25 }))),
    );
    for (const p of providers) expect((await h.command('get_provider', { provider_id: p })).balance_cents).toBe(0);
  });
});

/** Waits until a backend of the test database waits on a lock while running a statement `match`es; returns its text. */
async function lockWaitOf(match: (query: string) => boolean): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await h.db.pool.query<{ query: string }>(
      "select query from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()",
    );
    const found = rows.find((r) => match(r.query));
    if (found) return found.query;
    if (Date.now() > deadline) throw new Error(`no statement waits on a lock as expected; waiting: ${JSON.stringify(rows.map((r) => r.query))}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The batch's one statement (append_batch + billing.write_charge_batch). */
const isOneStatement = (q: string) => q.includes('append_batch') && q.includes('billing.write_charge_batch');
/** The transactional path's row lock. */
const isRowLock = (q: string) => /from billing\.wallets .*for update/s.test(q) && !q.includes('append_batch');

/** A writer as every wallet write is: the row locked, an event appended with its version, the row moved, committed. */
async function walletWriter(providerId: string) {
  const client: pg.PoolClient = await h.db.pool.connect();
  await client.query('begin');
  const { rows } = await client.query<{ balance_cents: string; version: number }>('select balance_cents, version from billing.wallets where provider_id = $1 for update', [providerId]);
  let { version } = rows[0]!;
  let balance = Number(rows[0]!.balance_cents);
  return {
    balance: () => balance,
    /** Appends a top-up (negative: a charge of another lead) in the open transaction. */
    move: async (cents: number) => {
      balance += cents;
      const event =
        cents >= 0
          ? { id: randomUUID(), type: 'WalletToppedUp', data: { provider_id: providerId, amount_cents: cents, balance_after_cents: balance, reference: 'test', actor: SYSTEM_ACTOR }, metadata: {} }
          : {
              id: randomUUID(),
              type: 'WalletCharged',
              data: { provider_id: providerId, lead_id: `other-${randomUUID()}`, subscription_id: 's', level_id: 'l', amount_cents: -cents, balance_after_cents: balance },
              metadata: {},
            };
      await h.store.appendInTransaction(client, streams.wallet(providerId), [event], version);
      version += 1;
      await client.query('update billing.wallets set balance_cents = $2, version = $3 where provider_id = $1', [providerId, balance, version]);
      if (event.type === 'WalletCharged') {
        await client.query(
          `insert into billing.charges (lead_id, provider_id, subscription_id, level_id, charged, amount_cents, balance_cents) values ($1, $2, 's', 'l', true, $3, $4)`,
          [(event.data as { lead_id: string }).lead_id, providerId, -cents, balance],
        );
      }
    },
    commit: async () => {
      await client.query('commit');
      client.release();
    },
    rollback: async () => {
      await client.query('rollback').catch(() => undefined);
      client.release();
    },
  };
}

/** The wallet's row and charge records agree with its stream. */
async function expectRowsMatchStream(providerId: string) {
  const events = await h.store.readStream(streams.wallet(providerId));
  const folded = fold(openWallet(providerId), events);
  const { rows } = await h.db.pool.query<{ balance: string; version: number }>('select balance_cents as balance, version from billing.wallets where provider_id = $1', [providerId]);
  expect({ balance: Number(rows[0]!.balance), version: rows[0]!.version }).toEqual({ balance: folded.balance_cents, version: folded.version });
  const decided = events.filter((e) => e.type === 'WalletCharged' || e.type === 'WalletChargeDeclined').map((e) => (e.data as { lead_id: string }).lead_id);
  const recorded = await h.db.pool.query<{ lead_id: string }>('select lead_id from billing.charges where provider_id = $1', [providerId]);
  expect(recorded.rows.map((r) => r.lead_id).sort()).toEqual([...new Set(decided)].sort());
}

const batchItem = (leadId: string, providerId: string, amount = 40) => ({ lead_id: leadId, provider_id: providerId, subscription_id: `${providerId}-s`, level_id: 'l', amount_cents: amount });

describe('charge_batch in two statements, against writers of the same wallets', () => {
  it('a wallet moved between the batch’s read and its write: the statement is refused whole, and the batch decided again on the wallet as it is', async () => {
    await h.command('register_provider', { provider_id: 'mid', name: 'Mid', email: 'mid@w.test' });
    await h.command('top_up', { provider_id: 'mid', amount_cents: 50 });
    // A writer has charged 30 of the 50 and not committed: the batch reads 50 and decides to charge 40.
    const writer = await walletWriter('mid');
    await writer.move(-30);
    const batch = h.command('charge_batch', { charges: [batchItem('M1', 'mid')] });
    try {
      // The batch's one statement waits for the writer's stream row (the two-statement path was taken) ...
      await lockWaitOf(isOneStatement);
      await writer.commit();
    } catch (error) {
      await writer.rollback();
      throw error;
    }
    // ... and, its append refused, is decided again on the 20 left: declined.
    expect((await batch).results).toEqual([{ charged: false, provider_id: 'mid', lead_id: 'M1', amount_cents: 40, balance_cents: 20, reason: 'insufficient_balance' }]);
    await expectRowsMatchStream('mid');
  });

  it('a writer holding a wallet’s row: the batch’s statement does not wait for it (no deadlock) but is refused, and the batch waits its turn', async () => {
    for (const p of ['held', 'free']) {
      await h.command('register_provider', { provider_id: p, name: p, email: `${p}@w.test` });
      await h.command('top_up', { provider_id: p, amount_cents: 50 });
    }
    // The writer holds `held`'s row and has not appended yet; the batch charges both wallets.
    const writer = await walletWriter('held');
    const batch = h.command('charge_batch', { charges: [batchItem('H1', 'free'), batchItem('H1', 'held')] });
    try {
      // The two-statement path gave up (its statement refused, its appends undone) and the
      // transactional path waits for the row, holding nothing the writer needs next ...
      await lockWaitOf(isRowLock);
      await writer.move(100);
      await writer.commit();
    } catch (error) {
      await writer.rollback();
      throw error;
    }
    // ... so the batch is decided on the 150 the writer left.
    expect((await batch).results).toEqual([
      { charged: true, provider_id: 'free', lead_id: 'H1', amount_cents: 40, balance_after_cents: 10 },
      { charged: true, provider_id: 'held', lead_id: 'H1', amount_cents: 40, balance_after_cents: 110 },
    ]);
    for (const p of ['held', 'free']) await expectRowsMatchStream(p);
  });

  it('batches over shared wallets, each sent twice, with top-ups, on two instances: never overdrawn, one decision per (lead, provider), a repeat answers the first decision', async () => {
    const providers = ['sh1', 'sh2', 'sh3'];
    for (const p of providers) {
      await h.command('register_provider', { provider_id: p, name: p, email: `${p}@w.test` });
      await h.command('top_up', { provider_id: p, amount_cents: 400 });
    }
    // 20 batches of two leads, each lead picking two of the three wallets, stopping at the first decline.
    const batches = Array.from({ length: 20 }, (_, b) => ({
      charges: [0, 1].flatMap((l) => {
        const lead = `sh-${b}-${l}`;
        return [0, 1].map((k) => batchItem(lead, providers[(b + l + k) % 3]!));
      }),
      stop_at_first_decline: true,
    }));
    const [first, second] = await Promise.all([
      Promise.all(batches.map((b) => h.command('charge_batch', b))),
      Promise.all(batches.map((b) => h.command('charge_batch', b))),
      Promise.all(providers.map((p) => h.command('top_up', { provider_id: p, amount_cents: 40 }))),
    ]);
    // A repeat answers what was decided: the same decisions, except where the first stopped before a lead the second found decided.
    first.forEach((reply, b) =>
      reply.results.forEach((result, i) => {
        const again = second[b]!.results[i]!;
        if ('charged' in result && 'charged' in again) expect(again).toEqual(result);
      }),
    );
    for (const p of providers) {
      const events = await h.store.readStream(streams.wallet(p));
      const decisions = events.filter((e) => e.type === 'WalletCharged' || e.type === 'WalletChargeDeclined');
      expect(new Set(decisions.map((e) => (e.data as { lead_id: string }).lead_id)).size).toBe(decisions.length);
      let cents = 0;
      for (const e of events) {
        if (e.type === 'WalletToppedUp') cents += parseDistributionEvent('WalletToppedUp', e.data).amount_cents;
        if (e.type === 'WalletCharged') cents -= parseDistributionEvent('WalletCharged', e.data).amount_cents;
        if (e.type === 'WalletChargeDeclined') expect(parseDistributionEvent('WalletChargeDeclined', e.data).balance_cents).toBe(cents);
        expect(cents).toBeGreaterThanOrEqual(0);
      }
      await expectRowsMatchStream(p);
    }
    // Every (lead, provider) answered charged by either copy was charged exactly once.
    const charged = [...first, ...second].flatMap((r) => r.results).filter((r) => 'charged' in r && r.charged);
    const pairs = new Set(charged.map((r) => `${r.lead_id}/${r.provider_id}`));
    const { rows } = await h.db.pool.query<{ n: number }>("select count(*)::int as n from billing.charges where provider_id like 'sh%' and charged");
    expect(rows[0]!.n).toBe(pairs.size);
  });
});
