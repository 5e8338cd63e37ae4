// RNN / LSTM / GRU through the public API: streaming, state dicts, option checks, bad input, dispose, memory.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError, DisposedError, GRU, LSTM, RNN, ShapeError, StateDictError, Tensor, backendInfo, init, manualSeed, tensor,
  type RecurrentModule,
} from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

function randomTensor(shape: number[], seed: number): Tensor {
  let state = seed;
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = state / 2 ** 32 - 0.5;
  }
  return new Tensor(data, shape);
}

function slice(t: Tensor, index: number): Float32Array {
  const width = t.data.length / t.shape[0];
  return t.data.subarray(index * width, (index + 1) * width);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

const streamCases: Array<[string, () => RecurrentModule]> = [
  ['LSTM 2 layers', () => new LSTM({ inputSize: 5, hiddenSize: 7, numLayers: 2 })],
  ['LSTM projected', () => new LSTM({ inputSize: 3, hiddenSize: 9, projSize: 4, numLayers: 2 })],
  ['GRU 3 layers', () => new GRU({ inputSize: 6, hiddenSize: 5, numLayers: 3 })],
  ['RNN relu', () => new RNN({ inputSize: 4, hiddenSize: 17, nonlinearity: 'relu' })],
  ['RNN tanh batchFirst', () => new RNN({ inputSize: 4, hiddenSize: 3, batchFirst: true })],
];

describe('stream', () => {
  for (const [label, make] of streamCases) {
    it(`${label}: step() equals forward() step by step, state() equals h/c, reset() restarts`, () => {
      manualSeed(7);
      const module = make();
      const T = 6, B = 3, L = module.numLayers;
      const x = randomTensor([T, B, module.inputSize], 11);
      const h0 = randomTensor([L, B, module.outputSize], 12);
      const c0 = module instanceof LSTM ? randomTensor([L, B, module.hiddenSize], 13) : undefined;
      const input = module.batchFirst ? transposeTB(x) : x;
      const full = module.forward(input, { h0, c0 });
      const stream = module.stream({ h0, c0 });
      const timeMajorOutput = module.batchFirst ? transposeTB(full.output) : full.output;
      for (let t = 0; t < T; t++) {
        const y = stream.step(new Tensor(slice(x, t).slice(), [B, module.inputSize]));
        expect(y.shape).toEqual([B, module.outputSize]);
        expect(maxDiff(y.data, slice(timeMajorOutput, t))).toBeLessThanOrEqual(1e-6);
      }
      const state = stream.state();
      expect(maxDiff(state.h.data, full.h.data)).toBeLessThanOrEqual(1e-6);
      if (c0) expect(maxDiff(state.c!.data, full.c!.data)).toBeLessThanOrEqual(1e-6);
      else expect(state.c).toBeUndefined();
      stream.reset();
      expect(stream.state().h.data).toEqual(h0.data);
      const first = stream.step(new Tensor(slice(x, 0).slice(), [B, module.inputSize]));
      expect(maxDiff(first.data, slice(timeMajorOutput, 0))).toBeLessThanOrEqual(1e-6);
      module.dispose();
    });
  }

  it('rejects bidirectional modules and wrong step shapes', () => {
    const bi = new GRU({ inputSize: 2, hiddenSize: 3, bidirectional: true });
    expect(() => bi.stream()).toThrow(ArgumentError);
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 });
    const stream = lstm.stream({ batch: 2 });
    expect(() => stream.step(tensor([1, 2], [1, 2]))).toThrow('expected x of shape [2, 2], got [1, 2]');
    expect(() => lstm.stream({ h0: tensor(new Float32Array(6), [1, 2, 3]), c0: tensor(new Float32Array(3), [1, 1, 3]) }))
      .toThrow('Expected c0 of shape [1, 2, 3], got [1, 1, 3]');
    bi.dispose();
    lstm.dispose();
  });

  it('a long stream does not grow memory', () => {
    const module = new LSTM({ inputSize: 8, hiddenSize: 16 });
    const stream = module.stream();
    const x = randomTensor([1, 8], 3);
    for (let i = 0; i < 1000; i++) stream.step(x);
    const before = backendInfo().memoryBytes;
    for (let i = 0; i < 200_000; i++) stream.step(x);
    expect(backendInfo().memoryBytes).toBe(before);
    expect(Number.isFinite(stream.state().h.data[0])).toBe(true);
    module.dispose();
  });
});

function transposeTB(t: Tensor): Tensor {
  const [A, B, W] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let a = 0; a < A; a++) for (let b = 0; b < B; b++) out.set(t.data.subarray((a * B + b) * W, (a * B + b + 1) * W), (b * A + a) * W);
  return new Tensor(out, [B, A, W]);
}

