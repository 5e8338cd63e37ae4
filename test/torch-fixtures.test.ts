// Every PyTorch fixture (test/fixtures/torch): output, h and c within the fixture's tolerance, in this project's SIMD build,
// bitwise the same at 1 and 2 threads.

import { beforeAll, describe, expect, it } from 'vitest';
import { GRU, LSTM, RNN, backendInfo, init, threadsReady, type RecurrentModule } from '../dist/index.js';
import { expectClose, listFixtures, loadFixture, simdUnderTest, type FixtureTensor, type Tolerance } from './helpers/fixtures.js';
import { acrossThreadCounts, expectBitwiseEqual } from './helpers/threads.js';

interface TorchFixture {
  name: string;
  module: 'RNN' | 'LSTM' | 'GRU';
  config: Record<string, unknown>;
  params: Record<string, FixtureTensor>;
  inputs: { input: FixtureTensor; h0?: FixtureTensor; c0?: FixtureTensor; lengths?: number[] };
  outputs: { output: FixtureTensor; h_n: FixtureTensor; c_n?: FixtureTensor };
  tolerance: Tolerance;
}

const constructors = { RNN, LSTM, GRU };

function buildModule(fixture: TorchFixture): RecurrentModule {
  const module = new constructors[fixture.module](fixture.config as any);
  module.loadStateDict(fixture.params);
  return module;
}

function runFixture(module: RecurrentModule, fixture: TorchFixture) {
  return module.forward(fixture.inputs.input, { h0: fixture.inputs.h0, c0: fixture.inputs.c0, lengths: fixture.inputs.lengths });
}

const names = listFixtures('torch');

beforeAll(async () => {
  await init({ simd: simdUnderTest(), threads: 2 });
  await threadsReady();
});

describe(`torch fixtures (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('runs the requested SIMD build', () => {
    expect(backendInfo().simd).toBe(simdUnderTest());
  });

  it('has the fixture set', () => {
    expect(names.length).toBeGreaterThanOrEqual(30);
  });

  for (const name of names) {
    it(name, () => {
      const fixture = loadFixture<TorchFixture>('torch', name);
      const module = buildModule(fixture);
      // At 1 thread and at 2 (every call split): bitwise the same; the 2-thread result against PyTorch.
      const { one, two: result } = acrossThreadCounts(() => runFixture(module, fixture));
      expectBitwiseEqual({ output: one.output.data, h: one.h.data, c: one.c?.data }, { output: result.output.data, h: result.h.data, c: result.c?.data });
      expectClose('output', result.output, fixture.outputs.output, fixture.tolerance);
      expectClose('h', result.h, fixture.outputs.h_n, fixture.tolerance);
      if (fixture.module === 'LSTM') expectClose('c', result.c!, fixture.outputs.c_n!, fixture.tolerance);
      else expect(result.c).toBeUndefined();
      // Same input, same build: bitwise-identical output.
      const again = runFixture(module, fixture);
      expect(again.output.data).toEqual(result.output.data);
      expect(again.h.data).toEqual(result.h.data);
      module.dispose();
    });
  }
});
