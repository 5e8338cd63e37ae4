// The int8 kernel tests (test/kernels/quantized.test.ts) in the relaxed build under Node 22 and 24: there V8 computes
// relaxed_dot_i8x16_i7x16_add_s as the spec says (pmaddubsw + pmaddwd, or AVX-VNNI's vpdpbusd where the CPU has it),
// so gemmInt8 runs the instruction itself — the path Node 20 (whose V8 computes it wrong: the kernels' SIMD128
// sequence) never takes. Each runtime runs vitest on that file and must pass every test, none skipped.
// Needs test/runtimes' packages (npm ci --prefix test/runtimes); skipped with the reason otherwise, failed instead under
// LOOPTREE_REQUIRE_RUNTIMES=1 (CI).

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_DIR, unavailable } from '../helpers/runtimes.js';

const run = promisify(execFile);
const MODULES = path.join(REPO_DIR, 'test/runtimes/node_modules');
const VITEST = path.join(REPO_DIR, 'node_modules/vitest/vitest.mjs');

for (const [name, binary] of [['Node 22', 'node22/bin/node'], ['Node 24', 'node24/bin/node']] as const) {
  const node = path.join(MODULES, binary);
  const missing = unavailable([
    !existsSync(node) && `${path.relative(REPO_DIR, node)} is not installed (npm ci --prefix test/runtimes)`,
    !existsSync(path.join(REPO_DIR, 'dist/looptree-relaxed.wasm')) && 'dist/ is not built (npm run build)',
  ]);
  describe.skipIf(missing)(`${name}: the int8 kernels on the relaxed dot instruction${missing ? ` (skipped: ${missing})` : ''}`, () => {
    it('test/kernels/quantized.test.ts passes in the relaxed build, relaxedDotExact() true', async () => {
      const { stdout } = await run(node, [VITEST, 'run', '--project', 'relaxed', 'test/kernels/quantized.test.ts'], {
        cwd: REPO_DIR, timeout: 120_000, env: { ...process.env, NO_COLOR: '1', CI: '1' },
      });
      // The summary reporter's last line; the file has 11 tests, relaxedDotExact's among them (true on V8 ≥ 12).
      const summary = stdout.trim().split('\n').at(-1);
      expect(summary, stdout).toBe('11 passed, 0 failed');
    }, 150_000);
  });
}
