/**
 * Which metric names a PromQL expression reads, and which ones the services register, so
 * that the Grafana dashboard cannot show an empty panel for a metric nobody serves.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMetricsRegistry } from '@fairlead/platform';

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan']);

/**
 * The metric names in a PromQL expression: its identifiers that are not functions or
 * aggregations (followed by `(`), keywords, label names (inside `{…}` or a `by (…)` list),
 * durations (inside `[…]`), strings or Grafana variables (`$__rate_interval`).
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (match[2] !== undefined || PROMQL_KEYWORDS.has(match[1]!.toLowerCase())) continue;
    names.add(match[1]!);
  }
  return [...names];
}

const SERIES_SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

/** The series names a metric of a type is served under (a histogram `x` as x_bucket, x_sum, x_count). */
const seriesOf = (name: string, type: string) => (SERIES_SUFFIXES[type] ?? ['']).map((suffix) => name + suffix);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.parentPath.includes('node_modules'))
    .map((e) => join(e.parentPath, e.name));
}

/**
 * Every series name a Fairlead process serves on /metrics: the metrics constructed in the
 * sources of services/ and libs/ (`new Counter({ name: '…' })` and the like), and the
 * process metrics every registry collects (read from a real registry).
 */
export function registeredSeriesNames(repoRoot: string): Set<string> {
  const names = new Set<string>();
  const constructed = /new\s+(Counter|Gauge|Histogram|Summary)\s*(?:<[^>]*>)?\s*\(\s*\{\s*name:\s*['"]([a-zA-Z_:][a-zA-Z0-9_:]*)['"]/g;
  for (const top of ['services', 'libs']) {
    for (const file of sourceFiles(join(repoRoot, top))) {
      if (file.includes('/libs/testing/')) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(constructed)) for (const s of seriesOf(m[2]!, m[1]!.toLowerCase())) names.add(s);
    }
  }
  for (const metric of createMetricsRegistry('names').getMetricsAsArray()) {
    const { name, type } = metric as unknown as { name: string; type: string };
    for (const s of seriesOf(name, String(type))) names.add(s);
  }
  return names;
}
