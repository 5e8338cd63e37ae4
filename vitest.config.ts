// Test projects: every Wasm-touching test runs once per SIMD build; pure-JS tests run once; the runtime
// tests (headless Chromium, workerd) run once and choose their builds themselves; so do the install and bundler
// tests of the packed library, after all the others: their builds take both cores for a while, which would
// disturb the timing of fitAsync's test in Chromium.

import { defineConfig } from 'vitest/config';

const pureJs = ['test/tensor.test.ts', 'test/docs.test.ts', 'test/packaging/**'];
const runtimes = 'test/runtimes';
// The packed library's bundler and CLI tests: heavy child processes, so they run in a project of their own, last.
const packed = ['test/packaging/bundlers.test.ts', 'test/packaging/cli.test.ts'];

export default defineConfig({
  test: {
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'baseline',
          include: ['test/**/*.test.ts'],
          exclude: [`${runtimes}/**`, ...packed],
          env: { LOOPTREE_SIMD: 'baseline' },
        },
      },
      {
        test: {
          name: 'relaxed',
          include: ['test/**/*.test.ts'],
          exclude: [...pureJs, `${runtimes}/**`],
          env: { LOOPTREE_SIMD: 'relaxed' },
          // Node 20 runs relaxed SIMD only behind this V8 flag; Node 22 has it on by default and rejects the flag
          // (test/runtimes/int8-relaxed.test.ts runs the int8 kernel tests under Node 22 and 24).
          execArgv: Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd'] : [],
        },
      },
      {
        test: {
          name: 'runtimes',
          include: [`${runtimes}/*.test.ts`],
        },
      },
      {
        test: {
          name: 'packaging',
          include: packed,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
