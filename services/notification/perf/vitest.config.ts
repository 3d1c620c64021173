import { defineConfig } from 'vitest/config';

// The notification micro-benchmarks (`*.perf.ts`): not part of `npm test`; one PostgreSQL and
// NATS started by the test helpers, as for the tests.
export default defineConfig({
  test: {
    root: new URL('../../..', import.meta.url).pathname,
    include: ['services/notification/perf/*.perf.ts'],
    globalSetup: ['libs/testing/src/global-setup.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
