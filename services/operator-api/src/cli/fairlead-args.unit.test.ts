import { describe, expect, it } from 'vitest';
import { FairleadArgs } from './fairlead-args';
import { REPLAY_TARGETS } from './fairlead-commands';

const parse = (raw: Record<string, unknown>) => FairleadArgs.parse(raw);
const fails = (raw: Record<string, unknown>) => FairleadArgs.safeParse(raw).error?.issues.map((i) => i.message).join('; ');

describe('the read-model commands’ arguments', () => {
  it('reads each command', () => {
    expect(parse({ command: 'replay', projection: 'all' })).toEqual({ command: 'replay', projection: 'all', batchSize: 5_000 });
    expect(parse({ command: 'replay', projection: 'wallets', until: '42', into: 'audit_2026_11_01' })).toMatchObject({ until: { kind: 'position', position: 42n }, into: 'audit_2026_11_01' });
    expect(parse({ command: 'replay', projection: 'all', until: '2026-11-01T00:00:00Z', into: 'a' })).toMatchObject({ until: { kind: 'time', time: new Date('2026-11-01T00:00:00Z') } });
    expect(parse({ command: 'verify', batchSize: '100' })).toEqual({ command: 'verify', batchSize: 100 });
    expect(parse({ command: 'audit-lead', leadId: 'L1', json: true })).toEqual({ command: 'audit-lead', leadId: 'L1', json: true });
    expect(parse({ command: 'audit-export', from: '1', to: '2026-12-01' })).toMatchObject({ from: { kind: 'position', position: 1n }, to: { kind: 'time' } });
    expect(parse({ command: 'events-tail', category: 'lead' })).toEqual({ command: 'events-tail', category: 'lead' });
  });

  it('rejects what it cannot do, saying why', () => {
    expect(fails({ command: 'replay', projection: 'all', until: '5' })).toMatch(/--until and --into go together/);
    expect(fails({ command: 'replay', projection: 'all', until: '5', into: 'operator' })).toMatch(/live schema/);
    expect(fails({ command: 'replay', projection: 'all', until: '5', into: 'Bad-Name' })).toMatch(/a schema name/);
    expect(fails({ command: 'replay', projection: 'all', until: 'yesterday', into: 'x' })).toMatch(/not a global position or an ISO time: yesterday/);
    expect(fails({ command: 'events-tail', stream: 'lead-1', category: 'lead' })).toMatch(/not both/);
    expect(fails({ command: 'events-tail', category: 'lead-1' })).toMatch(/no dash/);
    expect(fails({ command: 'audit-export', from: 'soon', to: '1' })).toMatch(/not a global position/);
    expect(fails({ command: 'verify', batchSize: '0' })).toBeDefined();
    expect(fails({ command: 'verify', batchSize: 'many' })).toBeDefined();
  });

  it('names every read model replay can rebuild, short names first after all', () => {
    expect(REPLAY_TARGETS[0]).toBe('all');
    expect(REPLAY_TARGETS).toEqual(expect.arrayContaining(['wallets', 'leads', 'assignments', 'audit']));
    expect(REPLAY_TARGETS.every((n) => !n.includes('.'))).toBe(true);
  });
});
