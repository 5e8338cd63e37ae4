// Strict options, table-driven: every options object of the public API rejects a misspelled key (PyTorch's and Keras'
// spellings included) with an ArgumentError naming the key and the option it meant, and still works when spelled right.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, AdamW, ArgumentError, BinaryTreeLSTM, ChildSumTreeLSTM, Dropout, Embedding, GRU, LSTM, LastStep, Linear, RNN, ReLU, SGD,
  Sequential, Tree, TreeClassifier, TreeRNN, bceWithLogits, buildVocab, crossEntropy, generate, init, initSync, mse, nllLoss, parseTree, sample, tensor,
} from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

const wasm = () => readFileSync(new URL(`../dist/looptree-${simdUnderTest()}.wasm`, import.meta.url));
const quiet = { verbose: false };

/** A small compiled classifier: ids [N, 3] in 0..4 → 2 classes. */
function classifier(): Sequential {
  const model = new Sequential([
    new Embedding({ numEmbeddings: 5, embeddingDim: 3 }), new LSTM({ inputSize: 3, hiddenSize: 4, batchFirst: true }), new LastStep(),
    new Linear({ inFeatures: 4, outFeatures: 2 }),
  ]);
  model.compile({ loss: 'crossEntropy', optimizer: { type: 'sgd', lr: 0.1 } });
  return model;
}
const ids = [[1, 2, 3], [4, 0, 1]];
const labels = [0, 1];
const tree = Tree.fromParents([-1, 0, 0]);
const x3 = tensor(new Float32Array(9).fill(0.1), [3, 3]);

interface Row {
  /** The call, as a user writes it. */
  api: string;
  /** Runs the API with this options object (may return a promise). */
  call(options: Record<string, unknown>): unknown;
  /** Options that work. */
  valid: Record<string, unknown>;
  /** A wrong key, added to the valid options, and the option the message should suggest. */
  wrong: string;
  meant?: string;
}

