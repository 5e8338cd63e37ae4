// initSync() with a compiled module (the edge / worker path) and the CommonJS bundle.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { GRU, backendInfo, initSync, tensor } from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

describe('initSync', () => {
  it('instantiates a precompiled WebAssembly.Module and reports its build', () => {
    const simd = simdUnderTest();
    const module = new WebAssembly.Module(readFileSync(new URL(`../dist/looptree-${simd}.wasm`, import.meta.url)));
    initSync({ module, simd });
    expect(backendInfo().simd).toBe(simd);
    initSync({ module }); // idempotent
    const gru = new GRU({ inputSize: 2, hiddenSize: 3 });
    expect(gru.forward(tensor([1, 2, 3, 4], [2, 1, 2])).output.shape).toEqual([2, 1, 3]);
    gru.dispose();
  });

  it('the CommonJS bundle works on its own', async () => {
    const require = createRequire(import.meta.url);
    const cjs = require('../dist/index.cjs');
    await cjs.init({ simd: simdUnderTest() });
    const rnn = new cjs.RNN({ inputSize: 1, hiddenSize: 1 });
    rnn.loadStateDict({ weight_ih_l0: cjs.tensor([1], [1, 1]), weight_hh_l0: cjs.tensor([0], [1, 1]), bias_ih_l0: cjs.tensor([0]), bias_hh_l0: cjs.tensor([0]) });
    expect(rnn.forward(cjs.tensor([0.5], [1, 1, 1])).output.data[0]).toBeCloseTo(Math.tanh(0.5), 6);
    rnn.dispose();
  });
});
