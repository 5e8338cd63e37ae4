// looptree/keras on generated models against the float64 reference (test/helpers/keras-reference.ts): masking
// (mask_zero with pre- and post-padding, Masking, every merge mode, pooling), go_backwards, stateful, return_state,
// the activations and cell variants, Dense heads and shape layers; then what `layers`, summary() and the input
// forms give.

import { beforeAll, describe, expect, it } from 'vitest';
import { LSTM, Tensor, init, parseSafetensors, seededRandom, serializeSafetensors } from '../dist/index.js';
import { loadLayersModel, type KerasModel } from '../dist/keras.js';
import { expectClose } from './helpers/compare.js';
import { simdUnderTest } from './helpers/fixtures.js';
import { loadKerasFixture } from './helpers/keras-fixtures.js';
import {
  bidirectional, buildModel, dense, embedding, plain, recurrent, timeDistributed, type BuiltModel, type LayerDef,
} from './helpers/keras-models.js';
import { referencePredict, type RefStates, type RefTensor } from './helpers/keras-reference.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

const B = 3, T = 6, I = 4, V = 12;

/** Float input [B, T, I] ~ U(−1, 1); rows of `zeroSteps` are all-zero steps (for Masking). */
function floats(seed: number, zeroSteps: Array<[number, number]> = []) {
  const random = seededRandom(seed);
  const data = Float32Array.from({ length: B * T * I }, () => random() * 2 - 1);
  for (const [b, t] of zeroSteps) data.fill(0, (b * T + t) * I, (b * T + t + 1) * I);
  return new Tensor(data, [B, T, I]);
}

/** Token ids [B, T] in 1..V−1 with 0 (padding) where `padding` says: 'post', 'pre', 'mixed' (also inside), 'none'. */
function ids(seed: number, padding: 'post' | 'pre' | 'mixed' | 'none') {
  const random = seededRandom(seed);
  const data = Int32Array.from({ length: B * T }, () => 1 + Math.floor(random() * (V - 1)));
  const lengths = [T, 3, 1];
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const padded = padding === 'post' ? t >= lengths[b] : padding === 'pre' ? t < T - lengths[b] : padding === 'mixed' ? (t + b) % 3 === 1 : false;
      if (padded) data[b * T + t] = 0;
    }
  }
  return { data, shape: [B, T] };
}

function expectMatches(model: KerasModel, built: BuiltModel, input: { data: ArrayLike<number>; shape: readonly number[] }, states?: RefStates) {
  const result = model.predict(input);
  const outputs = Array.isArray(result) ? result : [result];
  const expected: RefTensor[] = referencePredict(built.model, built.reference, { shape: [...input.shape], data: input.data }, states);
  expect(outputs.length).toBe(expected.length);
  expected.forEach((tensor, i) => {
    expect([...outputs[i].shape], `output ${i} shape`).toEqual(tensor.shape);
    expectClose(`output ${i}`, outputs[i].data, tensor.data, (j) => 2e-5 + 1e-5 * Math.abs(tensor.data[j]));
  });
}

interface Case {
  layers: LayerDef[];
  input: () => { data: ArrayLike<number>; shape: readonly number[] };
  /** Functional model returning these outputs of the last layer (Sequential otherwise). */
  outputs?: number[];
}

const lstm = (name: string, inputSize: number, options: Record<string, unknown> = {}) => recurrent('LSTM', name, inputSize, 5, options);
const gru = (name: string, inputSize: number, options: Record<string, unknown> = {}) => recurrent('GRU', name, inputSize, 5, options);
const rnn = (name: string, inputSize: number, options: Record<string, unknown> = {}) => recurrent('SimpleRNN', name, inputSize, 5, options);
const seq = { return_sequences: true };
const emb = (maskZero = true) => embedding('emb', V, I, maskZero);

function runCases(cases: Record<string, Case>) {
  for (const [name, testCase] of Object.entries(cases)) {
    it(name, () => {
      const first = testCase.layers[0];
      const inputShape = first.class_name === 'Embedding' ? [null, T] : [null, T, I];
      const built = buildModel(testCase.layers, inputShape, { seed: name.length * 7919 + name.charCodeAt(0), outputs: testCase.outputs });
      const model = loadLayersModel(built.model, built.weights);
      expectMatches(model, built, testCase.input());
      model.dispose();
    });
  }
}

