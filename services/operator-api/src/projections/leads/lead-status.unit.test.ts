import { describe, expect, it } from 'vitest';
import { effectiveQueueState, lastAttemptStatus, statusNotes, type LeadProgress } from './lead-status';
import { QUEUE_STATES } from './leads.projection';

const t = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

const lead = (over: Partial<LeadProgress> = {}): LeadProgress => ({
  status: 'approved',
  queue_state: 'none',
  reject_reasons: null,
  requested_at: null,
  attempts: 0,
  last_attempt_at: null,
  last_error: null,
  outcome: null,
  assignments_count: 0,
  skipped_count: 0,
  redriven_at: null,
  ...over,
});

describe('effectiveQueueState', () => {
  it('is the stored state, for every state, when nobody redrove the lead', () => {
    for (const queue_state of QUEUE_STATES) expect(effectiveQueueState(lead({ queue_state }))).toBe(queue_state);
  });

  it('shows a dead letter redriven after its last attempt (or before any) as queued again', () => {
    expect(effectiveQueueState(lead({ queue_state: 'dead_lettered', last_attempt_at: t(1), redriven_at: t(2) }))).toBe('queued');
    expect(effectiveQueueState(lead({ queue_state: 'dead_lettered', last_attempt_at: null, redriven_at: t(2) }))).toBe('queued');
  });

  it('keeps a dead letter dead when an attempt came after the redrive, or at the same instant', () => {
    expect(effectiveQueueState(lead({ queue_state: 'dead_lettered', last_attempt_at: t(3), redriven_at: t(2) }))).toBe('dead_lettered');
    expect(effectiveQueueState(lead({ queue_state: 'dead_lettered', last_attempt_at: t(2), redriven_at: t(2) }))).toBe('dead_lettered');
  });

  it('ignores a redrive on a work item that is not dead-lettered (it resumed already)', () => {
    for (const queue_state of QUEUE_STATES.filter((s) => s !== 'dead_lettered')) {
      expect(effectiveQueueState(lead({ queue_state, last_attempt_at: t(1), redriven_at: t(2) }))).toBe(queue_state);
    }
  });
});

describe('lastAttemptStatus', () => {
  it('answers each state of the work item', () => {
    const expected = { none: 'none', queued: 'queued', in_progress: 'queued', retrying: 'failed', dead_lettered: 'failed', completed: 'success' } as const;
    for (const queue_state of QUEUE_STATES) expect(lastAttemptStatus(lead({ queue_state })), queue_state).toBe(expected[queue_state]);
  });

  it('is failed for a completed distribution whose providers could not be charged, success for the other outcomes', () => {
    expect(lastAttemptStatus(lead({ queue_state: 'completed', outcome: 'failed' }))).toBe('failed');
    for (const outcome of ['success', 'partial', 'no_eligible'] as const) expect(lastAttemptStatus(lead({ queue_state: 'completed', outcome }))).toBe('success');
  });

  it('reads the effective state: a redriven dead letter is queued, the same as a lead queued without one', () => {
    const redriven = lead({ queue_state: 'dead_lettered', attempts: 6, last_attempt_at: t(1), redriven_at: t(2) });
    expect(lastAttemptStatus(redriven)).toBe('queued');
    for (const queue_state of QUEUE_STATES) {
      for (const redriven_at of [null, t(0), t(2)]) {
        const row = lead({ queue_state, last_attempt_at: t(1), redriven_at });
        expect(lastAttemptStatus(row)).toBe(lastAttemptStatus({ ...row, queue_state: effectiveQueueState(row), redriven_at: null }));
      }
    }
  });
});

describe('statusNotes', () => {
  it('gives the reasons of a rejected lead, whatever its work item says', () => {
    expect(statusNotes(lead({ status: 'rejected', reject_reasons: ['unknown niche nowhere', 'no postal code'] }))).toBe('Rejected at intake: unknown niche nowhere; no postal code');
    expect(statusNotes(lead({ status: 'rejected', reject_reasons: null, queue_state: 'completed' }))).toBe('Rejected at intake: ');
  });

  it('says where each state stands and what to do next', () => {
    expect(statusNotes(lead())).toBe('Approved; no distribution has been requested yet.');
    expect(statusNotes(lead({ queue_state: 'queued', requested_at: t(5) }))).toBe('Distribution queued at 2026-01-01T12:05:00.000Z.');
    expect(statusNotes(lead({ queue_state: 'queued' }))).toBe('Distribution queued at an unknown time.');
    expect(statusNotes(lead({ queue_state: 'in_progress', attempts: 0, assignments_count: 1 }))).toBe('Distribution in progress (attempt 1); 1 assignment so far.');
    expect(statusNotes(lead({ queue_state: 'in_progress', attempts: 2, assignments_count: 3, skipped_count: 1 }))).toBe('Distribution in progress (attempt 2); 3 assignments so far, 1 provider skipped.');
    expect(statusNotes(lead({ queue_state: 'retrying', attempts: 1, last_error: 'billing timed out' }))).toBe('Attempt 1 failed (billing timed out); it will be retried.');
    expect(statusNotes(lead({ queue_state: 'retrying', attempts: 2 }))).toBe('Attempt 2 failed (unknown error); it will be retried.');
    expect(statusNotes(lead({ queue_state: 'dead_lettered', attempts: 1, last_error: 'billing down' }))).toBe(
      'Dead-lettered after 1 attempt (billing down); redrive it from the dead-letter queue or request distribution again.',
    );
  });

  it('tells a redriven dead letter from a lead queued for the first time', () => {
    expect(statusNotes(lead({ queue_state: 'dead_lettered', attempts: 6, last_attempt_at: t(1), redriven_at: t(2), requested_at: t(0) }))).toBe(
      'Redriven from the dead-letter queue; waiting to be retried.',
    );
  });

  it('names the outcome of a completed distribution', () => {
    expect(statusNotes(lead({ queue_state: 'completed', outcome: 'no_eligible' }))).toBe('Distribution completed: no eligible providers, no assignments.');
    expect(statusNotes(lead({ queue_state: 'completed', outcome: 'failed', skipped_count: 2 }))).toBe('Distribution completed without assignments: eligible providers could not be charged, 2 providers skipped.');
    expect(statusNotes(lead({ queue_state: 'completed', outcome: 'success', assignments_count: 1 }))).toBe('Distribution completed with 1 assignment.');
    expect(statusNotes(lead({ queue_state: 'completed', outcome: 'partial', assignments_count: 2, skipped_count: 1 }))).toBe('Distribution completed with 2 assignments, 1 provider skipped.');
  });
});
