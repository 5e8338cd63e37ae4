// init() races and build conflicts (issue 10, F8): concurrent init() calls asking for different builds, and a
// `module` of the other build after a successful init. Init state is per process: this file is its own worker.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InitError, LSTM, backendInfo, init, initSync, tensor } from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

const active = simdUnderTest();
const other = active === 'relaxed' ? 'baseline' : 'relaxed';
const bytesOf = (build: string) => readFileSync(new URL(`../dist/looptree-${build}.wasm`, import.meta.url));
// The baseline project runs Node without relaxed SIMD: there the relaxed bytes do not even compile.
const otherCompiles = WebAssembly.validate(bytesOf(other));

describe('init races', () => {
  it(`init({ simd: '${active}' }) and init({ simd: '${other}' }) started together: the first wins, the second rejects`, async () => {
    const [first, second] = await Promise.allSettled([init({ simd: active }), init({ simd: other })]);
    expect(first.status).toBe('fulfilled');
    expect(second.status).toBe('rejected');
    const reason = (second as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(InitError);
    expect(reason.message).toContain(`already initialized with the ${active} build; init() cannot switch to '${other}'`);
    expect(backendInfo().simd).toBe(active);
  });

  it('concurrent calls that agree share the one build', async () => {
    await Promise.all([init(), init({ simd: active }), init({ module: bytesOf(active) })]);
    expect(backendInfo().simd).toBe(active);
  });

  it(`a module of the other build after init: initSync throws InitError, init rejects; the ${active} build keeps running`, async () => {
    const expected = otherCompiles
      ? `initSync(): module must be the ${active} build looptree is already initialized with, got the ${other} build`
      : 'could not compile the given .wasm bytes';
    expect(() => initSync({ module: bytesOf(other) })).toThrow(InitError);
    expect(() => initSync({ module: bytesOf(other) })).toThrow(expected);
    await expect(init({ module: bytesOf(other) })).rejects.toThrow(InitError);
    if (otherCompiles) await expect(init({ module: new WebAssembly.Module(bytesOf(other)) })).rejects.toThrow(`got the ${other} build`);
    const same = new WebAssembly.Module(bytesOf(active));
    initSync({ module: same }); // the same build: a no-op
    initSync({ module: bytesOf(active) });
    expect(backendInfo().simd).toBe(active);
    const lstm = new LSTM({ inputSize: 1, hiddenSize: 1 });
    expect(lstm.forward(tensor([1], [1, 1, 1])).output.shape).toEqual([1, 1, 1]);
    lstm.dispose();
  });
});
