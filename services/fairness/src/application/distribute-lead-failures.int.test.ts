import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, type DistributionEventData } from '@fairlead/contracts';
import { waitFor } from '@fairlead/testing';
import { request } from '@fairlead/messaging';
import { nextStep, selectProviders, startedEvent } from '../domain/distribution-decider';
import { eventIds } from '../domain/ids';
import { subscriptionsOfLevels } from '../projections/subscriptions/subscriptions.projection';
import type { FairnessService } from '../service';
import { level, startHarness, type Harness } from '../testing/harness';
import { foldLeadStream } from './lead-stream';

let h: Harness;
let service: FairnessService;

beforeAll(async () => {
  h = await startHarness('fairness_fail');
  // Attempts 1..4, then the dead-letter queue.
  service = await h.startService({ backoffMs: [150, 300, 300] });
  await h.seedNiche('f1', [level('f1', 1, 2, 1000)]);
  for (const p of ['f1-a', 'f1-b', 'f1-c']) {
    h.billing.fund(p, 10_000);
    await h.subscribe({ provider_id: p, niche_id: 'f1', level_id: 'f1-l1' });
  }
  await service.caughtUp();
});
afterAll(async () => h?.close());

const failures = async (leadId: string) =>
  (await h.leadEvents(leadId)).filter((e) => e.type === 'DistributionFailed').map((e) => e.data as DistributionEventData<'DistributionFailed'>);

async function deadLetters(): Promise<number> {
  const jsm = await jetstreamManager(h.nc);
  return (await jsm.streams.info(h.subjects.streams.deadLetters)).state.messages;
}

describe('when a distribution attempt fails', () => {
  it('billing down for longer than the first retry: each failed attempt is recorded, and the lead completes once billing is back', async () => {
    await h.billing.stop();
    await h.approveLead('f1-outage', 'f1');
    await waitFor(async () => (await failures('f1-outage')).length >= 2, { what: 'two failed attempts' });
    await h.billing.start();
    const outcome = await h.waitForOutcome('f1-outage');
    expect(outcome.outcome).toBe('success');
    expect(outcome.assignments).toHaveLength(2);
    const failed = await failures('f1-outage');
    expect(failed.every((f) => !f.final && /no responders|timed out/i.test(f.error))).toBe(true);
    expect(failed.map((f) => f.attempt)).toEqual(failed.map((_, i) => i + 1));
    expect(outcome.attempt).toBe(failed.length + 1);
    // The picks recorded before the outage are the ones charged after it: chosen once.
    expect((await h.leadEvents('f1-outage')).filter((e) => e.type === 'ProvidersSelected')).toHaveLength(1);
  });

  it('billing down through every attempt: the last failure is final and the work item is dead-lettered', async () => {
    const before = await deadLetters();
    await h.billing.stop();
    try {
      await h.approveLead('f1-dead', 'f1');
      await waitFor(async () => (await failures('f1-dead')).some((f) => f.final), { what: 'a final failure' });
      expect((await failures('f1-dead')).map((f) => [f.attempt, f.final])).toEqual([
        [1, false],
        [2, false],
        [3, false],
        [4, true],
      ]);
      await waitFor(async () => (await deadLetters()) === before + 1, { what: 'the dead letter' });
    } finally {
      await h.billing.start();
    }
    // An operator's new request resumes the same distribution.
    await h.requestDistribution('f1-dead', 'f1');
    expect((await h.waitForOutcome('f1-dead')).outcome).toBe('success');
  });

  it('a request for a lead that was never approved is dead-lettered at once with a final failure', async () => {
    const before = await deadLetters();
    await h.requestDistribution('f1-unknown', 'f1');
    await waitFor(async () => (await failures('f1-unknown')).length === 1, { what: 'the failure' });
    expect((await failures('f1-unknown'))[0]).toMatchObject({ attempt: 1, final: true });
    await waitFor(async () => (await deadLetters()) === before + 1, { what: 'the dead letter' });
  });

  it('after a crash between charging and recording, resumes with the recorded picks and charges nobody twice', async () => {
    // What a process that died mid-way left behind: the start, the picks, and a charge billing made but nobody recorded.
    await h.store.append(streams.lead('f1-crash'), [
      {
        id: 'approved-f1-crash',
        type: 'LeadApproved',
        data: {
          received_via: 'nats',
          lead: { schema_version: 1, lead_id: 'f1-crash', niche_id: 'f1', approved_at: new Date().toISOString(), consumer: { name: 'Bo', phone: '555-0100' }, location: { postal_code: '94110', state: 'CA' }, details: {} },
        },
      },
    ], 'no_stream');
    let state = foldLeadStream(await h.leadEvents('f1-crash'));
    const traversal = [level('f1', 1, 2, 1000)];
    const started = startedEvent(state, { requestId: 'r-crash', attempt: 1, startOrderPosition: 1, traversal, now: new Date() });
    await h.store.append(streams.lead('f1-crash'), [{ id: eventIds.started('f1-crash'), type: 'DistributionStarted', data: started }], state.version);
    state = foldLeadStream(await h.leadEvents('f1-crash'));
    const step = nextStep(state);
    if (step.kind !== 'select') throw new Error(`expected a selection, got ${step.kind}`);
    const selections = selectProviders(state, step.rounds, await subscriptionsOfLevels(h.db.pool, ['f1-l1']), new Date());
    await h.store.append(streams.lead('f1-crash'), selections.map((data) => ({ id: eventIds.selected('f1-crash', data.level_id, data.round), type: 'ProvidersSelected', data })), state.version);
    const picks = selections[0]!.picks.map((p) => p.provider_id);
    expect(picks).toHaveLength(2);
    const balancesBefore = picks.map((p) => h.billing.balances.get(p)!);
    await request(h.nc, h.subjects.command('billing', 'charge'), { provider_id: picks[0], lead_id: 'f1-crash', subscription_id: selections[0]!.picks[0]!.subscription_id, level_id: 'f1-l1', amount_cents: 1000 });

    // A new process picks the work item up.
    await h.requestDistribution('f1-crash', 'f1');
    const outcome = await h.waitForOutcome('f1-crash');
    expect(outcome.assignments.map((a) => a.provider_id)).toEqual(picks);
    expect(picks.map((p) => h.billing.balances.get(p))).toEqual(balancesBefore.map((b) => b - 1000));
    const events = await h.leadEvents('f1-crash');
    expect(events.filter((e) => e.type === 'ProvidersSelected')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'LeadAssigned')).toHaveLength(2);
  });
});
