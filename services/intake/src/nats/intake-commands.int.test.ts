/** Intake's NATS commands, and the idempotency of approvals and rejections, on the real store and NATS. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRemoteError, request, type RemoteError } from '@fairlead/messaging';
import { leadPayload, startIntakeHarness, type IntakeHarness } from '../testing/harness';

let h: IntakeHarness;

beforeAll(async () => {
  h = await startIntakeHarness('intake_cmds');
  h.niches.add('auto', true);
  h.niches.add('manual', false);
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

describe('intake commands over NATS', () => {
  it('approve_lead accepts once and answers repeats as duplicates', async () => {
    expect(await h.command('approve_lead', leadPayload('c-1', 'auto'))).toEqual({ lead_id: 'c-1', status: 'accepted', distribution_requested: true });
    expect(await h.command('approve_lead', leadPayload('c-1', 'auto'))).toEqual({ lead_id: 'c-1', status: 'duplicate', distribution_requested: false });
    expect((await h.leadEvents('c-1')).map((e) => e.type)).toEqual(['LeadApproved', 'DistributionRequested']);
  });

  it('approve_lead answers a malformed payload with INVALID_REQUEST and its issues, an unknown niche with UNKNOWN_NICHE', async () => {
    const invalid = await remoteError(h.command('approve_lead', { ...leadPayload('c-bad', 'auto'), lead_id: '' }));
    expect(invalid.code).toBe('INVALID_REQUEST');
    expect(invalid.issues?.map((i) => i.path.join('.'))).toContain('lead_id');
    const notJson = await remoteError(request(h.nc, h.subjects.command('intake', 'approve_lead'), new TextEncoder().encode('lead please')));
    expect(notJson.code).toBe('INVALID_REQUEST');
    const lost = await remoteError(h.command('approve_lead', leadPayload('c-lost', 'atlantis')));
    expect(lost.code).toBe('UNKNOWN_NICHE');
    expect((await h.leadEvents('c-lost')).map((e) => e.type)).toEqual(['LeadRejected']);
  });

  it('request_distribution: LEAD_NOT_FOUND, LEAD_NOT_APPROVED, queued, already_queued, and INVALID_REQUEST for bad input', async () => {
    expect((await remoteError(h.command('request_distribution', { lead_id: 'ghost' }))).code).toBe('LEAD_NOT_FOUND');
    expect((await remoteError(h.command('request_distribution', { lead_id: 'c-lost' }))).code).toBe('LEAD_NOT_APPROVED');
    await h.command('approve_lead', leadPayload('c-m', 'manual'));
    const queued = await h.command('request_distribution', { lead_id: 'c-m', request_id: 'req-1', actor: { actor_id: 'ops', actor_role: 'admin' } });
    expect(queued).toEqual({ lead_id: 'c-m', status: 'queued', request_id: 'req-1' });
    expect(await h.command('request_distribution', { lead_id: 'c-m' })).toEqual({ lead_id: 'c-m', status: 'already_queued', request_id: 'req-1' });
    expect(await h.command('request_distribution', { lead_id: 'c-1' })).toMatchObject({ status: 'already_queued' });
    const bad = await remoteError(h.command('request_distribution', { lead_id: 'c m', actor: { actor_id: 'x', actor_role: 'king' } }));
    expect(bad.code).toBe('INVALID_REQUEST');
    expect(bad.issues?.map((i) => i.path.join('.')).sort()).toEqual(['actor.actor_role', 'lead_id']);
  });

  it('concurrent approvals of one lead record it once', async () => {
    const replies = await Promise.all(Array.from({ length: 6 }, () => h.command('approve_lead', leadPayload('c-race', 'auto'))));
    expect(replies.filter((r) => r.status === 'accepted')).toHaveLength(1);
    expect((await h.leadEvents('c-race')).map((e) => e.type)).toEqual(['LeadApproved', 'DistributionRequested']);
  });

  it('a redelivered rejection (same message id) is recorded once', async () => {
    const payload = { ...leadPayload('c-twice', 'auto'), consumer: { name: 'Nobody' } };
    for (let i = 0; i < 3; i++) {
      await expect(h.service.commands.approve(payload, { via: 'nats', messageId: 'LEAD_INTAKE:42' })).rejects.toMatchObject({ code: 'LEAD_INVALID' });
    }
    expect((await h.leadEvents('c-twice')).map((e) => e.type)).toEqual(['LeadRejected']);
    const unreadable = { lead_id: 42 };
    for (let i = 0; i < 2; i++) {
      await expect(h.service.commands.approve(unreadable, { via: 'nats', messageId: 'LEAD_INTAKE:43' })).rejects.toMatchObject({ code: 'LEAD_INVALID' });
    }
    const rejections = (await h.eventsOf('rejectedlead')).filter((e) => (e.data as { payload: unknown }).payload !== null && (e.data as { payload: { lead_id?: unknown } }).payload.lead_id === 42);
    expect(rejections).toHaveLength(1);
  });
});