describe('state dicts', () => {
  it('stateDict() returns what loadStateDict() was given, bit for bit, in PyTorch order', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, projSize: 2, numLayers: 2, bidirectional: true });
    const dict = Object.fromEntries(Object.entries(lstm.parameterShapes()).map(([name, shape], i) => [name, randomTensor(shape, i + 1)]));
    lstm.loadStateDict(dict);
    const back = lstm.stateDict();
    expect(Object.keys(back)).toEqual([
      'weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_hr_l0',
      'weight_ih_l0_reverse', 'weight_hh_l0_reverse', 'bias_ih_l0_reverse', 'bias_hh_l0_reverse', 'weight_hr_l0_reverse',
      'weight_ih_l1', 'weight_hh_l1', 'bias_ih_l1', 'bias_hh_l1', 'weight_hr_l1',
      'weight_ih_l1_reverse', 'weight_hh_l1_reverse', 'bias_ih_l1_reverse', 'bias_hh_l1_reverse', 'weight_hr_l1_reverse',
    ]);
    for (const [name, value] of Object.entries(dict)) {
      expect(back[name].shape, name).toEqual(value.shape);
      expect(back[name].data, name).toEqual(value.data);
    }
    expect(back.weight_ih_l1.shape).toEqual([20, 4]);
    lstm.dispose();
  });

  it('strict loading names missing, unexpected and wrongly shaped keys, and writes nothing on failure', () => {
    const gru = new GRU({ inputSize: 4, hiddenSize: 3, bias: false });
    const good = gru.stateDict();
    const x = randomTensor([2, 1, 4], 5);
    const before = gru.forward(x).output.data;
    const { weight_hh_l0, ...missing } = good;
    expect(() => gru.loadStateDict(missing)).toThrow(StateDictError);
    expect(() => gru.loadStateDict(missing)).toThrow('missing key(s) "weight_hh_l0"');
    expect(() => gru.loadStateDict({ ...good, bias_ih_l0: tensor([1, 2, 3, 4, 5, 6, 7, 8, 9]) })).toThrow('unexpected key(s) "bias_ih_l0"');
    const wrongShape = { ...good, weight_ih_l0: randomTensor([9, 3], 1) };
    expect(() => gru.loadStateDict(wrongShape)).toThrow('size mismatch for "weight_ih_l0": expected [9, 4], got [9, 3]');
    const nan = { weight_hh_l0: randomTensor([9, 3], 2), weight_ih_l0: new Tensor(new Float32Array(36).fill(NaN), [9, 4]) };
    expect(() => gru.loadStateDict(nan)).toThrow('"weight_ih_l0" holds a non-finite value (NaN) at flat index 0');
    expect(gru.forward(x).output.data).toEqual(before);
    gru.dispose();
  });

  it('non-strict loading updates what is given and reports the rest; plain { shape, data } objects work', () => {
    const rnn = new RNN({ inputSize: 2, hiddenSize: 2 });
    const report = rnn.loadStateDict({ weight_hh_l0: { shape: [2, 2], data: [1, 0, 0, 1] }, extra: { shape: [1], data: [0] } }, { strict: false });
    expect(report.missingKeys).toEqual(['weight_ih_l0', 'bias_ih_l0', 'bias_hh_l0']);
    expect(report.unexpectedKeys).toEqual(['extra']);
    expect([...rnn.stateDict().weight_hh_l0.data]).toEqual([1, 0, 0, 1]);
    expect(() => rnn.loadStateDict({ weight_hh_l0: { shape: [2, 2], data: [1, 2, 3] } }, { strict: false })).toThrow(ShapeError);
    rnn.dispose();
  });
});

