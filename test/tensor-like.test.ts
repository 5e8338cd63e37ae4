// Tensors in, consistently: every API that takes a tensor takes a Tensor, `{ shape, data }` and nested arrays alike, and
// gives the same result for each (table-driven over the modules, their backward passes, the losses and the state dict).

import { beforeAll, describe, expect, it } from 'vitest';
import {
  BinaryTreeLSTM, Dropout, Embedding, GRU, LSTM, LastStep, Linear, LogSoftmax, ReLU, Sequential, Sigmoid, Tanh, Tensor, Tree,
  bceWithLogits, crossEntropy, init, logSoftmax, manualSeed, mse, nllLoss, tensor, type TensorLike,
} from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

/** The three forms a tensor can take. */
const FORMS: Record<string, (t: Tensor) => TensorLike> = {
  'a Tensor': (t) => t,
  '{ shape, data }': (t) => ({ shape: [...t.shape], data: Array.from(t.data) }),
  'nested arrays': (t) => t.toArray() as TensorLike,
};

/** Deterministic values in [−0.5, 0.5). */
function values(shape: number[], seed: number): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = state / 2 ** 32 - 0.5;
  }
  return new Tensor(data, shape);
}

/** A result with its Tensors as plain { shape, data } for comparison. */
function plain(result: unknown): unknown {
  if (result instanceof Tensor) return { shape: [...result.shape], data: Array.from(result.data) };
  if (Array.isArray(result)) return result.map(plain);
  if (result !== null && typeof result === 'object') return Object.fromEntries(Object.entries(result).map(([key, value]) => [key, plain(value)]));
  return result;
}

type As = (t: Tensor) => TensorLike;

