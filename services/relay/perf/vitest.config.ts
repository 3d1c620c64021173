import { defineConfig } from 'vitest/config';

// The relay micro-benchmarks (`*.perf.ts`): not part of `npm test`; PostgreSQL and the
// test identities from the test helpers' global setup, and a nats-server of the benchmark's
// own (its CPU and /varz counters are then the benchmark's alone).
export default defineConfig({
  test: {
    root: new URL('../../..', import.meta.url).pathname,
    include: ['services/relay/perf/*.perf.ts'],
    globalSetup: ['libs/testing/src/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
