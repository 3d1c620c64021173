import { testNatsUrl } from '@fairlead/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublishFailedError } from './errors';
import { publishDurable } from './publish';
import { messagingFixture, readStream, type MessagingFixture } from './test-support';

describe('publishDurable', () => {
  let f: MessagingFixture;
  beforeAll(async () => {
    f = await messagingFixture('pub', testNatsUrl());
  });
  afterAll(async () => {
    await f.dispose();
  });

  it('stores a message once per msgID: a repeat is acknowledged as a duplicate of the same sequence', async () => {
    const subject = f.subjects.eventSubject('lead', 'LeadApproved');
    const first = await publishDurable(f.js, subject, { leadId: 'l-1' }, { msgID: 'evt-1', headers: { 'Fairlead-Test': 'yes' } });
    const again = await publishDurable(f.js, subject, { leadId: 'l-1 changed' }, { msgID: 'evt-1' });
    const other = await publishDurable(f.js, subject, { leadId: 'l-2' }, { msgID: 'evt-2' });
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ duplicate: true, seq: first.seq, stream: f.subjects.streams.events });
    expect(other.seq).toBe(first.seq + 1);

    const stored = await readStream(f.jsm, f.subjects.streams.events);
    expect(stored.map((m) => m.header.get('Nats-Msg-Id'))).toEqual(['evt-1', 'evt-2']);
    expect(stored[0]?.json()).toEqual({ leadId: 'l-1' });
    expect(stored[0]?.header.get('Fairlead-Test')).toBe('yes');
  });

  it('sends a Uint8Array payload as is', async () => {
    const bytes = new TextEncoder().encode('not json at all');
    const ack = await publishDurable(f.js, f.subjects.eventSubject('raw', 'Bytes'), bytes, { msgID: 'raw-1' });
    const stored = await f.jsm.streams.getMessage(f.subjects.streams.events, { seq: ack.seq });
    expect(stored?.string()).toBe('not json at all');
  });

  it('retries a subject no stream answers (no responders) within its budget, then fails with the attempts made', async () => {
    const error = await publishDurable(f.js, `${f.subjects.namespace}.nowhere`, {}, { msgID: 'x', retry: { attempts: 3, backoff: [10] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishFailedError);
    expect(error).toMatchObject({ code: 'MESSAGING_PUBLISH_FAILED', attempts: 3 });
  });

  it('does not retry a refusal: a publish expecting the wrong stream fails at the first attempt', async () => {
    const error = await publishDurable(f.js, f.subjects.eventSubject('lead', 'X'), {}, { msgID: 'y', expectStream: f.subjects.streams.work }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishFailedError);
    expect(error).toMatchObject({ attempts: 1 });
  });
});
