// A worker of the pool that dies (bindings/threads.ts, issue 15), in Node, in the threads build of the SIMD build
// under test: a worker whose thread ends between calls makes the next call throw ThreadError; one whose part of a
// job throws fails that call with ThreadError; one whose thread ends during a call (the main thread waiting for it
// at a barrier) fails that call with ThreadError instead of blocking it forever (Linux: /proc). After each, the pool
// restarts and gives the same bits as one thread, another model's outputs are unchanged, the stopped pool's blocks
// are freed, and backendInfo() still reports the threads set (2, or 3, where a live worker must leave the failed job
// first). The failures are made by the testing hook injectWorkerFault (bindings/runtime.ts, not in the public entry),
// so each scenario runs a bundle of the library's sources with that hook (esbuild, like the build), in a Node process
// of its own (test/helpers/worker-faults.mjs): a regression that hangs fails at the test's timeout instead of stopping
// the run. Bun and Deno (test/runtimes' packages) find a thread that ended during a call the same way.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simdUnderTest } from './helpers/fixtures.js';
import { unavailable } from './helpers/runtimes.js';
import { expectBitwiseEqual } from './helpers/threads.js';

const root = new URL('..', import.meta.url).pathname;
const folder = mkdtempSync(join(tmpdir(), 'looptree-worker-death-'));
const bundle = join(folder, 'looptree-with-hooks.mjs');

beforeAll(async () => {
  await build({
    stdin: {
      contents: `export * from './bindings/index.js';
export { injectWorkerFault, workerPoolFailure } from './bindings/runtime.js';
import { WorkerFault } from './assembly/abi.js';
export const WORKER_FAULTS = { exit: WorkerFault.EXIT, throw: WorkerFault.THROW, 'exit-after': WorkerFault.EXIT_AFTER };`,
      resolveDir: root, loader: 'ts',
    },
    bundle: true, format: 'esm', platform: 'node', target: 'es2022', outfile: bundle, logLevel: 'warning',
    define: { __NODE__: 'true', __VERSION__: '"test"' },
  });
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

interface Report {
  reference: number[]; bystanderReference: number[]; heapBefore: number;
  faultyCall?: number[]; failureBeforeCall?: string | null;
  error: { name: string; code: string; message: string } | null;
  whileRestarting: number[]; restarted: number[]; bystanderAfter: number[]; heapAfter: number;
  info: { threads: number; threadsReason?: string };
  restartedPoolProbe: { name: string } | null;
}

/** A JS runtime to run a scenario in: its binary and the arguments before the script. */
interface Runtime {
  binary: string;
  args: string[];
}

// Node 20 runs relaxed SIMD only behind this flag (as the relaxed test project's own execArgv).
const NODE: Runtime = {
  binary: process.execPath,
  args: simdUnderTest() === 'relaxed' && Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd'] : [],
};

/** Runs a scenario: `fault` in the last worker of a pool of `threads` during `job`, in `runtime`. */
function scenario(fault: 'exit' | 'throw' | 'exit-after', job: 'forward' | 'backward' | 'tree', { threads = 2, runtime = NODE } = {}): Report {
  const script = join(root, 'test/helpers/worker-faults.mjs');
  const printed = execFileSync(runtime.binary, [...runtime.args, script, bundle, simdUnderTest(), fault, job, String(threads)], {
    encoding: 'utf8', timeout: 60_000,
  });
  return JSON.parse(printed.trim().split('\n').at(-1)!) as Report;
}

const threadEnded = (worker: number) =>
  `a looptree worker thread failed during the call (worker ${worker}'s thread ended during the call); the pool was stopped and restarts on the next call`;

/** After the failure: the restarted pool gives one thread's bits, the bystander is intact, the heap is back. */
function expectRecovered(report: Report, threads = 2): void {
  expectBitwiseEqual({ output: report.reference }, { output: report.whileRestarting });
  expectBitwiseEqual({ output: report.reference }, { output: report.restarted });
  expectBitwiseEqual({ bystander: report.bystanderReference }, { bystander: report.bystanderAfter });
  expect(report.heapAfter).toBe(report.heapBefore);
  expect(report.info.threads).toBe(threads);
  expect(report.info.threadsReason).toBeUndefined();
  expect(report.restartedPoolProbe?.name).toBe('ThreadError');
}

describe(`a worker that dies (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('exits between calls: the next call throws ThreadError, then the pool restarts', () => {
    const report = scenario('exit-after', 'forward');
    expectBitwiseEqual({ output: report.reference }, { output: report.faultyCall! });
    expect(report.failureBeforeCall).toBe('worker 1 exited (code 1)');
    expect(report.error).toEqual({
      name: 'ThreadError', code: 'ERR_THREAD',
      message: 'a looptree worker thread stopped (worker 1 exited (code 1)); the pool restarts on the next call',
    });
    expectRecovered(report);
  });

  it('throws in its part of a job: that call throws ThreadError, then the pool restarts', () => {
    const report = scenario('throw', 'forward');
    expect(report.error).toEqual({
      name: 'ThreadError', code: 'ERR_THREAD',
      message: "a looptree worker thread failed during the call (worker 1's part of the job threw); the pool was stopped and restarts on the next call",
    });
    expectRecovered(report);
  });

  for (const job of ['forward', 'backward', 'tree'] as const) {
    it(`ends its thread during a call (${job}): the call throws ThreadError instead of waiting forever`, () => {
      const report = scenario('exit', job);
      expect(report.error).toEqual({ name: 'ThreadError', code: 'ERR_THREAD', message: threadEnded(1) });
      expectRecovered(report);
    });
  }

  // With 3 threads the failing worker is worker 2, and worker 1, alive, must have left the job before the call throws.
  it('3 threads: worker 2 throws in its part of a job, the call throws ThreadError once worker 1 has left the job', () => {
    const report = scenario('throw', 'forward', { threads: 3 });
    expect(report.error?.message).toBe("a looptree worker thread failed during the call (worker 2's part of the job threw); the pool was stopped and restarts on the next call");
    expectRecovered(report, 3);
  });

  it("3 threads: worker 2's thread ends during a call, the call throws ThreadError once worker 1 has left the job", () => {
    const report = scenario('exit', 'forward', { threads: 3 });
    expect(report.error).toEqual({ name: 'ThreadError', code: 'ERR_THREAD', message: threadEnded(2) });
    expectRecovered(report, 3);
  });
});

// Deno lets a worker read /proc/thread-self only with --allow-all: with narrower permissions it has no thread id, and
// a thread that ends during a call blocks it as in browsers.
const modules = join(root, 'test/runtimes/node_modules/.bin');
const OTHER_RUNTIMES: Array<{ name: string } & Runtime> = [
  { name: 'Bun', binary: join(modules, 'bun'), args: [] },
  { name: 'Deno', binary: join(modules, 'deno'), args: ['run', '--allow-all'] },
];

for (const runtime of OTHER_RUNTIMES) {
  const missing = unavailable([!existsSync(runtime.binary) && `${runtime.binary} is not installed (npm ci --prefix test/runtimes)`]);
  describe.skipIf(missing)(`a worker that dies, in ${runtime.name} (${process.env.LOOPTREE_SIMD} build)${missing ? ` (skipped: ${missing})` : ''}`, () => {
    it('ends its thread during a call: the call throws ThreadError, then the pool restarts', () => {
      const report = scenario('exit', 'forward', { runtime });
      expect(report.error).toEqual({ name: 'ThreadError', code: 'ERR_THREAD', message: threadEnded(1) });
      expectRecovered(report);
    });
  });
}
