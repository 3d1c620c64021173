/** The benchmark's table and its last line of JSON. */
import type { Measurement } from './run';

export interface Row {
  key: string;
  what: string;
  result: Measurement;
}

export interface Report {
  origin: string;
  durationMs: number;
  warmupMs: number;
  rows: Row[];
  relayPerSecond: number | null;
}

export function printReport({ origin, durationMs, warmupMs, rows, relayPerSecond }: Report): void {
  const figure = (key: string): number | null => {
    const row = rows.find((r) => r.key === key);
    return row ? Math.round(row.result.perSecond) : null;
  };
  const ratio = (a: string, b: string): string => {
    const x = figure(a);
    const y = figure(b);
    return x !== null && y ? (x / y).toFixed(2) : 'n/a';
  };
  console.log(`\nbench:store — ${origin}; ${durationMs} ms measured per row after ${warmupMs} ms warm-up; events/s\n`);
  console.log(`${'key'.padEnd(18)} ${'events/s'.padStart(9)} ${'conflicts'.padStart(9)}  what`);
  for (const row of rows) {
    console.log(`${row.key.padEnd(18)} ${String(Math.round(row.result.perSecond)).padStart(9)} ${String(row.result.conflicts).padStart(9)}  ${row.what}`);
  }
  console.log(`${'relay_per_s'.padEnd(18)} ${String(relayPerSecond ?? 'null').padStart(9)} ${''.padStart(9)}  relay store → JetStream (hook in store/relay.ts; not measured yet)`);
  console.log(
    `\nours_8w / emmett_8w = ${ratio('ours_8w', 'emmett_8w')} (goal ≥ 3); ours_8w / plain_insert_8w = ${ratio('ours_8w', 'plain_insert_8w')} (goal ≥ 0.8)` +
      `\nunbatched callers: ours_8w_1ev / emmett_8w_1ev = ${ratio('ours_8w_1ev', 'emmett_8w_1ev')}; ours_8w_1ev / plain_insert_8w = ${ratio('ours_8w_1ev', 'plain_insert_8w')}`,
  );
  console.log(
    JSON.stringify({
      bench: 'store',
      ours_1w: figure('ours_1w'),
      ours_8w: figure('ours_8w'),
      ours_same_stream: figure('ours_same_stream'),
      plain_insert_8w: figure('plain_insert_8w'),
      emmett_8w: figure('emmett_8w'),
      relay_per_s: relayPerSecond,
    }),
  );
}
