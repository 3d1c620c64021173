/**
 * claim_start_levels over NATS against a real rotation instance: a batch claims in request
 * order as single claims would, in one transaction; repeats answer from the first claim;
 * per-lead errors; and a lead claimed under another niche's lock while the batch decides.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { isRemoteError, type RemoteError } from '@fairlead/messaging';
import { waitFor } from '@fairlead/testing';
import { eventIds } from '../domain/ids';
import { startRotationHarness, type RotationHarness } from '../testing/harness';

let h: RotationHarness;

beforeAll(async () => {
  h = await startRotationHarness('rotation_batch');
  await h.start();
});
afterAll(() => h?.close());

async function remoteError(promise: Promise<unknown>): Promise<RemoteError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRemoteError(error)) throw new Error(`expected a remote error, got ${String(error)}`);
  return error;
}

async function seedNiche(nicheId: string, positions: number[]): Promise<void> {
  await h.command('create_niche', { niche_id: nicheId, name: nicheId });
  for (const n of positions) {
    await h.command('add_level', { niche_id: nicheId, level_id: `${nicheId}-l${n}`, name: `L${n}`, order_position: n, max_recipients: 1, price_per_lead_cents: 100 * n });
  }
}

const claimed = async (nicheId: string) => (await h.store.readStream(streams.niche(nicheId))).filter((e) => e.type === 'StartLevelClaimed');
const starts = async (nicheId: string) => (await claimed(nicheId)).map((e) => parseDistributionEvent('StartLevelClaimed', e.data).start_order_position);
const circular = (start: number, n: number) => Array.from({ length: n }, (_, k) => ((start - 1 + k) % n) + 1);
const batch = (niche_id: string, lead_ids: string[]) => h.command('claim_start_levels', { niche_id, lead_ids });

describe('claim_start_levels', () => {
  it('claims a batch in request order (1,2,3,1,2,3,1) in one transaction; the next single claim continues at 2', async () => {
    await seedNiche('seven', [1, 2, 3]);
    const leads = ['g', 'a', 'f', 'b', 'e', 'c', 'd'];
    const reply = await batch('seven', leads);
    expect(reply.niche_id).toBe('seven');
    expect(reply.claims.map((c) => c.lead_id)).toEqual(leads);
    const expected = [1, 2, 3, 1, 2, 3, 1];
    reply.claims.forEach((c, i) => {
      if (!('start_order_position' in c)) throw new Error(`lead ${c.lead_id}: ${c.error.code}`);
      expect(c.start_order_position).toBe(expected[i]);
      expect(c.traversal.map((l) => l.order_position)).toEqual(circular(expected[i]!, 3));
      expect(c.traversal[0]).toEqual({ level_id: `seven-l${expected[i]}`, name: `L${expected[i]}`, order_position: expected[i], max_recipients: 1, price_per_lead_cents: 100 * expected[i]! });
    });

    const events = await claimed('seven');
    expect(events.map((e) => parseDistributionEvent('StartLevelClaimed', e.data).lead_id)).toEqual(leads);
    expect(events.map((e) => e.id)).toEqual(leads.map((l) => eventIds.startLevelClaimed(l)));
    expect(new Set(events.map((e) => e.transactionId)).size).toBe(1);
    const { rows } = await h.db.pool.query<{ lead_id: string; start_order_position: number }>(
      `select lead_id, start_order_position from rotation.claims where niche_id = 'seven'`,
    );
    expect(new Map(rows.map((r) => [r.lead_id, r.start_order_position]))).toEqual(new Map(leads.map((l, i) => [l, expected[i]])));

    const next = await h.command('claim_start_level', { niche_id: 'seven', lead_id: 'h' });
    expect(next.start_order_position).toBe(2);
    expect(next.traversal.map((l) => l.order_position)).toEqual([2, 3, 1]);
    // A single claim of a lead of the batch gets the batch's answer.
    expect(await h.command('claim_start_level', { niche_id: 'seven', lead_id: 'f' })).toEqual({ niche_id: 'seven', ...reply.claims[2]! });
    expect(reply.claims[2]!.lead_id).toBe('f');
  });

  it('answers leads claimed before with their first claim without advancing the pointer for them; the same batch twice answers the same', async () => {
    await seedNiche('repeat', [1, 2, 3]);
    const r1 = await h.command('claim_start_level', { niche_id: 'repeat', lead_id: 'r1' });
    const r2 = await h.command('claim_start_level', { niche_id: 'repeat', lead_id: 'r2' });
    const leads = ['n1', 'r2', 'n2', 'r1', 'n3'];
    const first = await batch('repeat', leads);
    expect(first.claims).toEqual([
      { lead_id: 'n1', start_order_position: 3, traversal: expect.any(Array) },
      { lead_id: 'r2', start_order_position: r2.start_order_position, traversal: r2.traversal },
      { lead_id: 'n2', start_order_position: 1, traversal: expect.any(Array) },
      { lead_id: 'r1', start_order_position: r1.start_order_position, traversal: r1.traversal },
      { lead_id: 'n3', start_order_position: 2, traversal: expect.any(Array) },
    ]);
    const version = await h.store.streamVersion(streams.niche('repeat'));
    expect(await batch('repeat', leads)).toEqual(first);
    // Only repeats, in another order: answered from the rows, nothing appended.
    expect((await batch('repeat', ['n3', 'r1'])).claims).toEqual([first.claims[4], first.claims[3]]);
    expect(await h.store.streamVersion(streams.niche('repeat'))).toBe(version);
    expect(await starts('repeat')).toEqual([1, 2, 3, 1, 2]);
  });

  it('gives each new lead NO_ACTIVE_LEVELS when the niche has no active level, and still answers leads claimed before', async () => {
    await seedNiche('dormant', [1]);
    const early = await h.command('claim_start_level', { niche_id: 'dormant', lead_id: 'early' });
    await h.command('update_level', { niche_id: 'dormant', level_id: 'dormant-l1', active: false });
    const version = await h.store.streamVersion(streams.niche('dormant'));
    const reply = await batch('dormant', ['late-1', 'early', 'late-2']);
    expect(reply.claims).toEqual([
      { lead_id: 'late-1', error: { code: 'NO_ACTIVE_LEVELS', message: expect.stringContaining('dormant') } },
      { lead_id: 'early', start_order_position: early.start_order_position, traversal: early.traversal },
      { lead_id: 'late-2', error: { code: 'NO_ACTIVE_LEVELS', message: expect.stringContaining('dormant') } },
    ]);
    expect(await h.store.streamVersion(streams.niche('dormant'))).toBe(version);
    const { rows } = await h.db.pool.query(`select 1 from rotation.claims where lead_id like 'late-%'`);
    expect(rows).toHaveLength(0);
  });

  it('fails the whole request for an unknown niche', async () => {
    expect((await remoteError(batch('nowhere', ['x1', 'x2']))).code).toBe('NICHE_NOT_FOUND');
    const { rows } = await h.db.pool.query(`select 1 from rotation.claims where lead_id in ('x1', 'x2')`);
    expect(rows).toHaveLength(0);
  });

  it('gives a lead claimed in another niche its own LEAD_CLAIMED_IN_OTHER_NICHE while the others are claimed', async () => {
    await seedNiche('here', [1, 2]);
    await seedNiche('there', [1]);
    await h.command('claim_start_level', { niche_id: 'there', lead_id: 'taken' });
    const reply = await batch('here', ['h1', 'taken', 'h2']);
    expect(reply.claims).toEqual([
      { lead_id: 'h1', start_order_position: 1, traversal: expect.any(Array) },
      { lead_id: 'taken', error: { code: 'LEAD_CLAIMED_IN_OTHER_NICHE', message: expect.stringContaining('there') } },
      { lead_id: 'h2', start_order_position: 2, traversal: expect.any(Array) },
    ]);
    // Every lead known: answered from the rows alone, the same way.
    expect(await batch('here', ['taken', 'h2'])).toEqual({ niche_id: 'here', claims: [reply.claims[1], reply.claims[2]] });
    expect(await starts('there')).toEqual([1]);
  });

  it('refuses an empty batch, a lead named twice and more than 500 leads with INVALID_REQUEST', async () => {
    for (const lead_ids of [[], ['a', 'b', 'a'], Array.from({ length: 501 }, (_, i) => `many-${i}`)]) {
      const error = await remoteError(batch('seven', lead_ids));
      expect(error.code).toBe('INVALID_REQUEST');
      expect(error.issues?.map((i) => i.path.join('.'))).toEqual(['lead_ids']);
    }
    expect((await remoteError(h.command('claim_start_levels', { niche_id: 'seven', lead_ids: ['ok', 'has space'] }))).code).toBe('INVALID_REQUEST');
  });
});

/**
 * Another niche's claim of a lead, held open in a transaction of its own: what a rotation
 * instance claiming that lead under the other niche's lock writes (event, then row).
 */
