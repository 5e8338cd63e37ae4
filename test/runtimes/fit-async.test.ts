// Sequential.fitAsync in real headless Chromium, on a page's main thread: while fit() runs, a 10 ms timer cannot fire
// (the page is frozen); while fitAsync() trains the same seeded model to the same history and weights, it keeps firing.
// Needs Chromium and playwright-core, as browser.test.ts; skipped with the reason otherwise, failed instead under
// LOOPTREE_REQUIRE_RUNTIMES=1 (CI).

import { describe, expect, it } from 'vitest';
import { chromiumPath, chromiumSession, runtimePackage, unavailable } from '../helpers/runtimes.js';

const executablePath = chromiumPath();
const playwright = await runtimePackage<typeof import('playwright-core')>('playwright-core');
const missing = unavailable([
  !executablePath && 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)',
  !playwright && 'playwright-core is not installed (npm ci --prefix test/runtimes)',
]);

describe.skipIf(missing)(`fitAsync in headless Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const chromium = chromiumSession(playwright, executablePath!);

  it('keeps a timer firing on the page while it trains, and trains exactly as fit() does', async () => {
    const page = await chromium.browser.newPage();
    try {
      await page.goto(`${chromium.url}/test/runtimes/page.html`);
      // A string, so that the test's transpiler leaves the page's code alone.
      const result = await page.evaluate(`(async () => {
        const [looptree, script] = await Promise.all([import('/dist/browser.js'), import('/test/runtimes/fit-async.js')]);
        return script.trainWhileTicking(looptree);
      })()`);
      const summary = JSON.stringify(result);
      expect(result.syncTicks, `the timer during fit(): ${summary}`).toBe(0);
      expect(result.syncMs, `fit() must take long enough to show it: ${summary}`).toBeGreaterThan(100);
      expect(result.asyncTicks, `the timer during fitAsync(): ${summary}`).toBeGreaterThanOrEqual(result.asyncMs / 10 / 4);
      expect(result.longestWaitMs, `the longest wait for the timer during fitAsync(): ${summary}`).toBeLessThan(result.syncMs / 4);
      expect(result.sameHistory, 'the same history').toBe(true);
      expect(result.sameWeights, 'the same weights').toBe(true);
    } finally {
      await page.close();
    }
  }, 120_000);
});
