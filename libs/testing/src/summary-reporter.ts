/**
 * Ends a test run with one plain line that any CI can read whatever the runner (vitest's
 * own summary is decorated for terminals):
 *
 *   Tests: N passed, N failed, N skipped; files: N passed, N failed
 *
 * "failed" counts failed tests, plus every file that failed outside its tests (a set-up
 * hook that threw — a service not ready in time — or a file that did not load: its tests
 * are then reported skipped, or not at all), plus unhandled errors. So the line says
 * "0 failed" only when nothing failed.
 */
import type { Reporter, TestModule } from 'vitest/node';

export interface RunCounts {
  passed: number;
  failed: number;
  skipped: number;
  filesPassed: number;
  filesFailed: number;
}

export function countRun(testModules: ReadonlyArray<TestModule>, unhandledErrors: number): RunCounts {
  const counts: RunCounts = { passed: 0, failed: 0, skipped: 0, filesPassed: 0, filesFailed: 0 };
  for (const module of testModules) {
    let failedTests = 0;
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') counts.passed++;
      else if (state === 'failed') failedTests++;
      else counts.skipped++;
    }
    counts.failed += failedTests;
    if (module.state() === 'failed') {
      counts.filesFailed++;
      // Failed, but not in a test: the file's own failure is one.
      if (failedTests === 0) counts.failed++;
    } else if (module.state() === 'passed') {
      counts.filesPassed++;
    }
  }
  counts.failed += unhandledErrors;
  return counts;
}

export function summaryLine(c: RunCounts): string {
  return `Tests: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped; files: ${c.filesPassed} passed, ${c.filesFailed} failed`;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    process.stdout.write(`\n${summaryLine(countRun(testModules, unhandledErrors.length))}\n`);
  }
}
