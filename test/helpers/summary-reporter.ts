// Vitest reporter that ends the run with one plain line, "N passed, N failed" (", N skipped"), for CI logs,
// after one line per group of skipped tests saying why they were skipped (the suite names carry the reason).

import type { Reporter, TestCase, TestModule } from 'vitest/node';

/** Why a test was skipped: its note if it has one, else the names of the suites around it. */
function skipReason(test: TestCase): string {
  const result = test.result();
  const note = result.state === 'skipped' ? result.note : undefined;
  const suites = test.fullName.slice(0, test.fullName.length - test.name.length).replace(/ > $/, '');
  return [`${test.module.relativeModuleId}${suites ? `: ${suites}` : ''}`, note].filter(Boolean).join(' — ');
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0, failed = 0, skipped = 0;
    const reasons = new Map<string, number>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else {
          skipped++;
          const reason = skipReason(test);
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed++;
    }
    for (const [reason, count] of reasons) console.log(`skipped ${count}: ${reason}`);
    console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  }
}