describe('forward', () => {
  it('computes a hand-checked RNN step exactly', () => {
    const rnn = new RNN({ inputSize: 1, hiddenSize: 1, nonlinearity: 'relu' });
    rnn.loadStateDict({ weight_ih_l0: tensor([2], [1, 1]), weight_hh_l0: tensor([0.5], [1, 1]), bias_ih_l0: tensor([1]), bias_hh_l0: tensor([-0.25]) });
    // h1 = relu(2·1 + 0.75) = 2.75; h2 = relu(2·(−1) + 0.75 + 0.5·2.75) = 0.125
    const { output, h } = rnn.forward(tensor([1, -1], [2, 1, 1]));
    expect([...output.data]).toEqual([2.75, 0.125]);
    expect([...h.data]).toEqual([0.125]);
    rnn.dispose();
  });

  it('unbatched [T, I] input equals batch 1', () => {
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true });
    const x = randomTensor([5, 3], 9);
    const h0 = randomTensor([4, 4], 10);
    const single = lstm.forward(x, { h0 });
    const batched = lstm.forward(new Tensor(x.data, [5, 1, 3]), { h0: new Tensor(h0.data, [4, 1, 4]) });
    expect(single.output.shape).toEqual([5, 8]);
    expect(single.h.shape).toEqual([4, 4]);
    expect(single.c!.shape).toEqual([4, 4]);
    expect(single.output.data).toEqual(batched.output.data);
    lstm.dispose();
  });

  it('rejects wrong shapes and options with messages naming expected and actual', () => {
    const lstm = new LSTM({ inputSize: 10, hiddenSize: 20, numLayers: 2 });
    expect(() => lstm.forward(randomTensor([5, 3, 9], 1))).toThrow(ShapeError);
    expect(() => lstm.forward(randomTensor([5, 3, 9], 1))).toThrow('got [5, 3, 9]');
    expect(() => lstm.forward(randomTensor([5, 3, 2, 10], 1))).toThrow('expected input of rank 3');
    expect(() => lstm.forward(randomTensor([5, 3, 10], 1), { h0: randomTensor([2, 3, 10], 2) }))
      .toThrow('Expected h0 of shape [2, 3, 20], got [2, 3, 10]');
    expect(() => lstm.forward(randomTensor([5, 3, 10], 1), { lengths: [5, 5] })).toThrow('expected 3 lengths');
    expect(() => lstm.forward(randomTensor([5, 3, 10], 1), { lengths: [5, 0, 2] })).toThrow('lengths[1] must be an integer in 1..5, got 0');
    expect(() => lstm.forward(randomTensor([5, 3, 10], 1), { lengths: [5, 6, 2] })).toThrow(ArgumentError);
    expect(() => lstm.forward(randomTensor([0, 3, 10], 1))).toThrow(ShapeError);
    expect(() => lstm.forward('hello' as any)).toThrow(ArgumentError);
    const gru = new GRU({ inputSize: 2, hiddenSize: 2 });
    expect(() => gru.forward(randomTensor([1, 1, 2], 1), { c0: randomTensor([1, 1, 2], 1) })).toThrow('c0 is only for LSTM');
    lstm.dispose();
    gru.dispose();
  });

  it('rejects bad constructor options', () => {
    expect(() => new LSTM({ inputSize: 0, hiddenSize: 2 })).toThrow('inputSize must be a positive integer, got 0');
    expect(() => new GRU({ inputSize: 2, hiddenSize: 2.5 })).toThrow(ArgumentError);
    expect(() => new LSTM({ inputSize: 2, hiddenSize: 4, projSize: 4 })).toThrow('projSize must be smaller than hiddenSize');
    expect(() => new RNN({ inputSize: 2, hiddenSize: 2, nonlinearity: 'sigmoid' as any })).toThrow("nonlinearity must be 'tanh' or 'relu'");
    expect(() => new RNN({ inputSize: 2, hiddenSize: 2, bidirectional: 'yes' as any })).toThrow('bidirectional must be a boolean');
    expect(() => new (GRU as any)(null)).toThrow(ArgumentError);
  });

  it('NaN input propagates like PyTorch, only within its own batch row', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3 });
    const x = randomTensor([4, 2, 2], 4);
    x.data[2 * 2 + 1] = NaN; // t = 1, batch row 0
    const { output, h } = gru.forward(x);
    expect(Number.isNaN(output.data[0])).toBe(false); // t = 0 untouched
    expect(Number.isNaN(output.data[(1 * 2 + 0) * 3])).toBe(true);
    expect(h.data.slice(3).every(Number.isFinite)).toBe(true); // row 1 stays finite
    gru.dispose();
  });

  it('a failed call leaves other models and memory intact; repeated calls do not grow memory', () => {
    const a = new LSTM({ inputSize: 4, hiddenSize: 8 });
    const b = new GRU({ inputSize: 4, hiddenSize: 8 });
    const x = randomTensor([6, 2, 4], 8);
    const reference = a.forward(x).output.data;
    expect(() => b.forward(randomTensor([6, 2, 5], 1))).toThrow(ShapeError);
    expect(() => b.loadStateDict({ nope: tensor([1]) })).toThrow(StateDictError);
    const before = backendInfo().memoryBytes;
    for (let i = 0; i < 50; i++) expect(a.forward(x).output.data).toEqual(reference);
    expect(backendInfo().memoryBytes).toBe(before);
    a.dispose();
    b.dispose();
  });
});

describe('dispose', () => {
  it('every method throws DisposedError after dispose(); dispose is idempotent and frees streams', () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 2 });
    const stream = lstm.stream();
    lstm[Symbol.dispose]();
    lstm.dispose();
    expect(() => lstm.forward(randomTensor([1, 1, 2], 1))).toThrow(DisposedError);
    expect(() => lstm.stateDict()).toThrow('LSTM was used after dispose()');
    expect(() => lstm.loadStateDict({})).toThrow(DisposedError);
    expect(() => lstm.stream()).toThrow(DisposedError);
    expect(() => stream.step(randomTensor([1, 2], 1))).toThrow('Stream was used after dispose()');
    const gru = new GRU({ inputSize: 2, hiddenSize: 2 });
    const own = gru.stream();
    own.dispose();
    expect(() => own.state()).toThrow(DisposedError);
    expect(gru.forward(randomTensor([1, 1, 2], 1)).output.shape).toEqual([1, 1, 2]);
    gru.dispose();
  });

  it('memory freed by dispose is reused', () => {
    const make = () => new LSTM({ inputSize: 64, hiddenSize: 64, numLayers: 2 });
    make().dispose();
    const before = backendInfo().memoryBytes;
    for (let i = 0; i < 100; i++) make().dispose();
    expect(backendInfo().memoryBytes).toBe(before);
  });
});
