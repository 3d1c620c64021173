/**
 * What intake refuses before anything is stored, and what it refuses at once instead of
 * retrying: a lead larger than LEAD_MAX_BYTES (at the bus's own limit, too), one nested
 * deeper than LEAD_MAX_DEPTH, and a valid lead the event store cannot hold. Each is
 * recorded as LeadRejected with its reason (the payload summarised: size, digest, start),
 * dead-lettered with a bounded payload, and the leads after it are approved as usual.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEAD_LIMITS, parseDistributionEvent } from '@fairlead/contracts';
import { publishDurable, readDeadLetter } from '@fairlead/messaging';
import { waitFor } from '@fairlead/testing';
import { leadPayload, startIntakeHarness, type IntakeHarness } from '../testing/harness';

let h: IntakeHarness;

beforeAll(async () => {
  // Retries far apart: a refusal that is retried instead of final shows as attempts > 1.
  h = await startIntakeHarness('intake_limits', { backoffMs: [200, 400, 800] });
  h.niches.add('auto', false);
});
afterAll(() => h?.close());

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const encode = (payload: unknown) => new TextEncoder().encode(JSON.stringify(payload));
/** A lead padded (in details) to exactly `bytes` as JSON. */
function leadOfSize(leadId: string, bytes: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base = { ...leadPayload(leadId, 'auto'), ...extra, details: { pad: '' } };
  return { ...base, details: { pad: 'x'.repeat(bytes - encode(base).length) } };
}
/** A lead whose details are nested `depth` levels deep. */
const deepLead = (leadId: string, depth: number) => ({ ...leadPayload(leadId, 'auto'), details: JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) as unknown });

async function publishRaw(data: Uint8Array): Promise<string> {
  const msgID = randomUUID();
  await publishDurable(h.js, h.subjects.leadApproved, data, { msgID });
  return msgID;
}
const deadLetterOf = (msgID: string) =>
  waitFor(async () => (await h.deadLetters()).find((m) => readDeadLetter(m.header)?.originalMsgId === msgID), { what: `the dead letter of ${msgID}`, timeoutMs: 20_000 });
async function rejectionOf(leadId: string) {
  const event = await waitFor(async () => (await h.leadEvents(leadId)).find((e) => e.type === 'LeadRejected'), { what: `the rejection of ${leadId}` });
  return parseDistributionEvent('LeadRejected', event.data);
}
/** An ordinary lead published after the bad one is approved as usual. */
async function ordinaryLeadIsApproved(): Promise<void> {
  const leadId = `after-${randomUUID().slice(0, 8)}`;
  await publishDurable(h.js, h.subjects.leadApproved, leadPayload(leadId, 'auto'), { msgID: randomUUID() });
  await waitFor(async () => (await h.leadEvents(leadId)).some((e) => e.type === 'LeadApproved'), { what: 'the ordinary lead after it' });
}

