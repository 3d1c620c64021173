/** The benchmark's table and its last line of JSON. */
import type { Measurement } from './run';

export interface Row {
  key: string;
  what: string;
  /** One measurement per round. */
  rounds: Measurement[];
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface Report {
  origin: string;
  durationMs: number;
  rounds: number;
  rows: Row[];
  relayPerSecond: number | null;
}

export function printReport({ origin, durationMs, rounds, rows, relayPerSecond }: Report): void {
  const perSecond = (row: Row) => Math.round(median(row.rounds.map((m) => m.perSecond)));
  const figure = (key: string): number | null => {
    const row = rows.find((r) => r.key === key);
    return row ? perSecond(row) : null;
  };
  const ratio = (a: string, b: string): string => {
    const x = figure(a);
    const y = figure(b);
    return x !== null && y ? (x / y).toFixed(2) : 'n/a';
  };
  console.log(`\nbench:store — ${origin}; ${durationMs} ms per row in ${rounds} interleaved rounds; events/s = median round (min–max)\n`);
  console.log(`${'key'.padEnd(18)} ${'events/s'.padStart(9)} ${'min–max'.padStart(13)} ${'conflicts'.padStart(9)}  what`);
  for (const row of rows) {
    const all = row.rounds.map((m) => Math.round(m.perSecond));
    const range = `${Math.min(...all)}–${Math.max(...all)}`;
    const conflicts = row.rounds.reduce((sum, m) => sum + m.conflicts, 0);
    console.log(`${row.key.padEnd(18)} ${String(perSecond(row)).padStart(9)} ${range.padStart(13)} ${String(conflicts).padStart(9)}  ${row.what}`);
  }
  console.log(`${'relay_per_s'.padEnd(18)} ${String(relayPerSecond ?? 'null').padStart(9)} ${''.padStart(13)} ${''.padStart(9)}  relay store → JetStream: the real relay, default batch, private nats-server`);
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
