import { defineConfig } from 'vitest/config';

// The event store's micro-benchmarks (`*.perf.ts`): not part of `npm test`; one PostgreSQL
// (and NATS, unused) started by the test helpers, as for the tests.
export default defineConfig({
  test: {
    root: new URL('../../..', import.meta.url).pathname,
    include: ['libs/event-store/perf/*.perf.ts'],
    globalSetup: ['libs/testing/src/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