describe(`keras masking (${process.env.LOOPTREE_SIMD} build)`, () => {
  const mergeCases = Object.fromEntries(['concat', 'sum', 'mul', 'ave'].flatMap((mode) => [
    [`mask_zero bidirectional GRU ${mode}, sequences`, { layers: [emb(), bidirectional('bi', gru('gru', I, seq), mode)], input: () => ids(20, 'mixed') }],
    [`mask_zero bidirectional LSTM ${mode}, last`, { layers: [emb(), bidirectional('bi', lstm('lstm', I), mode)], input: () => ids(21, 'post') }],
  ]));
  runCases({
    'mask_zero LSTM sequences, post-padding': { layers: [emb(), lstm('lstm', I, seq)], input: () => ids(1, 'post') },
    'mask_zero LSTM sequences, pre-padding': { layers: [emb(), lstm('lstm', I, seq)], input: () => ids(2, 'pre') },
    'mask_zero LSTM last, pre-padding': { layers: [emb(), lstm('lstm', I)], input: () => ids(3, 'pre') },
    'mask_zero GRU last, padding inside': { layers: [emb(), gru('gru', I)], input: () => ids(4, 'mixed') },
    'mask_zero SimpleRNN sequences, padding inside': { layers: [emb(), rnn('rnn', I, seq)], input: () => ids(5, 'mixed') },
    'mask_zero LSTM return_state, pre-padding': { layers: [emb(), lstm('lstm', I, { ...seq, return_state: true })], input: () => ids(6, 'pre'), outputs: [0, 1, 2] },
    'mask_zero go_backwards LSTM sequences, post-padding': { layers: [emb(), lstm('lstm', I, { ...seq, go_backwards: true })], input: () => ids(7, 'post') },
    'mask_zero go_backwards GRU last, pre-padding': { layers: [emb(), gru('gru', I, { go_backwards: true })], input: () => ids(8, 'pre') },
    'mask_zero bidirectional around go_backwards LSTM, sequences': { layers: [emb(), bidirectional('bi', lstm('lstm', I, { ...seq, go_backwards: true }))], input: () => ids(9, 'mixed') },
    'mask_zero bidirectional merge_mode null, sequences and states': {
      layers: [emb(), bidirectional('bi', lstm('lstm', I, { ...seq, return_state: true }), null)], input: () => ids(10, 'pre'), outputs: [0, 1, 2, 3, 4, 5],
    },
    ...mergeCases,
    'mask_zero stacked LSTM → GRU → Dense softmax': { layers: [emb(), lstm('lstm', I, seq), gru('gru', 5), dense('head', 5, 3, 'softmax')], input: () => ids(11, 'mixed') },
    'mask_zero LSTM → TimeDistributed(Dense)': { layers: [emb(), lstm('lstm', I, seq), timeDistributed('td', dense('dense', 5, 3, 'softmax'))], input: () => ids(12, 'post') },
    'mask_zero LSTM → Dropout → GlobalAveragePooling1D (masked mean)': {
      layers: [emb(), lstm('lstm', I, seq), plain('Dropout', 'drop', { rate: 0.5 }), plain('GlobalAveragePooling1D', 'pool'), dense('head', 5, 2)], input: () => ids(13, 'pre'),
    },
    'mask_zero bidirectional GRU → GlobalMaxPooling1D': { layers: [emb(), bidirectional('bi', gru('gru', I, seq)), plain('GlobalMaxPooling1D', 'pool')], input: () => ids(14, 'post') },
    'mask_zero bidirectional LSTM zero_output_for_mask, sequences': {
      layers: [emb(), bidirectional('bi', lstm('lstm', I, { ...seq, zero_output_for_mask: true }), 'sum')], input: () => ids(17, 'mixed'),
    },
    'mask_zero GRU zero_output_for_mask, last, post-padding': { layers: [emb(), gru('gru', I, { zero_output_for_mask: true })], input: () => ids(18, 'post') },
    'Masking → SimpleRNN sequences': { layers: [plain('Masking', 'masking', { mask_value: 0 }), rnn('rnn', I, seq)], input: () => floats(15, [[0, 0], [0, 1], [1, 5], [2, 2]]) },
    'Masking → bidirectional LSTM ave, last': {
      layers: [plain('Masking', 'masking', { mask_value: 0 }), bidirectional('bi', lstm('lstm', I), 'ave')], input: () => floats(16, [[0, 5], [1, 0], [1, 3], [2, 4], [2, 5]]),
    },
  });
});