const rows: Row[] = [
  { api: 'new RNN(options)', call: (o) => new RNN(o as never), valid: { inputSize: 2, hiddenSize: 3 }, wrong: 'num_layers', meant: 'numLayers' },
  { api: 'new LSTM(options)', call: (o) => new LSTM(o as never), valid: { inputSize: 2, hiddenSize: 3 }, wrong: 'batch_first', meant: 'batchFirst' },
  { api: 'new GRU(options)', call: (o) => new GRU(o as never), valid: { inputSize: 2, hiddenSize: 3 }, wrong: 'bidirectionnal', meant: 'bidirectional' },
  { api: 'LSTM.forward(x, options)', call: (o) => new LSTM({ inputSize: 3, hiddenSize: 2 }).forward(x3, o), valid: { train: true }, wrong: 'h_0', meant: 'h0' },
  { api: 'LSTM.stream(options)', call: (o) => new LSTM({ inputSize: 3, hiddenSize: 2 }).stream(o), valid: { batch: 2 }, wrong: 'bach', meant: 'batch' },
  { api: 'LSTM.loadStateDict(dict, options)', call: (o) => new LSTM({ inputSize: 3, hiddenSize: 2 }).loadStateDict({}, o), valid: { strict: false }, wrong: 'strcit', meant: 'strict' },
  { api: 'new Linear(options)', call: (o) => new Linear(o as never), valid: { inFeatures: 2, outFeatures: 3 }, wrong: 'in_features', meant: 'inFeatures' },
  { api: 'new Linear(Keras spelling)', call: (o) => new Linear(o as never), valid: { inFeatures: 2, outFeatures: 3 }, wrong: 'units', meant: 'outFeatures' },
  { api: 'Linear.forward(x, options)', call: (o) => new Linear({ inFeatures: 3, outFeatures: 1 }).forward(x3, o), valid: { train: true }, wrong: 'trian', meant: 'train' },
  { api: 'Linear.loadStateDict(dict, options)', call: (o) => new Linear({ inFeatures: 3, outFeatures: 1 }).loadStateDict({}, o), valid: { strict: false }, wrong: 'Strict', meant: 'strict' },
  { api: 'new Embedding(options)', call: (o) => new Embedding(o as never), valid: { numEmbeddings: 5, embeddingDim: 2 }, wrong: 'padding_idx', meant: 'paddingIdx' },
  { api: 'new Embedding(Keras spelling)', call: (o) => new Embedding(o as never), valid: { numEmbeddings: 5, embeddingDim: 2 }, wrong: 'output_dim', meant: 'embeddingDim' },
  { api: 'Embedding.forward(ids, options)', call: (o) => new Embedding({ numEmbeddings: 5, embeddingDim: 2 }).forward(ids, o), valid: { train: true }, wrong: 'trian', meant: 'train' },
  { api: 'Embedding.forward(ids, shape, options)', call: (o) => new Embedding({ numEmbeddings: 5, embeddingDim: 2 }).forward([1, 2], [2], o), valid: { train: true }, wrong: 'trian', meant: 'train' },
  { api: 'new Dropout(options)', call: (o) => new Dropout(o), valid: { p: 0.2 }, wrong: 'rate', meant: 'p' },
  { api: 'Dropout.forward(x, options)', call: (o) => new Dropout({ p: 0.5 }).forward(x3, o), valid: { train: true }, wrong: 'trian', meant: 'train' },
  { api: 'ReLU.forward(x, options)', call: (o) => new ReLU().forward(x3, o), valid: { train: true }, wrong: 'trian', meant: 'train' },
  { api: 'LastStep.forward(x, options)', call: (o) => new LastStep().forward([[[1, 2], [3, 4]]], o), valid: { lengths: [1] }, wrong: 'length', meant: 'lengths' },
  { api: 'new TreeRNN(options)', call: (o) => new TreeRNN(o as never), valid: { inputSize: 3, hiddenSize: 2 }, wrong: 'hidden_size', meant: 'hiddenSize' },
  { api: 'new ChildSumTreeLSTM(options)', call: (o) => new ChildSumTreeLSTM(o as never), valid: { inputSize: 3, hiddenSize: 2 }, wrong: 'input_size', meant: 'inputSize' },
  { api: 'BinaryTreeLSTM.forward(trees, x, options)', call: (o) => new BinaryTreeLSTM({ inputSize: 3, hiddenSize: 2 }).forward([tree], [x3], o), valid: { output: 'roots' }, wrong: 'outputs', meant: 'output' },
  {
    api: 'BinaryTreeLSTM.backward(gradients)',
    call: (o) => {
      const model = new BinaryTreeLSTM({ inputSize: 3, hiddenSize: 2 });
      model.forward([tree], [x3], { train: true });
      return model.backward(o as never);
    },
    valid: { h: [tensor(new Float32Array(6), [3, 2])] }, wrong: 'dh', meant: 'h',
  },
  { api: 'new TreeClassifier(options)', call: (o) => new TreeClassifier(o as never), valid: { model: 'TreeRNN', vocabSize: 4, inputSize: 3, hiddenSize: 2, numClasses: 2 }, wrong: 'num_classes', meant: 'numClasses' },
  {
    api: 'TreeClassifier.forward(trees, tokens, options)',
    call: (o) => new TreeClassifier({ model: 'TreeRNN', vocabSize: 4, inputSize: 3, hiddenSize: 2, numClasses: 2 }).forward([tree], [[-1, 1, 2]], o),
    valid: { labels: [[1, 0, 1]], train: true }, wrong: 'label', meant: 'labels',
  },
  { api: 'TreeClassifier.loadStateDict(dict, options)', call: (o) => new TreeClassifier({ model: 'TreeRNN', vocabSize: 4, inputSize: 3, hiddenSize: 2, numClasses: 2 }).loadStateDict({}, o), valid: { strict: false }, wrong: 'strict_', meant: 'strict' },
  { api: 'new SGD(params, options)', call: (o) => new SGD(new Linear({ inFeatures: 1, outFeatures: 1 }).parameters(), o as never), valid: { lr: 0.1 }, wrong: 'weight_decay', meant: 'weightDecay' },
  { api: 'new Adam(params, options)', call: (o) => new Adam(new Linear({ inFeatures: 1, outFeatures: 1 }).parameters(), o), valid: { lr: 0.1 }, wrong: 'learningRate', meant: 'lr' },
  { api: 'new AdamW(params, options)', call: (o) => new AdamW(new Linear({ inFeatures: 1, outFeatures: 1 }).parameters(), o), valid: { lr: 0.1 }, wrong: 'epsilon', meant: 'eps' },
  { api: 'Sequential.compile(options)', call: (o) => classifier().compile(o as never), valid: { loss: 'mse', optimizer: { type: 'adam' } }, wrong: 'clipnorm', meant: 'clipGradNorm' },
  { api: 'Sequential.compile({ optimizer })', call: (o) => classifier().compile({ loss: 'mse', optimizer: o as never }), valid: { type: 'adam', lr: 0.1 }, wrong: 'learning_rate', meant: 'lr' },
  { api: 'Sequential.compile({ optimizer: sgd })', call: (o) => classifier().compile({ loss: 'mse', optimizer: o as never }), valid: { type: 'sgd', lr: 0.1 }, wrong: 'momentun', meant: 'momentum' },
  { api: 'Sequential.fit(x, y, options)', call: (o) => classifier().fit(ids, labels, { ...quiet, ...o }), valid: { epochs: 1 }, wrong: 'batch_size', meant: 'batchSize' },
  { api: 'Sequential.fit(x, y, { earlyStopping })', call: (o) => classifier().fit(ids, labels, { ...quiet, earlyStopping: o }), valid: { patience: 1 }, wrong: 'min_delta', meant: 'minDelta' },
  { api: 'Sequential.fit(x, y, { callbacks })', call: (o) => classifier().fit(ids, labels, { ...quiet, callbacks: o }), valid: { onEpochEnd: () => {} }, wrong: 'on_batch_end', meant: 'onBatchEnd' },
  { api: 'Sequential.fit(x, y, { validationData })', call: (o) => classifier().fit(ids, labels, { ...quiet, validationData: o as never }), valid: { x: ids, y: labels }, wrong: 'lenghts', meant: 'lengths' },
  { api: 'Sequential.fitAsync(x, y, options)', call: (o) => classifier().fitAsync(ids, labels, { ...quiet, ...o }), valid: { yieldEvery: 2 }, wrong: 'yield_every', meant: 'yieldEvery' },
  { api: 'Sequential.evaluate(x, y, options)', call: (o) => classifier().evaluate(ids, labels, o), valid: { batchSize: 1 }, wrong: 'batch_size', meant: 'batchSize' },
  { api: 'Sequential.predict(x, options)', call: (o) => classifier().predict(ids, o), valid: { lengths: [3, 2] }, wrong: 'length', meant: 'lengths' },
  { api: 'Sequential.forward(x, options)', call: (o) => classifier().forward(ids, o), valid: { lengths: [3, 2] }, wrong: 'states', meant: 'state' },
  { api: 'Sequential.loadStateDict(dict, options)', call: (o) => classifier().loadStateDict({}, o), valid: { strict: false }, wrong: 'strict_', meant: 'strict' },
  { api: 'sample(logits, options)', call: (o) => sample([[0, 1, 2]], o), valid: { topK: 2, seed: 1 }, wrong: 'top_k', meant: 'topK' },
  { api: 'generate(model, prompt, options)', call: (o) => generate(classifier(), [1, 2], o as never), valid: { maxTokens: 2, seed: 1 }, wrong: 'max_tokens', meant: 'maxTokens' },
  { api: 'Sequential.load(saved)', call: (o) => Sequential.load({ weights: classifier().save().weights, ...o }), valid: {}, wrong: 'configs', meant: 'config' },
  { api: 'crossEntropy(logits, targets, options)', call: (o) => crossEntropy([[1, 2]], [1], o), valid: { reduction: 'sum' }, wrong: 'ignore_index', meant: 'ignoreIndex' },
  { api: 'nllLoss(logProbs, targets, options)', call: (o) => nllLoss([[-1, -2]], [1], o), valid: { ignoreIndex: 0 }, wrong: 'reducion', meant: 'reduction' },
  { api: 'mse(input, target, options)', call: (o) => mse([1, 2], [1, 3], o), valid: { reduction: 'sum' }, wrong: 'Reduction', meant: 'reduction' },
  { api: 'bceWithLogits(input, target, options)', call: (o) => bceWithLogits([1, 2], [1, 0], o), valid: { posWeight: 2 }, wrong: 'pos_weight', meant: 'posWeight' },
  { api: 'init(options)', call: (o) => init(o), valid: {}, wrong: 'smid', meant: 'simd' },
  { api: 'initSync(options)', call: (o) => initSync(o as never), valid: { module: wasm() }, wrong: 'modul', meant: 'module' },
  { api: 'buildVocab(corpus, options)', call: (o) => buildVocab(['a b'], o), valid: { minCount: 1 }, wrong: 'min_freq', meant: 'minCount' },
];

