/**
 * A read model fed an event it cannot apply, as operators see and handle it through the
 * API. Before, one such event (a top-up the contract refuses) stopped all eight read
 * models at one position for good while /readyz stayed 200. Now only the wallet read model
 * stops, just before it; /readyz says "projection operator.wallets stalled at position N",
 * the metrics and GET /projections say which event and why; a retry (operators) tries it
 * again, a park (admins, with a reason) skips it, both in the audit log; later events are
 * applied.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams, SYSTEM_ACTOR } from '@fairlead/contracts';
import { metricValue, waitFor } from '@fairlead/testing';
import { event } from '../../testing/events';
import { startApiHarness, type ApiHarness } from '../../testing/api-harness';

let h: ApiHarness;

beforeAll(async () => {
  h = await startApiHarness('op_projections', { readerStatusWaitMs: 300 });
});
afterAll(() => h?.close());

interface ReaderView {
  name: string;
  service: string;
  state: 'running' | 'stalled';
  stalled: { event_id: string; global_position: string; error: string; attempts: number } | null;
  parked: number;
  message: string | null;
}
const readers = async (): Promise<ReaderView[]> => (await h.call('GET', '/api/v1/admin/projections', { roles: ['viewer'] })).json<{ items: ReaderView[] }>().items;
const wallets = async () => (await readers()).find((r) => r.name === 'operator.wallets')!;
const topUp = (providerId: string, amount: number, after: number) => ({
  id: randomUUID(),
  type: 'WalletToppedUp',
  data: { provider_id: providerId, amount_cents: amount, balance_after_cents: after, reference: 'seed', actor: SYSTEM_ACTOR },
});

describe('a read model stalled on an event it cannot apply', () => {
  it('stalls only that read model, says so everywhere, and goes on after an admin parks the event', async () => {
    // The report's top-up: stored by a billing that did not bound money yet; the contract refuses it now.
    const poison = topUp('p-rich', 9_007_199_254_740_981, 9_007_199_254_740_981);
    await h.append(streams.wallet('p-rich'), [poison]);
    await h.append(streams.provider('p-later'), [event('ProviderRegistered', { provider_id: 'p-later', name: 'Later', email: 'l@x.test', actor: SYSTEM_ACTOR })]);
    await h.append(streams.wallet('p-later'), [topUp('p-later', 500, 500)]);
    const [stored] = await h.store.readStream(streams.wallet('p-rich'));

    await waitFor(async () => (await wallets())?.state === 'stalled', { what: 'the stall to be reported' });
    const stalled = await wallets();
    expect(stalled).toMatchObject({ service: 'operator-api', stalled: { event_id: poison.id, global_position: stored!.globalPosition.toString(), attempts: 1 } });
    expect(stalled.stalled!.error).toMatch(/amount_cents|balance_after_cents/);
    expect(stalled.message).toContain(`projection operator.wallets stalled at position ${stored!.globalPosition}`);
    // The other read models go on: the provider after it is there.
    await waitFor(async () => (await h.call('GET', '/api/v1/admin/providers/p-later', { roles: ['viewer'] })).statusCode === 200, { what: 'the providers read model to go on' });
    // The audit log reads the same event (a top-up is an audit entry): it stops on it too, and only they do.
    await waitFor(async () => (await readers()).filter((r) => r.state === 'stalled').length === 2, { what: 'both stalls' });
    expect((await readers()).filter((r) => r.state === 'stalled').map((r) => r.name)).toEqual(['operator.audit', 'operator.wallets']);

    const ready = await h.api.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().details.checks.readers.error).toContain(`projection operator.wallets stalled at position ${stored!.globalPosition}`);
    const metrics = (await h.api.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metricValue(metrics, 'log_reader_stalled', { reader: 'operator.wallets' })).toBe(1);
    expect(metricValue(metrics, 'log_reader_stalled', { reader: 'operator.leads' })).toBe(0);

    // Roles: a viewer may not retry, an operator may not park.
    expect((await h.call('POST', '/api/v1/admin/projections/operator.wallets/retry', { roles: ['viewer'] })).statusCode).toBe(403);
    const retried = await h.call('POST', '/api/v1/admin/projections/operator.wallets/retry', { roles: ['operator'], sub: 'olga' });
    expect(retried.statusCode).toBe(202);
    // Nothing was fixed: the retry fails again, and counts.
    await waitFor(async () => (await wallets()).stalled?.attempts === 2, { what: 'the failed retry' });
    expect((await h.call('POST', '/api/v1/admin/projections/operator.wallets/park', { roles: ['operator'], body: { event_id: poison.id, reason: 'x' } })).statusCode).toBe(403);
    const wrong = await h.call('POST', '/api/v1/admin/projections/operator.wallets/park', { roles: ['admin'], body: { event_id: randomUUID(), reason: 'x' } });
    expect(wrong.statusCode).toBe(409);
    expect(wrong.json()).toMatchObject({ code: 'PROJECTION_NOT_STALLED_AT_EVENT' });

    const parked = await h.call('POST', '/api/v1/admin/projections/operator.wallets/park', {
      roles: ['admin'],
      sub: 'ada',
      body: { event_id: poison.id, reason: 'amount beyond the money bounds; refunded by hand' },
    });
    expect(parked.statusCode).toBe(202);
    expect(parked.json()).toMatchObject({ projection: 'operator.wallets', event_id: poison.id, action: 'parked' });
    await waitFor(async () => (await wallets()).state === 'running', { what: 'the read model to go on' });
    const auditParked = await h.call('POST', '/api/v1/admin/projections/operator.audit/park', { roles: ['admin'], sub: 'ada', body: { event_id: poison.id, reason: 'same event' } });
    expect(auditParked.statusCode).toBe(202);
    await waitFor(async () => (await readers()).every((r) => r.state === 'running'), { what: 'every read model to go on' });
    await h.api.caughtUp();
    expect((await h.call('GET', '/api/v1/admin/providers/p-later/wallet', { roles: ['viewer'] })).json()).toMatchObject({ balance_cents: 500 });
    expect(await wallets()).toMatchObject({ parked: 1, stalled: null });
    expect((await h.api.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    const audit = (await h.call('GET', '/api/v1/admin/audit-log?limit=50', { roles: ['viewer'] })).json<{ items: { action: string; actor: { actor_id: string }; subject: string; details: Record<string, unknown> }[] }>().items;
    expect(audit.find((e) => e.action === 'projection.event_parked' && e.subject === 'projection:operator.wallets')).toMatchObject({
      actor: { actor_id: 'ada' },
      subject: 'projection:operator.wallets',
      details: { event_id: poison.id, reason: 'amount beyond the money bounds; refunded by hand' },
    });
    expect(audit.find((e) => e.action === 'projection.retry_requested')).toMatchObject({ actor: { actor_id: 'olga' }, subject: 'projection:operator.wallets' });
  });

  it('refuses to retry or park a read model that is not stalled, and a name nobody runs', async () => {
    expect((await h.call('POST', '/api/v1/admin/projections/operator.leads/retry', { roles: ['operator'] })).json()).toMatchObject({ code: 'PROJECTION_NOT_STALLED' });
    expect((await h.call('POST', '/api/v1/admin/projections/nobody.runs.this/retry', { roles: ['operator'] })).statusCode).toBe(404);
    expect((await h.call('POST', '/api/v1/admin/projections/operator.leads/park', { roles: ['admin'], body: { event_id: 'e', reason: 'r' } })).statusCode).toBe(409);
  });
});
