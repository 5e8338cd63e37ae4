// looptree in real headless Chromium, as a browser user loads it (dist/browser.js, the .wasm located by import.meta.url and fetched): in a page and in a module Web Worker, with the build init() picks by itself (relaxed SIMD in Chromium) and with simd: 'baseline'; each runs a PyTorch fixture end to end (safetensors weights, 2-layer bidirectional LSTM) and must match PyTorch.
// With threads: a page without cross-origin isolation falls back to 1 thread (and says why); a cross-origin isolated page (COOP + COEP) and a worker of it run 2 threads, bitwise as 1 thread, and match PyTorch.
// Needs Chromium (apt-get install chromium, or CHROMIUM_PATH) and playwright-core (npm ci --prefix test/runtimes); skipped with the reason otherwise, failed instead under LOOPTREE_REQUIRE_RUNTIMES=1 (CI).

import { describe, expect, it } from 'vitest';
import { chromiumPath, chromiumSession, expectProbeMatchesTorch, probeInBrowser, runtimePackage, unavailable } from '../helpers/runtimes.js';

const executablePath = chromiumPath();
const playwright = await runtimePackage<typeof import('playwright-core')>('playwright-core');
const missing = unavailable([
  !executablePath && 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)',
  !playwright && 'playwright-core is not installed (npm ci --prefix test/runtimes)',
]);

describe.skipIf(missing)(`headless Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const chromium = chromiumSession(playwright, executablePath!);

  for (const inWorker of [false, true]) {
    const where = inWorker ? 'a module Web Worker' : 'a page';
    const page = () => `${chromium.url}/test/runtimes/page.html`;
    it(`in ${where}, init() picks the relaxed build and matches PyTorch`, async () => {
      expectProbeMatchesTorch(`Chromium, ${where}`, await probeInBrowser(chromium.browser, page(), {}, inWorker), 'relaxed');
    }, 60_000);
    it(`in ${where}, init({ simd: 'baseline' }) runs the baseline build and matches PyTorch`, async () => {
      expectProbeMatchesTorch(`Chromium, ${where}, baseline`, await probeInBrowser(chromium.browser, page(), { simd: 'baseline' }, inWorker), 'baseline');
    }, 60_000);
  }

  it('in a page that is not cross-origin isolated, init({ threads: 2 }) runs on 1 thread and says why', async () => {
    const result = await probeInBrowser(chromium.browser, `${chromium.url}/test/runtimes/page.html`, { threads: 2 }, false, 'threads');
    expectProbeMatchesTorch('Chromium, page without isolation, threads: 2', result, 'relaxed');
    expect(result.threads).toBe(1);
    expect(result.threadsReason).toMatch(/cross-origin isolated/);
  }, 60_000);
});

describe.skipIf(missing)(`headless Chromium, cross-origin isolated (COOP + COEP)${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const chromium = chromiumSession(playwright, executablePath!, true);

  for (const inWorker of [false, true]) {
    const where = inWorker ? 'a module Web Worker' : 'a page';
    for (const simd of ['relaxed', 'baseline'] as const) {
      it(`in ${where}, init({ threads: 2, simd: '${simd}' }) runs 2 threads, bitwise as 1, and matches PyTorch`, async () => {
        const result = await probeInBrowser(chromium.browser, `${chromium.url}/test/runtimes/page.html`, { threads: 2, simd }, inWorker, 'threads');
        expectProbeMatchesTorch(`Chromium, isolated ${where}, threads: 2`, result, simd);
        expect(result.threads).toBe(2);
        expect(result.threadsReason).toBeNull();
        expect(result.sameAtOneThread).toBe(true);
      }, 60_000);
    }
  }
});