/** What a call gave: its error, or undefined once it (and its promise) settled without one. */
async function outcome(run: () => unknown): Promise<unknown> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('every options object rejects a misspelled key, suggesting the option meant', () => {
  for (const row of rows) {
    it(`${row.api}: "${row.wrong}"${row.meant ? ` → "${row.meant}"` : ''}`, async () => {
      const value = row.meant !== undefined && row.meant in row.valid ? row.valid[row.meant] : 1;
      const error = await outcome(() => row.call({ ...row.valid, [row.wrong]: value }));
      expect(error, `${row.api} with ${row.wrong}`).toBeInstanceOf(ArgumentError);
      const suggestion = row.meant ? ` — did you mean "${row.meant}"?` : '';
      expect((error as Error).message).toContain(`unknown option "${row.wrong}"${suggestion}`);
      expect(await outcome(() => row.call(row.valid)), `${row.api} with valid options`).toBeUndefined();
    });
  }
});

describe("the issue's cases", () => {
  it('PyTorch spellings of the recurrent options name the option meant', () => {
    expect(() => new LSTM({ inputSize: 4, hiddenSize: 8, num_layers: 2 } as never)).toThrow('LSTM: unknown option "num_layers" — did you mean "numLayers"?');
    expect(() => new LSTM({ inputSize: 4, hiddenSize: 8, batch_first: true } as never)).toThrow('unknown option "batch_first" — did you mean "batchFirst"?');
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 2 });
    expect(() => lstm.forward(x3, { h_0: tensor(new Float32Array(2), [1, 2]) } as never)).toThrow('LSTM.forward: unknown option "h_0" — did you mean "h0"?');
  });

  it('an unknown key is reported before the values are checked', () => {
    expect(() => new LSTM({ hidden_size: 8 } as never)).toThrow(/^LSTM: unknown option "hidden_size" — did you mean "hiddenSize"\?/);
    expect(() => new Linear({ in_features: 2 } as never)).toThrow(/^Linear: unknown option "in_features" — did you mean "inFeatures"\?/);
    expect(() => new TreeClassifier({ model: 'TreeRNN', vocab_size: 3 } as never)).toThrow(/^TreeClassifier: unknown option "vocab_size"/);
  });

  it('GRU has no projSize', () => {
    expect(() => new GRU({ inputSize: 4, hiddenSize: 8, projSize: 2 } as never)).toThrow(/^GRU: unknown option "projSize"; expected one of/);
  });

  it("Keras' learningRate gets PyTorch's lr, in the optimizers and in compile", () => {
    const params = new Linear({ inFeatures: 2, outFeatures: 1 }).parameters();
    expect(() => new Adam(params, { learningRate: 1e-3 } as never)).toThrow('Adam: unknown option "learningRate" — did you mean "lr"?');
    expect(() => classifier().compile({ loss: 'crossEntropy', optimizer: { type: 'adam', learningRate: 1e-3 } as never }))
      .toThrow('Sequential.compile: optimizer (adam): unknown option "learningRate" — did you mean "lr"?');
  });
});