async function holdClaimElsewhere(leadId: string, nicheId: string, withEvent: boolean) {
  const tx = await h.db.pool.connect();
  await tx.query('begin');
  if (withEvent) {
    const event = { niche_id: nicheId, lead_id: leadId, start_order_position: 1, next_start_order_position: 1, traversal: [] };
    await h.store.appendInTransaction(tx, streams.niche(nicheId), [{ id: eventIds.startLevelClaimed(leadId), type: 'StartLevelClaimed', data: event }], 'any');
  }
  await tx.query(`insert into rotation.claims (lead_id, niche_id, start_order_position, traversal) values ($1, $2, 1, '[]')`, [leadId, nicheId]);
  return {
    commit: async () => {
      await tx.query('commit');
      tx.release();
    },
  };
}

/** Waits until a rotation statement is blocked on a lock the test holds. */
const blockedOnLock = () =>
  waitFor(
    async () => {
      const { rows } = await h.db.pool.query(`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
      return rows.length > 0;
    },
    { what: 'a claim blocked on the held claim' },
  );

describe('a lead claimed under another niche while the batch decides', () => {
  // Each race undoes a write made under the niche's session lock: none is left on a pooled connection.
  afterEach(async () => {
    const { rows } = await h.db.pool.query(`select 1 from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`);
    expect(rows).toEqual([]);
  });

  it.each([
    ['its event id', true],
    ['its claims row', false],
  ])('rolls the batch back when %s is taken first, asks again, and answers that lead LEAD_CLAIMED_IN_OTHER_NICHE', async (_what, withEvent) => {
    const niche = withEvent ? 'race-event' : 'race-row';
    await seedNiche(niche, [1, 2]);
    const held = await holdClaimElsewhere(`${niche}-contested`, 'elsewhere', withEvent);
    const pending = batch(niche, [`${niche}-a`, `${niche}-contested`, `${niche}-b`]);
    await blockedOnLock();
    await held.commit();
    const reply = await pending;
    expect(reply.claims).toEqual([
      { lead_id: `${niche}-a`, start_order_position: 1, traversal: expect.any(Array) },
      { lead_id: `${niche}-contested`, error: { code: 'LEAD_CLAIMED_IN_OTHER_NICHE', message: expect.stringContaining('elsewhere') } },
      { lead_id: `${niche}-b`, start_order_position: 2, traversal: expect.any(Array) },
    ]);
    // The rolled-back attempt left nothing: two claims, no skipped position.
    expect((await claimed(niche)).map((e) => parseDistributionEvent('StartLevelClaimed', e.data).lead_id)).toEqual([`${niche}-a`, `${niche}-b`]);
    expect((await h.command('get_niche', { niche_id: niche })).next_start_order_position).toBe(1);
  });

  it('asks again when two niches wait on each other for the same leads (a deadlock PostgreSQL breaks)', async () => {
    await seedNiche('race-deadlock', [1, 2]);
    const tx = await h.db.pool.connect();
    await tx.query('begin');
    // The other side waits longer before checking for a deadlock, so PostgreSQL fails the batch's transaction.
    await tx.query(`set local deadlock_timeout = '30s'`);
    const claimElsewhere = (lead: string) => {
      const data = { niche_id: 'elsewhere-3', lead_id: lead, start_order_position: 1, next_start_order_position: 1, traversal: [] };
      return h.store.appendInTransaction(tx, streams.niche('elsewhere-3'), [{ id: eventIds.startLevelClaimed(lead), type: 'StartLevelClaimed', data }], 'any');
    };
    await claimElsewhere('dl-b');
    await tx.query(`insert into rotation.claims (lead_id, niche_id, start_order_position, traversal) values ('dl-a', 'elsewhere-3', 1, '[]'), ('dl-b', 'elsewhere-3', 1, '[]')`);
    // The batch writes dl-a's event, then waits for dl-b's; the other side then waits for dl-a's.
    const pending = batch('race-deadlock', ['dl-a', 'dl-b']);
    await blockedOnLock();
    await claimElsewhere('dl-a');
    await tx.query('commit');
    tx.release();
    expect((await pending).claims).toEqual([
      { lead_id: 'dl-a', error: expect.objectContaining({ code: 'LEAD_CLAIMED_IN_OTHER_NICHE' }) },
      { lead_id: 'dl-b', error: expect.objectContaining({ code: 'LEAD_CLAIMED_IN_OTHER_NICHE' }) },
    ]);
    expect(await claimed('race-deadlock')).toEqual([]);
  });

  it('does the same for a single claim', async () => {
    await seedNiche('race-single', [1, 2]);
    const held = await holdClaimElsewhere('single-contested', 'elsewhere-2', true);
    const pending = remoteError(h.command('claim_start_level', { niche_id: 'race-single', lead_id: 'single-contested' }));
    await blockedOnLock();
    await held.commit();
    expect((await pending).code).toBe('LEAD_CLAIMED_IN_OTHER_NICHE');
    expect(await claimed('race-single')).toEqual([]);
  });
});
