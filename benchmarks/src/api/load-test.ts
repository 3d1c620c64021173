/**
 * One measured HTTP load: autocannon at a fixed overall rate (coordinated omission
 * corrected), its request generation in a worker thread so it does not share the event
 * loop with the API it measures. (A list of paths would not do: autocannon then overshoots
 * the rate in bursts.)
 */
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export interface LoadResult {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  requests: number;
  non2xx: number;
  errors: number;
}

const RANDOM_LEAD = fileURLToPath(new URL('./random-lead-path.cjs', import.meta.url));

export interface LoadOptions {
  name: string;
  url: string;
  token: string;
  /** A fixed path, or a template whose `{lead}` becomes a random lead number in 1..leads on each request. */
  path: string;
  leads?: number;
  rate: number;
  durationSec: number;
  connections?: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const random = options.path.includes('{lead}');
  if (random) {
    // Read by the worker's setupRequest (random-lead-path.cjs): a worker copies the environment when it starts.
    process.env.BENCH_PATH_TEMPLATE = options.path;
    process.env.BENCH_LEADS = String(options.leads ?? 1);
  }
  const result = await autocannon({
    url: options.url,
    connections: options.connections ?? 10,
    duration: options.durationSec,
    overallRate: options.rate,
    workers: 1,
    headers: { authorization: `Bearer ${options.token}` },
    requests: [{ method: 'GET', path: options.path, ...(random ? { setupRequest: RANDOM_LEAD } : {}) }],
  });
  return {
    name: options.name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}