describe('lead limits on lead.approved (NATS)', () => {
  it('accepts a lead of exactly LEAD_MAX_BYTES', async () => {
    await publishRaw(encode(leadOfSize('at-limit', LEAD_LIMITS.maxBytes)));
    await waitFor(async () => (await h.leadEvents('at-limit')).some((e) => e.type === 'LeadApproved'), { what: 'the approval' });
  });

  it.each([
    ['one byte over LEAD_MAX_BYTES', () => leadOfSize('big-1', LEAD_LIMITS.maxBytes + 1), 'big-1'],
    ['a valid lead at the bus’s limit (about 1,048,000 bytes)', () => leadOfSize('big-2', h.nc.info!.max_payload - 600), 'big-2'],
    ['an invalid lead at the bus’s limit', () => leadOfSize('big-3', h.nc.info!.max_payload - 600, { schema_version: 7 }), 'big-3'],
  ])('refuses %s: LEAD_TOO_LARGE recorded with a summary, dead-lettered bounded, no retry', async (_, lead, leadId) => {
    const data = encode(lead());
    const msgID = await publishRaw(data);
    const rejection = await rejectionOf(leadId);
    expect(rejection.reasons).toEqual([`(root): the message is ${data.length} bytes; at most ${LEAD_LIMITS.maxBytes} are accepted`]);
    expect(rejection.payload).toBeNull();
    expect(rejection.payload_summary).toMatchObject({ bytes: data.length, sha256: sha(data) });
    expect(rejection.payload_summary!.prefix).toBe(new TextDecoder().decode(data.subarray(0, 2048)));
    expect((await h.leadEvents(leadId)).map((e) => e.type)).toEqual(['LeadRejected']);

    const dead = readDeadLetter((await deadLetterOf(msgID)).header)!;
    expect(dead).toMatchObject({ reason: 'permanent', attempts: 1, payload: { bytes: data.length, sha256: sha(data) } });
    expect(dead.error).toContain(`at most ${LEAD_LIMITS.maxBytes} are accepted`);
    await ordinaryLeadIsApproved();
  });

  it('refuses a lead nested deeper than LEAD_MAX_DEPTH (and one too deep for JSON.stringify) with LEAD_TOO_DEEP, no retry', async () => {
    for (const [leadId, depth] of [
      ['deep-1', LEAD_LIMITS.maxDepth],
      ['deep-2', 9_000],
    ] as const) {
      const msgID = await publishRaw(rawDeep(leadId, depth));
      const rejection = await rejectionOf(leadId);
      expect(rejection.reasons).toEqual([`(root): the message is nested more than ${LEAD_LIMITS.maxDepth} levels deep`]);
      expect(rejection.payload).toBeNull();
      expect(readDeadLetter((await deadLetterOf(msgID)).header)).toMatchObject({ reason: 'permanent', attempts: 1 });
    }
    // Exactly LEAD_MAX_DEPTH is accepted (the message itself is level 1).
    await publishRaw(encode(deepLead('deep-ok', LEAD_LIMITS.maxDepth - 1)));
    await waitFor(async () => (await h.leadEvents('deep-ok')).some((e) => e.type === 'LeadApproved'), { what: 'the approval' });
    await ordinaryLeadIsApproved();
  });

  it.each([
    ['a NUL character', 'nul', 'a\u0000b'],
    ['an unpaired surrogate', 'surrogate', 'a\ud800b'],
  ])('refuses a valid lead holding %s at once as LEAD_UNSTORABLE (not retried as if transient)', async (_, leadId, text) => {
    const msgID = await publishRaw(encode({ ...leadPayload(leadId, 'auto'), details: { note: text } }));
    const rejection = await rejectionOf(leadId);
    expect(rejection.reasons[0]).toMatch(/^\(root\): the lead cannot be stored: .*PostgreSQL jsonb cannot store/);
    expect(rejection.payload).toBeNull();
    expect(rejection.payload_summary!.prefix).toContain(`"lead_id":"${leadId}"`);
    const dead = readDeadLetter((await deadLetterOf(msgID)).header)!;
    expect(dead).toMatchObject({ reason: 'permanent', attempts: 1 });
    expect((await h.leadEvents(leadId)).map((e) => e.type)).toEqual(['LeadRejected']);
    await ordinaryLeadIsApproved();
  });
});

/** Raw JSON text of a lead nested `depth` levels deep in details (built as text: too deep for JSON.stringify). */
function rawDeep(leadId: string, depth: number): Uint8Array {
  const head = JSON.stringify({ ...leadPayload(leadId, 'auto'), details: null }).replace('"details":null', `"details":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
  return new TextEncoder().encode(head);
}

describe('lead limits on POST /v1/leads/approved', () => {
  const post = (payload: string) => h.app.inject({ method: 'POST', url: '/v1/leads/approved', payload, headers: { 'content-type': 'application/json' } });

  it.each([
    ['too large', () => JSON.stringify(leadOfSize('http-big', LEAD_LIMITS.maxBytes + 1)), 'LEAD_TOO_LARGE', 'http-big'],
    ['too deep', () => new TextDecoder().decode(rawDeep('http-deep', 5_000)), 'LEAD_TOO_DEEP', 'http-deep'],
    ['unstorable', () => JSON.stringify({ ...leadPayload('http-nul', 'auto'), details: { note: 'a\u0000b' } }), 'LEAD_UNSTORABLE', 'http-nul'],
  ])('answers 400 %s (%s) with the reason, recorded once', async (_, body, code, leadId) => {
    const response = await post(body());
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code });
    expect((await h.leadEvents(leadId)).map((e) => e.type)).toEqual(['LeadRejected']);
  });
});
