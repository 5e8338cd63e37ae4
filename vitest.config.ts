// Test projects: every Wasm-touching test runs once per SIMD build; pure-JS tests run once.

import { defineConfig } from 'vitest/config';

const pureJs = ['test/safetensors.test.ts', 'test/tensor.test.ts'];

export default defineConfig({
  test: {
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'baseline',
          include: ['test/**/*.test.ts'],
          env: { LOOPTREE_SIMD: 'baseline' },
        },
      },
      {
        test: {
          name: 'relaxed',
          include: ['test/**/*.test.ts'],
          exclude: pureJs,
          env: { LOOPTREE_SIMD: 'relaxed' },
          // Node 20 runs relaxed SIMD only behind this V8 flag (Node 22 has it on by default).
          execArgv: ['--experimental-wasm-relaxed-simd'],
        },
      },
    ],
  },
});
