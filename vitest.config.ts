import { defineConfig } from 'vitest/config';

// One PostgreSQL and one NATS server for the whole run (libs/testing/src/global-setup.ts);
// each test file makes its own database and stream names, so files run in parallel.
export default defineConfig({
  test: {
    include: ['**/*.{unit,int,e2e}.test.ts'],
    exclude: ['**/node_modules/**', '.data/**'],
    globalSetup: ['libs/testing/src/global-setup.ts'],
    testTimeout: 60_000,
    // Hooks start servers and service processes: on a loaded machine that takes minutes
    // (they wait for readiness, so a quick machine does not wait longer).
    hookTimeout: 300_000,
    pool: 'forks',
    reporters: ['default', './libs/testing/src/summary-reporter.ts'],
  },
});
