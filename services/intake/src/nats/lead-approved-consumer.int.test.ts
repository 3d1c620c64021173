/**
 * The durable `lead.approved` consumer on a real JetStream: approvals recorded once,
 * rejections recorded with reasons and dead-lettered, transient failures retried, and the
 * consumer never stopping on bad input.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent } from '@fairlead/contracts';
import { publishDurable, readDeadLetter } from '@fairlead/messaging';
import { waitFor } from '@fairlead/testing';
import { leadPayload, startIntakeHarness, type IntakeHarness } from '../testing/harness';

let h: IntakeHarness;

beforeAll(async () => {
  h = await startIntakeHarness('intake_consumer');
  h.niches.add('auto', true);
  h.niches.add('manual', false);
});
afterAll(() => h?.close());

const publish = (payload: unknown, msgID = randomUUID()) =>
  publishDurable(h.js, h.subjects.leadApproved, payload, { msgID });
const typesOf = async (leadId: string) => (await h.leadEvents(leadId)).map((e) => e.type);
const deadLetterOf = async (msgID: string) =>
  waitFor(async () => (await h.deadLetters()).find((m) => readDeadLetter(m.header)?.originalMsgId === msgID), { what: `the dead letter of ${msgID}` });

describe('lead.approved consumer', () => {
  it('records LeadApproved and DistributionRequested for an auto niche, once, however often the lead comes', async () => {
    await publish(leadPayload('lead-auto', 'auto'));
    await waitFor(async () => (await typesOf('lead-auto')).length === 2, { what: 'the approval' });
    await publish(leadPayload('lead-auto', 'auto'));
    await publish({ ...leadPayload('lead-auto', 'auto'), consumer: { name: 'Someone Else', phone: '555-0100' } });
    await waitFor(() => h.service.stats().processed >= 3, { what: 'the repeats to be handled' });

    const events = await h.leadEvents('lead-auto');
    expect(events.map((e) => e.type)).toEqual(['LeadApproved', 'DistributionRequested']);
    const approved = parseDistributionEvent('LeadApproved', events[0]!.data);
    expect(approved.received_via).toBe('nats');
    expect(approved.lead.location.state).toBe('TX');
    expect(approved.lead.consumer.name).toBe('Ada Lovelace');
    expect(parseDistributionEvent('DistributionRequested', events[1]!.data)).toMatchObject({
      lead_id: 'lead-auto',
      niche_id: 'auto',
      requested_by: { actor_id: 'system', actor_role: 'system' },
    });
  });

  it('records only LeadApproved when the niche does not distribute automatically', async () => {
    await publish(leadPayload('lead-manual', 'manual'));
    await waitFor(async () => (await typesOf('lead-manual')).length > 0, { what: 'the approval' });
    expect(await typesOf('lead-manual')).toEqual(['LeadApproved']);
  });

  it('rejects a malformed lead with its reasons on the lead stream and dead-letters it', async () => {
    const msgID = randomUUID();
    const payload = { ...leadPayload('lead-bad', 'auto'), approved_at: 'yesterday', consumer: { name: 'X' }, extra: 1 };
    await publish(payload, msgID);
    const dead = await deadLetterOf(msgID);
    const info = readDeadLetter(dead.header)!;
    expect(info.reason).toBe('permanent');
    expect(info.error).toContain('approved_at');
    expect(info.error).toContain('consumer: the consumer needs an email or a phone number');
    expect(JSON.parse(new TextDecoder().decode(dead.data))).toEqual(payload);

    const events = await h.leadEvents('lead-bad');
    expect(events.map((e) => e.type)).toEqual(['LeadRejected']);
    const rejected = parseDistributionEvent('LeadRejected', events[0]!.data);
    expect(rejected).toMatchObject({ lead_id: 'lead-bad', niche_id: 'auto', received_via: 'nats', payload });
    expect(rejected.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/^approved_at: /), expect.stringMatching(/^\(root\): .*extra/)]));
  });

  it('files a rejection whose lead id is unreadable on a rejectedlead stream of its own', async () => {
    const msgID = randomUUID();
    await publish({ lead_id: 'has spaces!', hello: 'world' }, msgID);
    await deadLetterOf(msgID);
    const rejected = await waitFor(async () => {
      const all = await h.eventsOf('rejectedlead');
      return all.find((e) => (e.data as { payload?: { hello?: string } }).payload?.hello === 'world');
    }, { what: 'the rejection' });
    expect(rejected.stream).toMatch(/^rejectedlead-[0-9a-f-]{36}$/);
    expect(parseDistributionEvent('LeadRejected', rejected.data)).toMatchObject({ lead_id: null, niche_id: null });
  });

  it('rejects a lead of an unknown niche the same way', async () => {
    const msgID = randomUUID();
    await publish(leadPayload('lead-lost', 'no-such-niche'), msgID);
    const info = readDeadLetter((await deadLetterOf(msgID)).header)!;
    expect(info.error).toContain('unknown niche no-such-niche');
    const [event] = await h.leadEvents('lead-lost');
    expect(parseDistributionEvent('LeadRejected', event!.data).reasons).toEqual(['niche_id: unknown niche no-such-niche']);
  });

  it('rejects NUL characters and unpaired surrogates in values and keys with every reason, records the rejection, and keeps consuming', async () => {
    // An unknown top-level key holding a NUL: zod's own message quotes it, and the reason is still recordable.
    const hostile = { ...leadPayload('lead-hostile', 'auto'), consumer: { name: 'Ada\u0000', email: 'ada@example.com' }, details: { 'note\ud800': 'half \udc00' }, 'k\u0000': 1 };
    const msgID = randomUUID();
    await publish(hostile, msgID);
    expect(readDeadLetter((await deadLetterOf(msgID)).header)!.reason).toBe('permanent');
    const [rejected] = await h.leadEvents('lead-hostile');
    const data = parseDistributionEvent('LeadRejected', rejected!.data);
    expect([...data.reasons].sort()).toEqual([
      '(root): Unrecognized key: "k\uFFFD"',
      'consumer.name: must not contain NUL characters or unpaired UTF-16 surrogates',
      'details: a key here must not contain NUL characters or unpaired UTF-16 surrogates',
    ]);
    expect(data.payload_summary?.prefix).toContain('lead-hostile');
    await publish(leadPayload('lead-after-hostile', 'manual'));
    await waitFor(async () => (await typesOf('lead-after-hostile')).includes('LeadApproved'), { what: 'the next lead' });
  });

  it('dead-letters a payload that is not JSON, and keeps consuming', async () => {
    const msgID = randomUUID();
    await publish(new TextEncoder().encode('{"lead_id": "oops"'), msgID);
    expect(readDeadLetter((await deadLetterOf(msgID)).header)!.reason).toBe('malformed');
    await publish(leadPayload('lead-after', 'manual'));
    await waitFor(async () => (await typesOf('lead-after')).includes('LeadApproved'), { what: 'the next lead' });
  });

  it('retries while rotation cannot be reached, and approves once it answers', async () => {
    // A niche intake has not looked up yet: a cached one would need no rotation.
    h.niches.add('unasked', true);
    await h.niches.stop();
    const retriedBefore = h.service.stats().retried;
    await publish(leadPayload('lead-wait', 'unasked'));
    await waitFor(() => h.service.stats().retried > retriedBefore, { what: 'a retry' });
    expect(await typesOf('lead-wait')).toEqual([]);
    h.niches.start();
    await waitFor(async () => (await typesOf('lead-wait')).length === 2, { what: 'the approval after the retry' });
  });
});