describe("options other libraries have and looptree does not are refused with the reason", () => {
  const params = () => new Linear({ inFeatures: 2, outFeatures: 1 }).parameters();
  const cases: Array<[string, () => unknown, string]> = [
    ['new Adam(params, { amsgrad })', () => new Adam(params(), { amsgrad: true } as never), 'Adam: option "amsgrad" is not supported (AMSGrad is not implemented)'],
    ['new SGD(params, { maximize })', () => new SGD(params(), { lr: 1, maximize: true } as never), 'SGD: option "maximize" is not supported'],
    ['new Embedding({ sparse })', () => new Embedding({ numEmbeddings: 2, embeddingDim: 2, sparse: true } as never), 'Embedding: option "sparse" is not supported (gradients are dense)'],
    ['new Embedding({ max_norm })', () => new Embedding({ numEmbeddings: 2, embeddingDim: 2, max_norm: 1 } as never), 'Embedding: option "max_norm" is not supported'],
    ['new Dropout({ inplace })', () => new Dropout({ inplace: true } as never), 'Dropout: option "inplace" is not supported'],
    ['crossEntropy(…, { label_smoothing })', () => crossEntropy([[1, 2]], [0], { label_smoothing: 0.1 } as never), 'crossEntropy: option "label_smoothing" is not supported (label smoothing is not implemented)'],
    ['compile({ metrics })', () => classifier().compile({ loss: 'crossEntropy', optimizer: { type: 'sgd', lr: 1 }, metrics: ['accuracy'] } as never), 'Sequential.compile: option "metrics" is not supported'],
    ['loadStateDict(dict, { assign })', () => new Linear({ inFeatures: 1, outFeatures: 1 }).loadStateDict({}, { strict: false, assign: true } as never), 'Linear.loadStateDict: option "assign" is not supported'],
  ];
  for (const [api, run, message] of cases) {
    it(api, () => {
      expect(run).toThrow(ArgumentError);
      expect(run).toThrow(message);
    });
  }
});

it('buildVocab and parseTree work together with their options', () => {
  const parsed = parseTree('(1 (0 a) (1 b))');
  expect(buildVocab([parsed], { specials: ['<pad>', '<unk>'], minCount: 1 }).words).toEqual(['<pad>', '<unk>', 'a', 'b']);
});
