// The playground (npm run playground) in real headless Chromium: built with esbuild and served with COOP/COEP by
// scripts/playground.mjs, each of the five panels driven as a visitor would (scripts/playground-panels.mjs, short runs):
// no console errors; training lowers the loss; generation streams the requested number of characters; the Tree-LSTM
// colours every node (and agrees with the sentences' own labels); the benchmark shows a checked ratio for every
// workload W1–W7; and the RNN's gradient at t = 0 is orders of magnitude below the LSTM's. Screenshots of each panel
// go to playground/screenshots/test/ (not committed; `npm run playground:screenshots` refreshes the README's).
// Needs Chromium and playwright-core (npm ci --prefix test/runtimes), and for the Benchmark panel the bench peers
// (npm ci --prefix bench); skipped with the reason otherwise, failed instead under LOOPTREE_REQUIRE_RUNTIMES=1 (CI).

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { buildPlayground, peersInstalled, servePlayground } from '../../scripts/playground.mjs';
// @ts-expect-error: a plain .mjs script without types
import { PANELS } from '../../scripts/playground-panels.mjs';
import { EXAMPLES } from '../../playground/src/sentiment-trees.mjs';
import { REPO_DIR, chromiumBrowser, chromiumPath, runtimePackage, unavailable } from '../helpers/runtimes.js';

const executablePath = chromiumPath();
const playwright = await runtimePackage<typeof import('playwright-core')>('playwright-core');
const missing = unavailable([
  !executablePath && 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)',
  !playwright && 'playwright-core is not installed (npm ci --prefix test/runtimes)',
]);
const missingPeers = missing || unavailable([!peersInstalled() && 'the benchmark peers are not installed (npm ci --prefix bench)']);
const SCREENSHOTS = path.join(REPO_DIR, 'playground', 'screenshots', 'test');

describe.skipIf(missing)(`the playground in headless Chromium${missing ? ` (skipped: ${missing})` : ''}`, () => {
  const chromium = chromiumBrowser(playwright, executablePath!);
  let server: { url: string; close(): Promise<void> } | undefined;
  beforeAll(async () => {
    await buildPlayground({ quiet: true });
    server = await servePlayground();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  /** Drives panel `name` in a fresh page; returns what it measured and every console error and uncaught exception. */
  async function drive(name: string) {
    const page = await chromium.browser.newPage({ viewport: { width: 1360, height: 900 } });
    const errors: string[] = [];
    page.on('console', (message: { type(): string; text(): string }) => { if (message.type() === 'error') errors.push(message.text()); });
    page.on('pageerror', (error: Error) => errors.push(error.message));
    try {
      const result = await PANELS[name](page, server!.url, { short: true });
      const isolated = await page.evaluate(() => crossOriginIsolated);
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
      return { result, errors, isolated };
    } finally {
      await page.close();
    }
  }

  it('Train: a character LSTM trains in a worker, and its training and validation losses fall', async () => {
    const { result, errors, isolated } = await drive('train');
    expect(errors).toEqual([]);
    expect(isolated).toBe(true); // served with COOP/COEP
    expect(result.error).toBe('');
    const losses = result.steps.map(([, loss]: [number, number]) => loss);
    expect(losses).toHaveLength(100);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    // The first steps sit near ln(alphabet) ≈ 4; 100 steps of Adam bring the character loss well below.
    expect(mean(losses.slice(0, 10))).toBeGreaterThan(3.5);
    expect(mean(losses.slice(-10))).toBeLessThan(0.75 * mean(losses.slice(0, 10)));
    const validation = result.validation.map(([, loss]: [number, number]) => loss);
    expect(validation.at(-1)).toBeLessThan(0.8 * validation[0]);
    expect(result.samples).toHaveLength(2); // every 50 steps
  }, 180_000);

  it('Generate: streams exactly the requested number of characters from the trained model', async () => {
    const { result, errors } = await drive('generate');
    expect(errors).toEqual([]);
    expect(result.error).toBe('');
    expect(result.tokens).toBe(240);
    expect([...result.text]).toHaveLength(240);
  }, 180_000);

  it('Trees: colours every node of the parse, with the sentiment of the sentence\'s own labels', async () => {
    const { result, errors } = await drive('trees');
    expect(errors).toEqual([]);
    // The panel opens on EXAMPLES[4]; its nodes are its opening parentheses, their labels the numbers after them (pre-order).
    const labels = [...EXAMPLES[4].matchAll(/\((\d)/g)].map((match) => Number(match[1]));
    expect(result.nodes).toBe(labels.length);
    expect(result.coloured).toBe(labels.length);
    expect(result.predictions).toEqual(labels);
  }, 60_000);

  it.skipIf(missingPeers)(`Benchmark: a checked ratio against a peer for every workload W1–W7${missingPeers && !missing ? ` (skipped: ${missingPeers})` : ''}`, async () => {
    const { result, errors } = await drive('benchmark');
    expect(errors).toEqual([]);
    expect(result.errors).toEqual([]);
    for (const id of ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7']) {
      const ratios = result.ratios[id] ?? {};
      expect(Object.keys(ratios), id).toContain('tfjs-wasm');
      if (id !== 'W6') expect(Object.keys(ratios), id).toContain('onnxruntime-web'); // no tree recurrence in ONNX
      expect(Object.keys(ratios), id).toContain('looptree-relaxed');
      for (const [peer, ratio] of Object.entries(ratios)) {
        expect(ratio, `${id} ${peer}`).toBeGreaterThan(0);
        expect(Number.isFinite(ratio), `${id} ${peer}`).toBe(true);
        expect(result.checked[peer][id], `${id}: ${peer}'s output matches looptree's`).toBe(true);
      }
    }
  }, 300_000);

  it('Gradients: the RNN\'s ‖∂L/∂x_0‖ is orders of magnitude below the LSTM\'s; six runs with loss curves', async () => {
    const { result, errors } = await drive('gradients');
    expect(errors).toEqual([]);
    expect(result.error).toBe('');
    expect(result.runs.map((run: { cell: string; clipped: boolean }) => `${run.cell}${run.clipped ? '+clip' : ''}`))
      .toEqual(['RNN', 'RNN+clip', 'LSTM', 'LSTM+clip', 'GRU', 'GRU+clip']);
    const run = (cell: string) => result.runs.find((r: { cell: string; clipped: boolean }) => r.cell === cell && !r.clipped);
    for (const r of result.runs) {
      expect(r.before).toHaveLength(100);
      expect(r.losses).toHaveLength(40);
    }
    expect(run('RNN').before[0]).toBeLessThan(1e-6 * run('LSTM').before[0]);
    expect(run('RNN').after[0]).toBeLessThan(1e-3 * run('LSTM').after[0]);
    // Vanishing: for the RNN, the gradient grows towards the last step, by many orders of magnitude over 100 steps.
    expect(run('RNN').before[99]).toBeGreaterThan(1e10 * run('RNN').before[0]);
  }, 180_000);
});
