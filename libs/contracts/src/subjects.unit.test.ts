import { describe, expect, it } from 'vitest';
import { streamCategory, SUBJECTS, subjectsFor } from './subjects';

describe('subjectsFor', () => {
  it('gives the production names without a namespace', () => {
    expect(SUBJECTS.namespace).toBe('');
    expect(SUBJECTS.leadApproved).toBe('lead.approved');
    expect(SUBJECTS.eventSubject('lead', 'LeadApproved')).toBe('fairlead.events.lead.LeadApproved');
    expect(SUBJECTS.command('billing', 'charge')).toBe('fairlead.cmd.billing.charge');
    expect(SUBJECTS.workSubject('distribution', 'lead-42')).toBe('fairlead.work.distribution.lead-42');
    expect(SUBJECTS.deadLetterSubject('fairlead.work.distribution.lead-42')).toBe('fairlead.dlq.fairlead.work.distribution.lead-42');
    expect(SUBJECTS.streams).toEqual({ leadIntake: 'LEAD_INTAKE', events: 'FAIRLEAD_EVENTS', deadLetters: 'FAIRLEAD_DLQ', work: 'FAIRLEAD_WORK' });
  });

  it('prefixes every subject and stream with the namespace', () => {
    const s = subjectsFor('t_ab12');
    expect(s.leadApproved).toBe('t_ab12.lead.approved');
    expect(s.events).toBe('t_ab12.fairlead.events');
    expect(s.eventSubject('wallet', 'WalletCharged')).toBe('t_ab12.fairlead.events.wallet.WalletCharged');
    expect(s.deadLetter).toBe('t_ab12.fairlead.dlq');
    expect(s.command('rotation', 'claim')).toBe('t_ab12.fairlead.cmd.rotation.claim');
    expect(s.workSubject('distribution', 'l1')).toBe('t_ab12.fairlead.work.distribution.l1');
    expect(Object.values(s.streams)).toEqual(['t_ab12_LEAD_INTAKE', 't_ab12_FAIRLEAD_EVENTS', 't_ab12_FAIRLEAD_DLQ', 't_ab12_FAIRLEAD_WORK']);
  });

  it('keeps namespaces apart: no subject of one falls under a wildcard of another', () => {
    const a = subjectsFor('a');
    const b = subjectsFor('b');
    expect(b.eventSubject('lead', 'X').startsWith(`${a.events}.`)).toBe(false);
    expect(a.eventSubject('lead', 'X').startsWith(`${a.events}.`)).toBe(true);
    expect(new Set([...Object.values(a.streams), ...Object.values(b.streams)]).size).toBe(8);
  });

  it.each(['a.b', 'a b', 'a*', 'a>', '', 'ä'])('rejects %j as a token', (bad) => {
    if (bad !== '') expect(() => subjectsFor(bad)).toThrow(/invalid namespace/);
    expect(() => SUBJECTS.eventSubject(bad, 'T')).toThrow(/invalid category/);
    expect(() => SUBJECTS.eventSubject('lead', bad)).toThrow(/invalid event type/);
    expect(() => SUBJECTS.command(bad, 'v')).toThrow(/invalid service/);
    expect(() => SUBJECTS.command('s', bad)).toThrow(/invalid verb/);
    expect(() => SUBJECTS.workSubject(bad, 'k')).toThrow(/invalid work kind/);
    expect(() => SUBJECTS.workSubject('k', bad)).toThrow(/invalid work key/);
  });

  it('is frozen', () => {
    const s = subjectsFor('n');
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.streams)).toBe(true);
  });
});

describe('streamCategory', () => {
  it('is the part before the first dash', () => {
    expect(streamCategory('lead-42')).toBe('lead');
    expect(streamCategory('template-distribution-7')).toBe('template');
    expect(streamCategory('wallet')).toBe('wallet');
  });
});
