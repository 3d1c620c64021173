/**
 * One measured HTTP load: autocannon at a fixed overall rate (coordinated omission
 * corrected), its request generation in a worker thread so it does not share the event
 * loop with the API it measures. Paths cycle through the list given.
 */
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

export async function runLoad(options: { name: string; url: string; token: string; paths: readonly string[]; rate: number; durationSec: number; connections?: number }): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    connections: options.connections ?? 10,
    duration: options.durationSec,
    overallRate: options.rate,
    workers: 1,
    headers: { authorization: `Bearer ${options.token}` },
    requests: options.paths.map((path) => ({ method: 'GET', path })),
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
