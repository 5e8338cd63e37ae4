// Cell variants as module options — Keras' and ONNX's activations, GRU resetAfter: false, LSTM peepholes,
// clip, inputForget, outputActivation, Keras masks and bidirectional merge modes — against the float64
// reference (test/reference/recurrent.ts): forward outputs and states on random configurations, stream =
// forward, and backward against central differences of the reference's loss (as test/gradcheck.test.ts).
//
// Tolerances: forward within 2e-5 + 2e-5·|expected| (float32 against float64 over a few steps); gradients
// within 2e-6 of the tensor's largest numeric gradient plus 2e-5 of the value (gradcheck.test.ts's bounds).

import { beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, GRU, LSTM, RNN, init, manualSeed, type RecurrentModule } from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';
import { seededRandom } from './helpers/random.js';
import { recurrentForward, type CellMode, type CellVariant, type RecurrentConfig } from './reference/recurrent.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

type Kind = 'RNN' | 'LSTM' | 'GRU';

interface Case {
  kind: Kind;
  options: Record<string, unknown>;
  variant: CellVariant;
  steps?: number;
  batch?: number;
  mask?: boolean;
  lengths?: boolean;
}

const CONSTRUCTORS = { RNN, LSTM, GRU } as const;
const MODE: Record<Kind, CellMode> = { RNN: 'rnn_tanh', LSTM: 'lstm', GRU: 'gru' };

