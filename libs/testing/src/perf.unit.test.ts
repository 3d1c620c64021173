import { describe, expect, it } from 'vitest';
import { backendCpuDelta, processCpuMs, procStatFields, statementKind } from './perf';

describe('statementKind', () => {
  it('names appends, transaction control, function calls and the verb with its table', () => {
    expect(statementKind('select * from  fairlead.append_batch($1, $2)')).toBe('append_batch');
    expect(statementKind('with appended as materialized (select … from fairlead.append_batch($1)) select 1')).toBe('append_batch + side rows (one statement)');
    expect(statementKind(' BEGIN ')).toBe('begin');
    expect(statementKind('select r.* from rotation.claim_start_levels($1, $2) r')).toBe('call rotation.claim_start_levels');
    expect(statementKind('select pg_advisory_xact_lock($1)')).toBe('call pg_advisory_xact_lock');
    expect(statementKind('insert into "fairness"."pending_picks" (a) values ($1)')).toBe('insert fairness.pending_picks');
    expect(statementKind('select a\n  from billing.wallets where id = $1')).toBe('select billing.wallets');
  });
});

describe('backendCpuDelta', () => {
  it('sums per backend of the second reading, one opened in between whole', () => {
    expect(backendCpuDelta(new Map([[1, 100], [2, 50], [3, 70]]), new Map([[1, 130], [2, 50], [4, 20]]))).toBe(50);
  });

  it('is undefined when no backend could be read', () => {
    expect(backendCpuDelta(new Map([[1, 100]]), new Map())).toBeUndefined();
  });
});

describe.runIf(process.platform === 'linux')('/proc', () => {
  it("reads this process's stat fields and CPU", async () => {
    const fields = await procStatFields(process.pid);
    expect(Number(fields?.[1])).toBe(process.ppid);
    const before = (await processCpuMs(process.pid))!;
    // 50 ms of CPU (5 clock ticks), however busy the machine.
    const cpu0 = process.cpuUsage();
    for (let spent = process.cpuUsage(cpu0); spent.user + spent.system < 50_000; spent = process.cpuUsage(cpu0));
    expect((await processCpuMs(process.pid))!).toBeGreaterThan(before);
    expect((await processCpuMs(process.pid, { reaped: true }))!).toBeGreaterThanOrEqual(before);
  });

  it('is undefined for a process that is not there', async () => {
    expect(await procStatFields(2 ** 22 + 1)).toBeUndefined();
    expect(await processCpuMs(2 ** 22 + 1)).toBeUndefined();
  });
});
