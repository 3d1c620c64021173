import { createHash } from 'node:crypto';
import { headers } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { boundedPayload, DEAD_LETTER_LIMITS, DeadLetterHeaders, deadLetterHeaders, readDeadLetter, type DeadLetterInfo } from './dead-letter';

const info: DeadLetterInfo = {
  reason: 'exhausted',
  error: 'boom\r\non two lines',
  attempts: 6,
  originalSubject: 'fairlead.work.distribute.lead-1',
  originalStream: 'FAIRLEAD_WORK',
  originalSequence: 42,
  originalMsgId: 'm-1',
  consumer: 'distributor',
  firstFailureAt: new Date('2025-01-01T00:00:00.000Z'),
  lastFailureAt: new Date('2025-01-01T00:10:00.000Z'),
};

describe('dead-letter headers', () => {
  it('keep the original headers except the Nats-* ones the server acts on, and round-trip the DLQ fields', () => {
    const original = headers();
    original.set('Traceparent', '00-abc-def-01');
    original.set('Nats-Msg-Id', 'm-1');
    original.set('Nats-Expected-Last-Sequence', '3');
    const h = deadLetterHeaders(original, info);
    expect(h.get('Traceparent')).toBe('00-abc-def-01');
    expect(h.has('Nats-Msg-Id')).toBe(false);
    expect(h.has('Nats-Expected-Last-Sequence')).toBe(false);
    expect(h.get(DeadLetterHeaders.Error)).toBe('boom on two lines');
    expect(readDeadLetter(h)).toEqual({ ...info, error: 'boom on two lines' });
  });

  it('keeps the issues header valid JSON by dropping whole issues when too long', () => {
    const issues = Array.from({ length: 200 }, (_, i) => ({ path: ['field', i], code: 'invalid_type', message: 'x'.repeat(40) }));
    const h = deadLetterHeaders(undefined, { ...info, reason: 'malformed', issues });
    const parsed = JSON.parse(h.get(DeadLetterHeaders.Issues)) as unknown[];
    expect(parsed.length).toBeGreaterThan(0);
    expect(parsed.length).toBeLessThan(200);
    expect(parsed[0]).toEqual(issues[0]);
  });

  it('is undefined for an ordinary message', () => {
    expect(readDeadLetter(headers())).toBeUndefined();
    expect(readDeadLetter(undefined)).toBeUndefined();
  });
});

describe('a dead letter’s bounded payload and headers', () => {
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

  it('keeps a payload up to the limit whole, with its size and digest', () => {
    const data = new Uint8Array(DEAD_LETTER_LIMITS.maxPayloadBytes).fill(97);
    expect(boundedPayload(data)).toEqual({ data, bytes: data.length, sha256: sha(data), truncated: false });
  });

  it('keeps only the start of a larger payload, with the size and digest of the whole', () => {
    const data = new Uint8Array(DEAD_LETTER_LIMITS.maxPayloadBytes + 1).map((_, i) => i % 251);
    const bounded = boundedPayload(data);
    expect(bounded.truncated).toBe(true);
    expect(bounded.bytes).toBe(data.length);
    expect(bounded.sha256).toBe(sha(data));
    expect([...bounded.data]).toEqual([...data.subarray(0, DEAD_LETTER_LIMITS.prefixBytes)]);
  });

  it('records size, digest and truncation in headers that read back', () => {
    const payload = { bytes: 1_048_000, sha256: 'ab'.repeat(32), truncated: true };
    const h = deadLetterHeaders(undefined, { ...info, payload });
    expect(h.get(DeadLetterHeaders.PayloadTruncated)).toBe('true');
    expect(readDeadLetter(h)).toEqual({ ...info, error: 'boom on two lines', payload });
  });

  it('leaves out original headers past the budget and says how many', () => {
    const original = headers();
    original.set('Traceparent', '00-abc-def-01');
    original.set('X-Huge', 'h'.repeat(DEAD_LETTER_LIMITS.maxOriginalHeaderBytes));
    original.set('X-Small', 'kept');
    const h = deadLetterHeaders(original, info);
    expect(h.get('Traceparent')).toBe('00-abc-def-01');
    expect(h.has('X-Huge')).toBe(false);
    expect(h.get('X-Small')).toBe('kept');
    expect(readDeadLetter(h)?.headersDropped).toBe(1);
  });
});