function build(spec: Case, seed: number) {
  const random = seededRandom(seed);
  const { inputSize = 3, hiddenSize = 5, numLayers = 1, bidirectional = false, batchFirst = false } = spec.options as Record<string, never>;
  const module: RecurrentModule = new CONSTRUCTORS[spec.kind]({ inputSize, hiddenSize, ...spec.options } as never);
  const T = spec.steps ?? 4, B = spec.batch ?? 3;
  const params: Record<string, { shape: number[]; data: Float64Array }> = {};
  for (const [name, shape] of Object.entries(module.parameterShapes())) {
    const count = shape.reduce((a, b) => a * b, 1);
    params[name] = { shape, data: Float64Array.from({ length: count }, () => Math.fround((random() * 2 - 1) * 0.6)) };
  }
  module.loadStateDict(Object.fromEntries(Object.entries(params).map(([name, value]) => [name, { shape: value.shape, data: Float32Array.from(value.data) }])));
  const input = Float64Array.from({ length: T * B * inputSize }, () => Math.fround(random() * 2 - 1));
  const mask = spec.mask ? Array.from({ length: B * T }, () => (random() < 0.7 ? 1 : 0)) : undefined;
  const lengths = spec.lengths ? Array.from({ length: B }, (_, b) => (b === 0 ? T : 1 + Math.floor(random() * T))) : undefined;
  const config: RecurrentConfig = {
    mode: spec.kind === 'RNN' && spec.options.nonlinearity === 'relu' ? 'rnn_relu' : MODE[spec.kind],
    inputSize, hiddenSize, numLayers, bidirectional, batchFirst, bias: true, projSize: 0, variant: spec.variant,
  };
  const shape = batchFirst ? [B, T, inputSize] : [T, B, inputSize];
  return { module, params, input, mask, lengths, config, shape, T, B, random };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= 2e-5 + 2e-5 * Math.abs(expected[i]))) {
      expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

const ACTIVATIONS = ['relu', 'sigmoid', 'tanh', 'linear', 'hard_sigmoid', 'softsign', 'softplus',
  { name: 'leaky_relu', alpha: 0.3 }, { name: 'elu', alpha: 0.7 }, { name: 'scaled_tanh', alpha: 1.5, beta: 0.6 },
  { name: 'affine', alpha: 0.8, beta: 0.1 }, { name: 'hard_sigmoid', alpha: 0.3, beta: 0.4 }, { name: 'thresholded_relu', alpha: 0.2 }] as const;

const FORWARD_CASES: Case[] = [
  { kind: 'GRU', options: { resetAfter: false }, variant: { resetAfter: false } },
  { kind: 'GRU', options: { resetAfter: false, numLayers: 2, bidirectional: true, batchFirst: true }, variant: { resetAfter: false }, lengths: true },
  { kind: 'GRU', options: { resetAfter: false, recurrentActivation: 'hard_sigmoid' }, variant: { resetAfter: false, recurrentActivation: 'hard_sigmoid' }, mask: true },
  { kind: 'LSTM', options: { recurrentActivation: 'hard_sigmoid' }, variant: { recurrentActivation: 'hard_sigmoid' } },
  { kind: 'LSTM', options: { peepholes: true }, variant: { peepholes: true } },
  { kind: 'LSTM', options: { peepholes: true, clip: 0.4, bidirectional: true }, variant: { peepholes: true, clip: 0.4 } },
  { kind: 'LSTM', options: { inputForget: true, outputActivation: 'softsign' }, variant: { inputForget: true, outputActivation: 'softsign' } },
  { kind: 'GRU', options: { clip: 0.3 }, variant: { clip: 0.3 } },
  { kind: 'RNN', options: { clip: 0.2 }, variant: { clip: 0.2 } },
  { kind: 'LSTM', options: { numLayers: 2, bidirectional: true }, variant: {}, mask: true },
  { kind: 'RNN', options: { bidirectional: true, batchFirst: true }, variant: {}, mask: true },
  ...(['sum', 'mul', 'ave', 'none'] as const).map((mergeMode): Case => ({
    kind: 'GRU', options: { bidirectional: true, numLayers: 2, mergeMode }, variant: { mergeMode },
  })),
  ...ACTIVATIONS.flatMap((activation): Case[] => [
    { kind: 'RNN', options: { activation }, variant: { activation } },
    { kind: 'LSTM', options: { activation, recurrentActivation: activation }, variant: { activation, recurrentActivation: activation } },
    { kind: 'GRU', options: { activation, recurrentActivation: activation, resetAfter: false }, variant: { activation, recurrentActivation: activation, resetAfter: false } },
  ]),
];

const label = (spec: Case) => `${spec.kind} ${JSON.stringify(spec.options)}${spec.mask ? ' mask' : ''}${spec.lengths ? ' lengths' : ''}`;

describe('cell variants: forward against the float64 reference', () => {
  it.each(FORWARD_CASES.map((spec, i) => [label(spec), spec, i] as const))('%s', (_, spec, i) => {
    const { module, params, input, mask, lengths, config, shape, T, B } = build(spec, 900 + i);
    const result = module.forward({ shape, data: Float32Array.from(input) }, { mask, lengths });
    const expected = recurrentForward(config, params, { input, steps: T, batch: B, mask, lengths });
    expectClose(result.output.data, expected.output, 'output');
    expectClose(result.h.data, expected.h, 'h');
    if (expected.c) expectClose(result.c!.data, expected.c, 'c');
    if (spec.variant.mergeMode === 'none') {
      const P = module.outputSize;
      const [forward, reverse] = result.outputs!;
      for (let r = 0; r < forward.data.length / P; r++) {
        expect(Array.from(forward.data.subarray(r * P, (r + 1) * P))).toEqual(Array.from(result.output.data.subarray(2 * r * P, (2 * r + 1) * P)));
        expect(Array.from(reverse.data.subarray(r * P, (r + 1) * P))).toEqual(Array.from(result.output.data.subarray((2 * r + 1) * P, (2 * r + 2) * P)));
      }
    }
    module.dispose();
  });

  it('stream steps equal forward for variants (GRU reset-before, LSTM peepholes + clip, hard_sigmoid RNN)', () => {
    const specs: Case[] = [
      { kind: 'GRU', options: { resetAfter: false, numLayers: 2 }, variant: {} },
      { kind: 'LSTM', options: { peepholes: true, clip: 0.5, inputForget: true }, variant: {} },
      { kind: 'RNN', options: { activation: 'hard_sigmoid' }, variant: {} },
    ];
    specs.forEach((spec, i) => {
      const { module, input, T, B } = build(spec, 1700 + i);
      const whole = module.forward({ shape: [T, B, 3], data: Float32Array.from(input) });
      const stream = module.stream({ batch: B });
      const P = module.outputSize;
      for (let t = 0; t < T; t++) {
        const step = stream.step({ shape: [B, 3], data: Float32Array.from(input.subarray(t * B * 3, (t + 1) * B * 3)) });
        expect(Array.from(step.data)).toEqual(Array.from(whole.output.data.subarray(t * B * P, (t + 1) * B * P)));
      }
      module.dispose();
    });
  });

  it('saved options round-trip through options() (the Sequential config)', () => {
    const gru = new GRU({ inputSize: 2, hiddenSize: 3, resetAfter: false, recurrentActivation: 'hard_sigmoid', activation: { name: 'leaky_relu', alpha: 0.5 } });
    expect(gru.options()).toEqual({ inputSize: 2, hiddenSize: 3, numLayers: 1, bias: true, batchFirst: false, bidirectional: false,
      resetAfter: false, recurrentActivation: 'hard_sigmoid', activation: { name: 'leaky_relu', alpha: 0.5, beta: 0 } });
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, peepholes: true, bidirectional: true, mergeMode: 'ave' });
    expect(lstm.options()).toMatchObject({ peepholes: true, mergeMode: 'ave', projSize: 0 });
    expect(Object.keys(lstm.parameterShapes())).toContain('weight_peephole_l0_reverse');
    expect(lstm.parameterShapes().weight_peephole_l0).toEqual([9]);
    gru.dispose();
    lstm.dispose();
  });

  it('rejects unknown and misspelled options, bad activations, and training on inference-only variants', () => {
    expect(() => new LSTM({ inputSize: 4, hiddenSize: 8, num_layers: 2 } as never)).toThrow(/unknown option "num_layers" — did you mean "numLayers"\?/);
    expect(() => new GRU({ inputSize: 4, hiddenSize: 8, batch_first: true } as never)).toThrow(/did you mean "batchFirst"/);
    expect(() => new GRU({ inputSize: 4, hiddenSize: 8, projSize: 2 } as never)).toThrow(ArgumentError);
    expect(() => new RNN({ inputSize: 4, hiddenSize: 8, recurrentActivation: 'sigmoid' } as never)).toThrow(/unknown option "recurrentActivation"/);
    expect(() => new LSTM({ inputSize: 4, hiddenSize: 8, activation: 'swish' as never })).toThrow(/activation must be one of/);
    expect(() => new LSTM({ inputSize: 4, hiddenSize: 8, activation: { name: 'elu', gamma: 1 } as never })).toThrow(/unknown option "gamma"/);
    expect(() => new LSTM({ inputSize: 4, hiddenSize: 8, mergeMode: 'sum' })).toThrow(/mergeMode applies to bidirectional modules/);
    expect(() => new RNN({ inputSize: 4, hiddenSize: 8, nonlinearity: 'relu', activation: 'relu' })).toThrow(/nonlinearity or activation/);
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, peepholes: true });
    const x = { shape: [2, 1, 2], data: new Float32Array(4) };
    expect(() => lstm.forward(x, { train: true })).toThrow(/not supported with peepholes \(inference only\)/);
    expect(() => lstm.forward(x, { h_0: x } as never)).toThrow(/unknown option "h_0" — did you mean "h0"\?/);
    expect(() => lstm.forward(x, { mask: [1, 1], lengths: [2] })).toThrow(/lengths or mask/);
    expect(() => lstm.forward(x, { mask: [1, 2] })).toThrow(/mask\[1\] must be a boolean or 0\/1/);
    expect(() => lstm.forward(x, { mask: [1] })).toThrow(/expected a mask of \[1, 2\]/);
    lstm.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------
// Backward: analytic gradients of the Wasm backward against central differences of the float64 reference.

const STEP = 1e-6;

function checkGradient(what: string, analytic: ArrayLike<number>, numeric: ArrayLike<number>): void {
  let scale = 1;
  for (let i = 0; i < numeric.length; i++) scale = Math.max(scale, Math.abs(numeric[i]));
  for (let i = 0; i < numeric.length; i++) {
    if (!(Math.abs(analytic[i] - numeric[i]) <= 2e-6 * scale + 2e-5 * Math.abs(numeric[i]))) {
      expect.fail(`${what}[${i}]: analytic ${analytic[i]}, numeric ${numeric[i]}`);
    }
  }
}

const GRADIENT_CASES: Case[] = [
  { kind: 'GRU', options: { resetAfter: false }, variant: { resetAfter: false } },
  { kind: 'GRU', options: { resetAfter: false, numLayers: 2, bidirectional: true, batchFirst: true }, variant: { resetAfter: false }, lengths: true },
  { kind: 'GRU', options: { resetAfter: false, recurrentActivation: 'hard_sigmoid' }, variant: { resetAfter: false, recurrentActivation: 'hard_sigmoid' }, mask: true },
  { kind: 'LSTM', options: { recurrentActivation: 'hard_sigmoid', bidirectional: true }, variant: { recurrentActivation: 'hard_sigmoid' } },
  { kind: 'GRU', options: { recurrentActivation: 'hard_sigmoid' }, variant: { recurrentActivation: 'hard_sigmoid' } },
  { kind: 'LSTM', options: { outputActivation: 'softsign', activation: 'relu' }, variant: { outputActivation: 'softsign', activation: 'relu' } },
  { kind: 'LSTM', options: { numLayers: 2, bidirectional: true }, variant: {}, mask: true },
  ...(['sum', 'mul', 'ave'] as const).map((mergeMode): Case => ({ kind: 'LSTM', options: { bidirectional: true, mergeMode }, variant: { mergeMode } })),
  ...(['linear', 'softplus', { name: 'leaky_relu', alpha: 0.3 }, { name: 'elu', alpha: 0.7 }, { name: 'scaled_tanh', alpha: 1.5, beta: 0.6 }, 'softsign', 'sigmoid'] as const)
    .map((activation): Case => ({ kind: 'RNN', options: { activation }, variant: { activation } })),
  { kind: 'GRU', options: { activation: 'softsign', recurrentActivation: { name: 'affine', alpha: 0.2, beta: 0.5 } }, variant: { activation: 'softsign', recurrentActivation: { name: 'affine', alpha: 0.2, beta: 0.5 } } },
];

describe('cell variants: backward against central differences of the float64 reference', () => {
  it.each(GRADIENT_CASES.map((spec, i) => [label(spec), spec, i] as const))('%s', (_, spec, i) => {
    const { module, params, input, mask, lengths, config, shape, T, B, random } = build({ ...spec, steps: 3, batch: 2 }, 1200 + i);
    const forward = module.forward({ shape, data: Float32Array.from(input) }, { mask, lengths, train: true });
    const seedOutput = Float64Array.from(forward.output.data, () => Math.fround(random() * 2 - 1));
    const seedH = Float64Array.from(forward.h.data, () => Math.fround(random() * 2 - 1));
    const seedC = forward.c ? Float64Array.from(forward.c.data, () => Math.fround(random() * 2 - 1)) : undefined;
    const gradients = module.backward({
      output: { shape: forward.output.shape as number[], data: Float32Array.from(seedOutput) },
      h: { shape: forward.h.shape as number[], data: Float32Array.from(seedH) },
      ...(seedC ? { c: { shape: forward.c!.shape as number[], data: Float32Array.from(seedC) } } : {}),
    });
    const loss = () => {
      const result = recurrentForward(config, params, { input, steps: T, batch: B, mask, lengths });
      let sum = 0;
      result.output.forEach((value, k) => { sum += value * seedOutput[k]; });
      result.h.forEach((value, k) => { sum += value * seedH[k]; });
      result.c?.forEach((value, k) => { sum += value * seedC![k]; });
      return sum;
    };
    const numeric = (values: Float64Array) => Float64Array.from(values, (_, k) => {
      const saved = values[k];
      values[k] = saved + STEP;
      const up = loss();
      values[k] = saved - STEP;
      const down = loss();
      values[k] = saved;
      return (up - down) / (2 * STEP);
    });
    checkGradient('input', gradients.input.data, numeric(input));
    const grads = module.grads();
    for (const [name, value] of Object.entries(params)) checkGradient(name, grads[name].data, numeric(value.data));
    module.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------
// Dropout between layers (PyTorch's `dropout`): the same as running the layers one by one with the
// factors applied between them, drawn from the generator manualSeed() seeds, in the forward and backward.

describe('dropout between layers', () => {
  it('a training forward and backward equal layer-by-layer modules with the same factors; inference ignores it', () => {
    const T = 4, B = 3, I = 3, H = 5, p = 0.4;
    const random = seededRandom(77);
    const stacked = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, dropout: p });
    const first = new LSTM({ inputSize: I, hiddenSize: H, bidirectional: true });
    const second = new LSTM({ inputSize: 2 * H, hiddenSize: H, bidirectional: true });
    const dict = stacked.stateDict();
    for (const [name, value] of Object.entries(dict)) value.data.forEach((_, k) => { value.data[k] = random() - 0.5; });
    stacked.loadStateDict(dict);
    const layer = (index: number) => Object.fromEntries(Object.entries(dict)
      .filter(([name]) => name.includes(`_l${index}`)).map(([name, value]) => [name.replace(`_l${index}`, '_l0'), value]));
    first.loadStateDict(layer(0));
    second.loadStateDict(layer(1));
    const x = { shape: [T, B, I], data: Float32Array.from({ length: T * B * I }, () => random() - 0.5) };
    const seed = { shape: [T, B, 2 * H], data: Float32Array.from({ length: T * B * 2 * H }, () => random() - 0.5) };

    manualSeed(1234);
    const trained = stacked.forward(x, { train: true });
    const gradients = stacked.backward({ output: seed });
    const factors = seededRandom(1234);
    const keep = Float32Array.from({ length: T * B * 2 * H }, () => (factors() < p ? 0 : 1 / (1 - p)));
    expect(keep.some((k) => k === 0) && keep.some((k) => k > 1)).toBe(true);
    const hidden = first.forward(x, { train: true }).output;
    const dropped = { shape: [T, B, 2 * H], data: hidden.data.map((v, k) => v * keep[k]) };
    const top = second.forward(dropped, { train: true });
    expect(Array.from(trained.output.data)).toEqual(Array.from(top.output.data));
    const dDropped = second.backward({ output: seed }).input;
    const dInput = first.backward({ output: { shape: [T, B, 2 * H], data: dDropped.data.map((v, k) => v * keep[k]) } }).input;
    expectClose(gradients.input.data, dInput.data, 'dx');
    const grads = stacked.grads();
    for (const [name, value] of Object.entries(first.grads())) expectClose(grads[name].data, value.data, name);
    for (const [name, value] of Object.entries(second.grads())) expectClose(grads[name.replace('_l0', '_l1')].data, value.data, name);

    const plain = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true });
    plain.loadStateDict(dict);
    expect(Array.from(stacked.forward(x).output.data)).toEqual(Array.from(plain.forward(x).output.data));
    expect(() => new GRU({ inputSize: 2, hiddenSize: 3, dropout: 1 })).toThrow(/dropout must be a number in \[0, 1\), got 1/);
    expect(stacked.options()).toMatchObject({ dropout: p, numLayers: 2 });
    for (const module of [stacked, first, second, plain]) module.dispose();
  });
});
