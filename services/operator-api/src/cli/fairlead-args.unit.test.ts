import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { parseFairleadArgs, UsageError } from './fairlead-args';

describe('parseFairleadArgs', () => {
  it('reads each command', () => {
    expect(parseFairleadArgs(['replay', 'all'])).toEqual({ command: 'replay', projection: 'all', batchSize: 5_000 });
    expect(parseFairleadArgs(['replay', 'wallets', '--until', '42', '--into', 'audit_2026_11_01'])).toMatchObject({ until: { kind: 'position', position: 42n }, into: 'audit_2026_11_01' });
    expect(parseFairleadArgs(['replay', 'all', '--until', '2026-11-01T00:00:00Z', '--into', 'a'])).toMatchObject({ until: { kind: 'time', time: new Date('2026-11-01T00:00:00Z') } });
    expect(parseFairleadArgs(['verify', '--batch-size', '100'])).toEqual({ command: 'verify', batchSize: 100 });
    expect(parseFairleadArgs(['audit', 'lead', 'L1', '--json'])).toEqual({ command: 'audit-lead', leadId: 'L1', json: true });
    expect(parseFairleadArgs(['audit', 'export', '--from', '1', '--to', '2026-12-01'])).toMatchObject({ from: { kind: 'position', position: 1n }, to: { kind: 'time' } });
    expect(parseFairleadArgs(['events', 'tail', '--category', 'lead'])).toEqual({ command: 'events-tail', category: 'lead' });
  });

  it('rejects what it cannot do', () => {
    expect(() => parseFairleadArgs([])).toThrow(UsageError);
    expect(() => parseFairleadArgs(['replay', 'all', 'extra'])).toThrow(UsageError);
    expect(() => parseFairleadArgs(['replay', 'all', '--until', '5'])).toThrow(ZodError); // --into missing
    expect(() => parseFairleadArgs(['replay', 'all', '--until', '5', '--into', 'operator'])).toThrow(ZodError);
    expect(() => parseFairleadArgs(['replay', 'all', '--until', '5', '--into', 'Bad-Name'])).toThrow(ZodError);
    expect(() => parseFairleadArgs(['events', 'tail', '--stream', 'lead-1', '--category', 'lead'])).toThrow(ZodError);
    expect(() => parseFairleadArgs(['audit', 'export', '--from', 'soon', '--to', '1'])).toThrow(ZodError);
    expect(() => parseFairleadArgs(['verify', '--nope'])).toThrow();
  });
});