describe(`keras layers and options (${process.env.LOOPTREE_SIMD} build)`, () => {
  const activations = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax', 'elu', 'selu', 'softplus', 'softsign', 'hard_sigmoid', 'swish', 'gelu'];
  runCases({
    'go_backwards LSTM sequences': { layers: [lstm('lstm', I, { ...seq, go_backwards: true })], input: () => floats(30) },
    'go_backwards GRU last': { layers: [gru('gru', I, { go_backwards: true })], input: () => floats(31) },
    'bidirectional around go_backwards GRU, sequences': { layers: [bidirectional('bi', gru('gru', I, { ...seq, go_backwards: true }), 'sum')], input: () => floats(32) },
    'bidirectional around go_backwards LSTM, last with states': {
      layers: [bidirectional('bi', lstm('lstm', I, { go_backwards: true, return_state: true }), 'mul')], input: () => floats(33), outputs: [0, 1, 2, 3, 4],
    },
    'bidirectional SimpleRNN merge_mode null, last': { layers: [bidirectional('bi', rnn('rnn', I), null)], input: () => floats(34), outputs: [0, 1] },
    'GRU return_state (functional)': { layers: [gru('gru', I, { ...seq, return_state: true })], input: () => floats(35), outputs: [0, 1] },
    'functional chain LSTM → Dense': { layers: [lstm('lstm', I), dense('head', 5, 2, 'sigmoid')], input: () => floats(36), outputs: [0] },
    'LSTM → Flatten → Dense': { layers: [lstm('lstm', I, seq), plain('Flatten', 'flat'), dense('head', T * 5, 3)], input: () => floats(37) },
    'LSTM → Reshape(-1, 10) → GRU': { layers: [lstm('lstm', I, seq), plain('Reshape', 'reshape', { target_shape: [-1, 10] }), gru('gru', 10)], input: () => floats(38) },
    'SpatialDropout1D → LSTM → Activation softmax': {
      layers: [plain('SpatialDropout1D', 'drop', { rate: 0.2 }), lstm('lstm', I), plain('Activation', 'act', { activation: 'softmax' })], input: () => floats(39),
    },
    'LSTM → GlobalAveragePooling1D keepdims': { layers: [lstm('lstm', I, seq), plain('GlobalAveragePooling1D', 'pool', { keepdims: true })], input: () => floats(40) },
    'no bias: LSTM → GRU → SimpleRNN → Dense': {
      layers: [lstm('lstm', I, { ...seq, use_bias: false }), gru('gru', 5, { ...seq, use_bias: false }), rnn('rnn', 5, { use_bias: false }), dense('head', 5, 2, 'linear', false)],
      input: () => floats(41),
    },
    'SimpleRNN relu': { layers: [rnn('rnn', I, { ...seq, activation: 'relu' })], input: () => floats(42) },
    ...Object.fromEntries(activations.map((activation, k) => [`LSTM → Dense ${activation}`, { layers: [lstm('lstm', I), dense('head', 5, 4, activation)], input: () => floats(50 + k) }])),
  });
});

describe(`keras cell variants (${process.env.LOOPTREE_SIMD} build)`, () => {
  runCases({
    'GRU reset_after false, sequences': { layers: [gru('gru', I, { ...seq, reset_after: false })], input: () => floats(70) },
    'GRU reset_after false, hard_sigmoid, bidirectional': { layers: [bidirectional('bi', gru('gru', I, { ...seq, reset_after: false, recurrent_activation: 'hard_sigmoid' }))], input: () => floats(71) },
    'LSTM hard_sigmoid': { layers: [lstm('lstm', I, { ...seq, recurrent_activation: 'hard_sigmoid' })], input: () => floats(72) },
    'LSTM elu / softsign': { layers: [lstm('lstm', I, { ...seq, activation: 'elu', recurrent_activation: 'softsign' })], input: () => floats(73) },
    'GRU softplus / hard_sigmoid': { layers: [gru('gru', I, { ...seq, activation: 'softplus', recurrent_activation: 'hard_sigmoid' })], input: () => floats(74) },
    'SimpleRNN linear': { layers: [rnn('rnn', I, { ...seq, activation: 'linear' })], input: () => floats(75) },
    'SimpleRNN sigmoid, masked': { layers: [emb(), rnn('rnn', I, { ...seq, activation: 'sigmoid' })], input: () => ids(76, 'pre') },
  });
});

describe(`keras stateful layers (${process.env.LOOPTREE_SIMD} build)`, () => {
  const cases: Record<string, { layers: LayerDef[]; masked?: boolean }> = {
    'stateful LSTM sequences': { layers: [lstm('lstm', I, { ...seq, stateful: true })] },
    'stateful GRU last → Dense': { layers: [gru('gru', I, { stateful: true }), dense('head', 5, 2)] },
    'stateful bidirectional LSTM concat': { layers: [bidirectional('bi', lstm('lstm', I, { ...seq, stateful: true }))] },
    'stateful masked LSTM sequences': { layers: [emb(), lstm('lstm', I, { ...seq, stateful: true })], masked: true },
  };
  for (const [name, { layers, masked }] of Object.entries(cases)) {
    it(name, () => {
      const built = buildModel(layers, masked ? [B, T] : [B, T, I], { seed: name.length });
      const model = loadLayersModel(built.model, built.weights);
      const states: RefStates = new Map();
      const inputs = masked ? [ids(80, 'pre'), ids(81, 'post'), ids(82, 'mixed')] : [floats(80), floats(81), floats(82)];
      // Each call continues from the state the previous one left, as in Keras.
      for (const input of inputs) expectMatches(model, built, input, states);
      model.resetStates();
      expectMatches(model, built, inputs[1], new Map());
      model.dispose();
    });
  }
});

