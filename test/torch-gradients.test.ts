// Backward through time against every PyTorch fixture (input, h0/c0 and every parameter gradient), plus
// gradient accumulation, zeroGrad and backward misuse.

import { beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, GRU, LSTM, RNN, init, tensor, type RecurrentModule } from '../dist/index.js';
import { expectClose, listFixtures, loadFixture, simdUnderTest, type FixtureTensor, type Tolerance } from './helpers/fixtures.js';

interface TorchFixture {
  module: 'RNN' | 'LSTM' | 'GRU';
  config: Record<string, unknown>;
  params: Record<string, FixtureTensor>;
  inputs: { input: FixtureTensor; h0?: FixtureTensor; c0?: FixtureTensor; lengths?: number[] };
  grads: Record<string, FixtureTensor> & { seed: FixtureTensor; seed_h_n: FixtureTensor; seed_c_n?: FixtureTensor; tolerance: Tolerance };
}

const constructors = { RNN, LSTM, GRU };

function trainStep(module: RecurrentModule, fixture: TorchFixture) {
  const { input, h0, c0, lengths } = fixture.inputs;
  module.forward(input, { h0, c0, lengths, train: true });
  return module.backward({ output: fixture.grads.seed, h: fixture.grads.seed_h_n, c: fixture.grads.seed_c_n });
}

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

describe(`torch fixture gradients (${process.env.LOOPTREE_SIMD} build)`, () => {
  for (const name of listFixtures('torch')) {
    it(name, () => {
      const fixture = loadFixture<TorchFixture>('torch', name);
      const module = new constructors[fixture.module](fixture.config as any);
      module.loadStateDict(fixture.params);
      const back = trainStep(module, fixture);
      const tolerance = fixture.grads.tolerance;
      expectClose('d input', back.input, fixture.grads.input, tolerance);
      if (fixture.grads.h0) expectClose('d h0', back.h0, fixture.grads.h0, tolerance);
      if (fixture.grads.c0) expectClose('d c0', back.c0!, fixture.grads.c0, tolerance);
      const grads = module.grads();
      expect(Object.keys(grads)).toEqual(Object.keys(fixture.params));
      for (const key of Object.keys(fixture.params)) expectClose(`d ${key}`, grads[key], fixture.grads[key], tolerance);
      module.dispose();
    });
  }
});

describe('gradient bookkeeping', () => {
  const name = 'lstm_lengths_l2_bidir_h0c0.json';

  it('gradients accumulate across backward calls until zeroGrad()', () => {
    const fixture = loadFixture<TorchFixture>('torch', name);
    const lstm = new LSTM(fixture.config as any);
    lstm.loadStateDict(fixture.params);
    trainStep(lstm, fixture);
    const once = lstm.grads().weight_hh_l1.data.slice();
    trainStep(lstm, fixture);
    const twice = lstm.grads().weight_hh_l1.data;
    for (let i = 0; i < once.length; i++) expect(twice[i]).toBeCloseTo(2 * once[i], 5);
    lstm.zeroGrad();
    expect(lstm.grads().weight_hh_l1.data.every((v) => v === 0)).toBe(true);
    const parameters = lstm.parameters();
    expect(parameters.map((p) => p.name)).toEqual(Object.keys(fixture.params));
    expect(parameters[0].value().data).toEqual(Float32Array.from(fixture.params.weight_ih_l0.data));
    lstm.dispose();
  });

  it('an inference forward between the training forward and backward does not disturb it', () => {
    const fixture = loadFixture<TorchFixture>('torch', name);
    const lstm = new LSTM(fixture.config as any);
    lstm.loadStateDict(fixture.params);
    const { input, h0, c0, lengths } = fixture.inputs;
    lstm.forward(input, { h0, c0, lengths, train: true });
    lstm.forward(tensor(new Float32Array(2 * 3 * 5), [2, 3, 5]));
    const back = lstm.backward({ output: fixture.grads.seed, h: fixture.grads.seed_h_n, c: fixture.grads.seed_c_n });
    expectClose('d input', back.input, fixture.grads.input, fixture.grads.tolerance);
    lstm.dispose();
  });

  it('rejects backward without a training forward, twice, after a parameter change, and wrong gradient shapes', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3 });
    const x = tensor(new Float32Array(4 * 2 * 2).fill(0.5), [4, 2, 2]);
    expect(() => gru.backward({})).toThrow(ArgumentError);
    gru.forward(x);
    expect(() => gru.backward({})).toThrow('call forward(input, { train: true }) first');
    gru.forward(x, { train: true });
    expect(() => gru.backward({ output: tensor(new Float32Array(3), [1, 1, 3]) })).toThrow('Expected gradient of output of shape [4, 2, 3], got [1, 1, 3]');
    expect(() => gru.backward({ c: tensor(new Float32Array(6), [1, 2, 3]) })).toThrow('c is only for LSTM');
    gru.backward({});
    expect(() => gru.backward({})).toThrow(ArgumentError);
    gru.forward(x, { train: true });
    gru.loadStateDict(gru.stateDict());
    expect(() => gru.backward({})).toThrow(ArgumentError);
    expect(() => gru.forward(x, { train: 'yes' as any })).toThrow('train must be a boolean');
    gru.dispose();
  });
});
