/**
 * Reading a Prometheus text exposition in tests: the series of one metric, selected by a
 * subset of their labels.
 */

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample line of the exposition. */
export function parseMetrics(text: string): Series[] {
  const series: Series[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = value!.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    series.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return series;
}

/** The series named `name` whose labels include every one given. */
export function findSeries(text: string, name: string, labels: Record<string, string> = {}): Series[] {
  return parseMetrics(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The sum of the matching series, or undefined when none matches. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = findSeries(text, name, labels);
  return found.length === 0 ? undefined : found.reduce((sum, s) => sum + s.value, 0);
}

/** GET `<base>/metrics` as text; throws unless 200. */
export async function scrapeMetrics(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  if (res.status !== 200) throw new Error(`GET ${base}/metrics answered ${res.status}`);
  return res.text();
}
