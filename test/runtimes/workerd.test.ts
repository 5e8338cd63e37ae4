// looptree on the edge: Cloudflare's workerd (run locally by miniflare), which forbids compiling Wasm from bytes, so the worker imports the .wasm as a module and passes it to init({ module }); both builds, each on a PyTorch fixture end to end, must match PyTorch; asked
// for 2 threads, it runs on 1 and says why.
// Needs miniflare (npm ci --prefix test/runtimes); skipped with the reason otherwise, failed instead under LOOPTREE_REQUIRE_RUNTIMES=1 (CI).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFixture } from '../helpers/fixtures.js';
import { PROBE_CASE, REPO_DIR, expectProbeMatchesTorch, runtimePackage, unavailable } from '../helpers/runtimes.js';

const miniflare = await runtimePackage<typeof import('miniflare')>('miniflare');
const missing = unavailable([!miniflare && 'miniflare is not installed (npm ci --prefix test/runtimes)']);

// The worker as an edge user writes it: the .wasm imported as a module (workerd compiles it at deploy time).
const WORKER = `
import * as looptree from './looptree.js';
import { runProbe, runThreadsProbe } from './probe.js';
import wasm from './looptree.wasm';
export default {
  async fetch(request) {
    const { fixture, weights, threads } = await request.json();
    try {
      const probe = threads ? runThreadsProbe : runProbe;
      return Response.json(await probe(looptree, { init: { module: wasm, ...(threads ? { threads } : {}) }, fixture, weights: new Uint8Array(weights).buffer }));
    } catch (error) {
      return new Response(String(error?.stack ?? error), { status: 500 });
    }
  },
};`;

async function probeInWorkerd(build: 'baseline' | 'relaxed', threads?: number) {
  const read = (file: string) => readFileSync(path.join(REPO_DIR, file));
  const worker = new miniflare!.Miniflare({
    compatibilityDate: '2025-01-01',
    modules: [
      { type: 'ESModule', path: 'worker.js', contents: WORKER },
      { type: 'ESModule', path: 'looptree.js', contents: read('dist/browser.js') },
      { type: 'ESModule', path: 'probe.js', contents: read('test/runtimes/probe.js') },
      { type: 'CompiledWasm', path: 'looptree.wasm', contents: read(`dist/looptree-${build}.wasm`) },
    ],
  });
  try {
    const fixture = loadFixture('torch', `${PROBE_CASE}.json`);
    const weights = [...read(`test/fixtures/torch/${PROBE_CASE}.safetensors`)];
    const response = await worker.dispatchFetch('http://localhost/', { method: 'POST', body: JSON.stringify({ fixture, weights, threads }) });
    if (!response.ok) throw new Error(`workerd answered ${response.status}: ${await response.text()}`);
    return await response.json();
  } finally {
    await worker.dispose();
  }
}

describe.skipIf(missing)(`workerd via miniflare${missing ? ` (skipped: ${missing})` : ''}`, () => {
  for (const build of ['relaxed', 'baseline'] as const) {
    it(`init({ module }) with the imported ${build} .wasm matches PyTorch`, async () => {
      expectProbeMatchesTorch(`workerd, ${build}`, (await probeInWorkerd(build)) as any, build);
    }, 60_000);
  }

  it('init({ module, threads: 2 }) runs on 1 thread (no workers on the edge) and says why', async () => {
    const result = (await probeInWorkerd('relaxed', 2)) as any;
    expectProbeMatchesTorch('workerd, relaxed, threads: 2', result, 'relaxed');
    expect(result.threads).toBe(1);
    expect(result.threadsReason).toMatch(/SharedArrayBuffer|Worker/);
  }, 60_000);
});
