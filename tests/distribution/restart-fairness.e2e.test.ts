/**
 * Issue 10: the least-recently-served order across restarts, end to end. Leads are in
 * flight when every service is stopped as Ctrl-C stops `npm start` (SIGINT to all at once)
 * and, later, killed (kill -9); the services start again and finish the work. Then the
 * whole event log is audited: every round's candidates must be in the order the history
 * of picks and assignments gives (ServedHistory, the audit's own re-derivation), and equal
 * providers must have received equal shares (counts differ by at most one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DistributionEventData } from '@fairlead/contracts';
import { START, type StoredEvent } from '@fairlead/event-store';
import { ServedHistory } from '@fairlead/operator-api';
import { waitFor } from '@fairlead/testing';
import { checkInvariants, collectFacts } from '../support/invariants';
import { seedNiche, seedProvider, seedSubscription, unique } from '../support/seed';
import { leadPayload, startDistributionSystem, type DistributionSystem } from '../support/system';

let system: DistributionSystem;

beforeAll(async () => {
  system = await startDistributionSystem('restart', { backoffMs: [300, 600, 2000, 4000, 8000] });
}, 120_000);
afterAll(async () => {
  await system?.close();
});

const LEVELS = [
  { max_recipients: 2, price_per_lead_cents: 100 },
  { max_recipients: 1, price_per_lead_cents: 50 },
];

async function countOf(type: string, leads: string[]): Promise<number> {
  const { rows } = await system.db.pool.query<{ n: number }>(`select count(*)::int as n from eventstore.events where type = $1 and stream_name = any($2)`, [
    type,
    leads.map((id) => `lead-${id}`),
  ]);
  return rows[0]!.n;
}
const outcomesCount = (leads: string[]) => countOf('DistributionCompleted', leads);

/** Every event of these leads' streams, in log order. */
async function leadLog(leads: string[]): Promise<StoredEvent[]> {
  const wanted = new Set(leads.map((id) => `lead-${id}`));
  const out: StoredEvent[] = [];
  for (let from = START; ; ) {
    const batch = await system.store.readAll(from, 2_000, { categories: ['lead'] });
    out.push(...batch.events.filter((e) => wanted.has(e.stream)));
    if (batch.checkpoint.globalPosition === from.globalPosition && batch.checkpoint.transactionId === from.transactionId) return out;
    from = batch.checkpoint;
  }
}

const everyService = () => Object.values(system.services);

describe('fairness across restarts', () => {
  it('leads decided after Ctrl-C and after kill -9 still follow the least-recently-served order of the whole log', async () => {
    const niche = await seedNiche(system, 'restart', LEVELS);
    const providers: string[][] = [[], []];
    for (const [l, ids] of providers.entries()) {
      for (let i = 0; i < 3; i++) {
        const id = await seedProvider(system, unique(`rs${l}p${i}`), 1_000_000);
        ids.push(id);
        await seedSubscription(system, id, niche, l + 1);
      }
    }
    const publish = async (count: number, wave: string) => {
      const ids = Array.from({ length: count }, (_, i) => unique(`rs-${wave}-lead${i}`));
      await Promise.all(ids.map((id) => system.publishLead(leadPayload(id, niche.niche_id))));
      return ids;
    };
    const leads = await publish(120, 'a');

    // Ctrl-C in the middle of the run: every process gets SIGINT. Billing is the quickest to
    // go, so fairness is left with leads whose picks are recorded but not charged: it waits
    // until the log shows some, then the others stop too.
    await waitFor(async () => (await outcomesCount(leads)) >= 25, { timeoutMs: 120_000, intervalMs: 20, what: '25 outcomes before Ctrl-C' });
    await system.services.billing.stop('SIGINT');
    // On a quick machine the first wave can be finished by the time billing has exited; a
    // few leads published now cannot be charged, so fairness records failed attempts either way.
    leads.push(...(await publish(10, 'a2')));
    await waitFor(async () => (await countOf('DistributionFailed', leads)) >= 2, { timeoutMs: 60_000, intervalMs: 20, what: 'attempts failing on billing' });
    await Promise.all(everyService().map((s) => s.stop('SIGINT')));
    const afterStop = await outcomesCount(leads);
    expect(afterStop).toBeLessThan(leads.length);
    // More leads arrive while everything is down (JetStream keeps them).
    leads.push(...(await publish(150, 'b')));
    await Promise.all(everyService().map((s) => s.restart()));

    // Then a crash: kill -9 of every process, in the middle of the backlog.
    await waitFor(async () => (await outcomesCount(leads)) >= afterStop + 20, { timeoutMs: 120_000, intervalMs: 10, what: '20 more outcomes before kill -9' });
    await Promise.all(everyService().map((s) => s.kill()));
    expect(await outcomesCount(leads)).toBeLessThan(leads.length);
    await Promise.all(everyService().map((s) => s.restart()));

    await waitFor(async () => (await outcomesCount(leads)) === leads.length, { timeoutMs: 300_000, intervalMs: 250, what: 'every outcome after the restarts' });

    const history = new ServedHistory();
    const violations: string[] = [];
    for (const event of await leadLog(leads)) {
      const verdict = history.apply(event);
      if (verdict && verdict.violations.length > 0) violations.push(`#${verdict.global_position} ${verdict.lead_id} ${verdict.level_id} round ${verdict.round}: ${verdict.violations.join('; ')}`);
    }
    expect(violations).toEqual([]);

    const facts = await collectFacts(system, niche.niche_id, leads, providers.flat());
    expect(checkInvariants(facts, { levels: LEVELS.length, leadIds: leads, maxRecipients: Object.fromEntries(niche.levels.map((id, i) => [id, LEVELS[i]!.max_recipients])) })).toEqual([]);
    // Every lead filled every slot (everyone is funded), and the equal providers of a level shared the leads evenly.
    expect(facts.outcomes.every((o: DistributionEventData<'DistributionCompleted'>) => o.outcome === 'success' && o.assignments.length === 3)).toBe(true);
    for (const [l, ids] of providers.entries()) {
      const counts = ids.map((p) => facts.assignments.filter((a) => a.provider_id === p && a.level_id === niche.levels[l]).length);
      expect(Math.max(...counts) - Math.min(...counts), `level ${l + 1}: ${counts.join('/')}`).toBeLessThanOrEqual(1);
    }
  }, 600_000);
});