describe(`KerasModel (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('takes token ids as { data: Int32Array, shape }, an integer-valued Tensor or nested arrays', () => {
    const fixture = loadKerasFixture('embedding_lstm_dense_softmax');
    const model = loadLayersModel(JSON.stringify(fixture.model), [fixture.weights.slice(0, 100), fixture.weights.slice(100).buffer]);
    const { data, shape } = fixture.inputs.input;
    const fromInt32 = model.predict({ data: Int32Array.from(data), shape }) as Tensor;
    const fromTensor = model.predict(new Tensor(Float32Array.from(data), shape)) as Tensor;
    const nested = Array.from({ length: shape[0] }, (_, b) => data.slice(b * shape[1], (b + 1) * shape[1]));
    const fromArrays = model.predict(nested) as Tensor;
    expect(fromTensor.data).toEqual(fromInt32.data);
    expect(fromArrays.data).toEqual(fromInt32.data);
    model.dispose();
  });

  it('exposes the recurrent layers as looptree modules: streamed, saved as safetensors, fine-tuned', () => {
    const built = buildModel([lstm('lstm', I, seq)], [null, T, I], { seed: 90 });
    const model = loadLayersModel(built.model, built.weights);
    const x = floats(91);
    const y = model.predict(x) as Tensor;
    const [module] = model.layers;
    expect(module).toBeInstanceOf(LSTM);
    expect(Object.keys(module.stateDict())).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']);
    // Streaming step by step gives the same outputs.
    const stream = module.stream({ batch: B });
    for (let t = 0; t < T; t++) {
      const step = new Tensor(Float32Array.from({ length: B * I }, (_, k) => x.data[(Math.floor(k / I) * T + t) * I + (k % I)]), [B, I]);
      const h = stream.step(step);
      const expected = Float32Array.from({ length: B * 5 }, (_, k) => y.data[(Math.floor(k / 5) * T + t) * 5 + (k % 5)]);
      expectClose(`step ${t}`, h.data, expected, 1e-6);
    }
    // Saved and loaded into a fresh PyTorch-layout module: the same outputs.
    const copy = new LSTM({ inputSize: I, hiddenSize: 5, batchFirst: true });
    copy.loadStateDict(parseSafetensors(serializeSafetensors(module.stateDict())));
    expect(copy.forward(x).output.data).toEqual(y.data);
    // Changing the module's weights changes the model.
    module.loadStateDict({ ...module.stateDict(), bias_hh_l0: new Tensor(new Float32Array(20).fill(0.5), [20]) });
    expect((model.predict(x) as Tensor).data).not.toEqual(y.data);
    copy.dispose();
    model.dispose();
    expect(() => model.predict(x)).toThrow(/after dispose/);
  });

  it('summary() lists layers, output shapes and parameter counts like Keras', () => {
    const fixture = loadKerasFixture('embedding_lstm_dense_softmax');
    const model = loadLayersModel(fixture.model, fixture.weights);
    const summary = model.summary();
    expect(summary).toContain('Model: "model"');
    expect(summary).toMatch(/Layer \(type\)\s+Output Shape\s+Param #/);
    expect(summary).toMatch(/emb \(Embedding\)\s+\(None, 7, 8\)\s+160\n/);
    expect(summary).toMatch(/lstm \(LSTM\)\s+\(None, 16\)\s+1,600\n/);
    expect(summary).toMatch(/dense \(Dense\)\s+\(None, 3\)\s+51\n/);
    expect(summary).toContain('Total params: 1,811\nTrainable params: 1,811\nNon-trainable params: 0');
    model.dispose();
    const state = loadKerasFixture('lstm_return_state');
    const functional = loadLayersModel(state.model, state.weights);
    expect(functional.summary()).toMatch(/x \(InputLayer\)\s+\(None, 5, 3\)\s+0\n/);
    expect(functional.summary()).toMatch(/lstm \(LSTM\)\s+\[\(None, 5, 7\), \(None, 7\), \(None, 7\)\]\s+308\n/);
    functional.dispose();
  });
});