/** Each row runs an API from scratch (same seed) with its tensors in the form `as` makes. */
const rows: Array<[api: string, run: (as: As) => unknown]> = [
  ['LSTM.forward(input, { h0, c0 })', (as) => new LSTM({ inputSize: 3, hiddenSize: 2 }).forward(as(values([4, 2, 3], 1)), { h0: as(values([1, 2, 2], 2)), c0: as(values([1, 2, 2], 3)) })],
  ['GRU.backward({ output, h })', (as) => {
    const gru = new GRU({ inputSize: 3, hiddenSize: 2, batchFirst: true });
    gru.forward(as(values([2, 4, 3], 4)), { train: true });
    return [gru.backward({ output: as(values([2, 4, 2], 5)), h: as(values([1, 2, 2], 6)) }), gru.grads()];
  }],
  ['Stream.step(x)', (as) => {
    const stream = new LSTM({ inputSize: 3, hiddenSize: 2 }).stream({ batch: 2, h0: as(values([1, 2, 2], 7)) });
    return [stream.step(as(values([2, 3], 8))), stream.step(as(values([2, 3], 9)))];
  }],
  ['loadStateDict(dict)', (as) => {
    const linear = new Linear({ inFeatures: 3, outFeatures: 2 });
    linear.loadStateDict({ weight: as(values([2, 3], 10)), bias: as(values([2], 11)) });
    return linear.stateDict();
  }],
  ['Linear.forward and backward', (as) => {
    const linear = new Linear({ inFeatures: 3, outFeatures: 2 });
    return [linear.forward(as(values([4, 3], 12)), { train: true }), linear.backward(as(values([4, 2], 13))), linear.grads()];
  }],
  ['Embedding.forward and backward', (as) => {
    const embedding = new Embedding({ numEmbeddings: 5, embeddingDim: 2 });
    const ids = new Tensor(Float32Array.of(1, 4, 0, 2, 2, 3), [2, 3]);
    return [embedding.forward(as(ids), { train: true }), embedding.backward(as(values([2, 3, 2], 14))), embedding.grads()];
  }],
  ...[ReLU, Tanh, Sigmoid, LogSoftmax].map((Layer): [string, (as: As) => unknown] => [`${Layer.name}.forward and backward`, (as) => {
    const layer = new Layer();
    return [layer.forward(as(values([2, 3], 15)), { train: true }), layer.backward(as(values([2, 3], 16)))];
  }]),
  ['Dropout.forward and backward', (as) => {
    const dropout = new Dropout({ p: 0.5, seed: 3 });
    return [dropout.forward(as(values([2, 3], 17)), { train: true }), dropout.backward(as(values([2, 3], 18)))];
  }],
  ['logSoftmax(x)', (as) => logSoftmax(as(values([2, 3], 19)))],
  ['LastStep.forward and backward', (as) => {
    const last = new LastStep();
    return [last.forward(as(values([2, 3, 4], 20)), { lengths: [3, 1], directions: 2, train: true }), last.backward(as(values([2, 4], 21)))];
  }],
  ['crossEntropy(logits, targets)', (as) => crossEntropy(as(values([3, 4], 22)), as(new Tensor(Float32Array.of(0, 3, 1), [3])))],
  ['nllLoss(logProbs, targets)', (as) => nllLoss(as(values([3, 4], 23)), as(new Tensor(Float32Array.of(2, 1, 0), [3])), { reduction: 'sum' })],
  ['mse(input, target)', (as) => mse(as(values([2, 3], 24)), as(values([2, 3], 25)))],
  ['bceWithLogits(input, target)', (as) => bceWithLogits(as(values([2, 3], 26)), as(new Tensor(Float32Array.of(0, 1, 1, 0, 1, 0), [2, 3])))],
  ['BinaryTreeLSTM.forward and backward', (as) => {
    const model = new BinaryTreeLSTM({ inputSize: 3, hiddenSize: 2 });
    const trees = [Tree.fromParents([-1, 0, 0]), Tree.fromParents([-1])];
    const forward = model.forward(trees, [as(values([3, 3], 27)), as(values([1, 3], 28))], { train: true });
    return [forward, model.backward({ h: [as(values([3, 2], 29)), as(values([1, 2], 30))], c: [as(values([3, 2], 31)), as(values([1, 2], 32))] })];
  }],
  ['Sequential.fit, predict and forward', (as) => {
    const model = new Sequential([new Linear({ inFeatures: 3, outFeatures: 2 })]);
    model.compile({ loss: 'mse', optimizer: { type: 'sgd', lr: 0.1 } });
    const history = model.fit(as(values([4, 3], 33)), as(values([4, 2], 34)), { epochs: 2, batchSize: 2, verbose: false });
    return [history, model.predict(as(values([2, 3], 35))), model.forward(as(values([2, 3], 36))).output];
  }],
];

describe('every API that takes a tensor takes a Tensor, { shape, data } and nested arrays, with the same result', () => {
  for (const [api, run] of rows) {
    it(api, () => {
      const results = Object.entries(FORMS).map(([form, as]) => {
        manualSeed(5);
        return [form, plain(run(as))] as const;
      });
      for (const [form, result] of results.slice(1)) expect(result, `${api} with ${form}`).toEqual(results[0][1]);
    });
  }
});

describe('flat arrays and typed arrays are tensors of shape [length]', () => {
  it('in losses, LSTM.forward (unbatched) and Embedding.forward', () => {
    expect(mse(Float32Array.of(1, 2), [1, 4]).loss).toBe(2);
    expect(crossEntropy([[0, 0]], Int32Array.of(1)).loss).toBeCloseTo(Math.log(2), 6);
    const embedding = new Embedding({ numEmbeddings: 3, embeddingDim: 2 });
    expect(embedding.forward([2, 1]).data).toEqual(embedding.forward(tensor([[2, 1]])).data);
    expect(embedding.forward([2, 1], [1, 2]).shape).toEqual([1, 2, 2]);
    expect(() => embedding.forward([[2, 1]] as never, [2])).toThrow('a Tensor (or nested arrays) of ids carries its shape');
  });
});
