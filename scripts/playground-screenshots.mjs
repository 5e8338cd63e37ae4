// Screenshots of the five playground panels for the README: builds and serves the playground, drives each panel in
// headless Chromium (scripts/playground-panels.mjs, full-length runs) and writes playground/screenshots/<panel>.png.
// Run: npm run playground:screenshots (needs Chromium: /usr/bin/chromium or CHROMIUM_PATH, and npm ci --prefix test/runtimes).

import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPlayground, servePlayground } from './playground.mjs';
import { CHROMIUM_ARGS, PANELS } from './playground-panels.mjs';

const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { chromium } = createRequire(path.join(REPO_DIR, 'test/runtimes/package.json'))('playwright-core');
const OUT = path.join(REPO_DIR, 'playground', 'screenshots');
const only = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const short = process.argv.includes('--short');

await buildPlayground({ quiet: true });
const server = await servePlayground();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
mkdirSync(OUT, { recursive: true });
try {
  for (const [name, drive] of Object.entries(PANELS)) {
    if (only.length && !only.includes(name)) continue;
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on('console', (message) => { if (message.type() === 'error') console.error(`[${name}] console error: ${message.text()}`); });
    page.on('pageerror', (error) => console.error(`[${name}] page error: ${error.message}`));
    const started = Date.now();
    const result = await drive(page, server.url, { short });
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
    console.log(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s → playground/screenshots/${name}.png`, process.argv.includes("--verbose") ? JSON.stringify(result) : JSON.stringify(result).slice(0, 300));
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
