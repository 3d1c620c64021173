/** The served rule: how a subscription's stats move with one more lead (domain/served.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NEVER_SERVED } from './eligibility';
import { receivedLead, servedAt, utcDay, utcMonth, type ServedStats } from './served';

const at = (iso: string) => new Date(iso);
const never: ServedStats = { ...NEVER_SERVED, lastLeadId: null };

describe('servedAt / receivedLead', () => {
  it('a first lead starts the day and the month at 1', () => {
    expect(receivedLead(never, { at: at('2026-03-04T10:00:00Z'), leadId: 'a' })).toEqual({
      lastReceivedAt: at('2026-03-04T10:00:00Z'),
      lastLeadId: 'a',
      day: '2026-03-04',
      dayCount: 1,
      month: '2026-03',
      monthCount: 1,
    });
  });

  it('counts within the day and the month, and starts again in a later day or month', () => {
    let s = receivedLead(never, { at: at('2026-03-31T23:00:00Z'), leadId: 'a' });
    s = receivedLead(s, { at: at('2026-03-31T23:30:00Z'), leadId: 'b' });
    expect(s).toMatchObject({ day: '2026-03-31', dayCount: 2, month: '2026-03', monthCount: 2, lastLeadId: 'b' });
    s = receivedLead(s, { at: at('2026-04-01T00:10:00Z'), leadId: 'c' });
    expect(s).toMatchObject({ day: '2026-04-01', dayCount: 1, month: '2026-04', monthCount: 1, lastLeadId: 'c' });
  });

  it('a receipt older than the stats (a clock step back) moves nothing backwards', () => {
    const s = receivedLead(never, { at: at('2026-03-05T10:00:00Z'), leadId: 'new' });
    const old = receivedLead(s, { at: at('2026-03-04T09:00:00Z'), leadId: 'old' });
    expect(old).toEqual({ ...s, dayCount: 1, monthCount: 2 });
    expect(old.lastLeadId).toBe('new');
    expect(old.lastReceivedAt).toEqual(at('2026-03-05T10:00:00Z'));
  });

  it('a tie of served times goes to the newer receipt', () => {
    const s = receivedLead(never, { at: at('2026-03-05T10:00:00Z'), leadId: 'a' });
    expect(receivedLead(s, { at: at('2026-03-05T10:00:00Z'), leadId: 'b' }).lastLeadId).toBe('b');
  });

  it('in any order of receipts: the last served time is the latest, the counts never exceed the receipts, and in time order the counts are exact', () => {
    const time = fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2026-03-01T00:00:00Z') }).map((ms) => new Date(ms));
    fc.assert(
      fc.property(fc.array(time, { minLength: 1, maxLength: 30 }), (times) => {
        const any = times.reduce((s, t) => servedAt(s, t), NEVER_SERVED);
        const latest = new Date(Math.max(...times.map((t) => t.getTime())));
        expect(any.lastReceivedAt).toEqual(latest);
        expect(any.day).toBe(latest.toISOString().slice(0, 10));
        expect(any.dayCount).toBeLessThanOrEqual(times.filter((t) => t.toISOString().slice(0, 10) === any.day).length);
        const sorted = [...times].sort((a, b) => a.getTime() - b.getTime());
        const inOrder = sorted.reduce((s, t) => servedAt(s, t), NEVER_SERVED);
        expect(inOrder.dayCount).toBe(sorted.filter((t) => t.toISOString().slice(0, 10) === inOrder.day).length);
        expect(inOrder.monthCount).toBe(sorted.filter((t) => t.toISOString().slice(0, 7) === inOrder.month).length);
      }),
    );
  });
});

describe('utcDay / utcMonth (the last instant asked about is remembered)', () => {
  it('answer for the instant asked, whatever was asked before (generated instants, interleaved)', () => {
    const instant = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true });
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 20 }), (dates) => {
        for (const d of [...dates, ...dates.toReversed()]) {
          const iso = d.toISOString();
          expect(utcDay(d)).toBe(iso.slice(0, 10));
          expect(utcMonth(d)).toBe(iso.slice(0, 7));
        }
      }),
    );
  });

  it('the same instant as another Date object, and a date moved in place, are answered afresh', () => {
    const d = new Date('2026-01-31T23:59:59.999Z');
    expect(utcDay(d)).toBe('2026-01-31');
    d.setTime(d.getTime() + 1);
    expect(utcDay(d)).toBe('2026-02-01');
    expect(utcMonth(new Date('2026-02-01T00:00:00.000Z'))).toBe('2026-02');
  });

  it('an invalid date throws every time, not only the first', () => {
    const bad = new Date(Number.NaN);
    expect(() => utcDay(bad)).toThrow(RangeError);
    expect(() => utcMonth(bad)).toThrow(RangeError);
  });
});
