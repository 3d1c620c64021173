import { headers } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { DeadLetterHeaders, deadLetterHeaders, readDeadLetter, type DeadLetterInfo } from './dead-letter';

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
