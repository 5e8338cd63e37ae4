// Finite-difference gradient checks on random small models: every layer's and loss's backward, RNN/LSTM/GRU
// backward through time (projSize, bidirectional, lengths, batchFirst, h0/c0, no bias), and whole Sequential
// models, against central differences of a float64 re-implementation (test/reference/recurrent.ts for the
// recurrent layers). A sanity test shows the check catches a slightly wrong gradient.
//
// Tolerance: the numerical gradient is central differences in float64 with step 1e-6, accurate to ~1e-9
// (truncation h²·f'''/6 ≈ 1e-13, rounding ε64·|L|/h ≈ 1e-9 for |L| ≤ 10). The analytic gradient comes from
// the float32 Wasm backward, whose error is float32 rounding accumulated along the chain: on these cases at
// most ~2e-7 of the tensor's largest gradient. We allow 2e-6 of that scale plus 2e-5 of the value itself —
// about ten times the worst error observed, and about 500 times smaller than a 1% error in the largest
// gradient (the sanity test shows such an error, and swapped gate rows, are caught).

import { beforeAll, describe, expect, it } from 'vitest';
import {
  Dropout, Embedding, GRU, LSTM, LastStep, Linear, LogSoftmax, RNN, ReLU, Sequential, Sigmoid, Tanh, Tensor,
  bceWithLogits, crossEntropy, init, manualSeed, mse, nllLoss, type Layer, type RecurrentModule,
} from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';
import { seededRandom } from './helpers/random.js';
import { recurrentForward, type CellMode, type RecurrentConfig } from './reference/recurrent.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

const STEP = 1e-6;
const ABSOLUTE = 2e-6;
const RELATIVE = 2e-5;

type Values = Record<string, Float64Array>;

/** Random float32-representable values in [−scale, scale), as float64. */
function randomValues(count: number, random: () => number, scale = 1): Float64Array {
  return Float64Array.from({ length: count }, () => Math.fround((random() * 2 - 1) * scale));
}

/** Central differences of `loss` with respect to every element of values[name]. */
function numericalGradient(loss: (values: Values) => number, values: Values, name: string): Float64Array {
  const target = values[name];
  const gradient = new Float64Array(target.length);
  for (let i = 0; i < target.length; i++) {
    const saved = target[i];
    target[i] = saved + STEP;
    const up = loss(values);
    target[i] = saved - STEP;
    const down = loss(values);
    target[i] = saved;
    gradient[i] = (up - down) / (2 * STEP);
  }
  return gradient;
}

interface Mismatch {
  index: number;
  analytic: number;
  numeric: number;
}

/** Elements where |analytic − numeric| > ABSOLUTE·max(1, max|numeric|) + RELATIVE·|numeric|. */
function gradientMismatches(analytic: ArrayLike<number>, numeric: ArrayLike<number>): Mismatch[] {
  let scale = 1;
  for (let i = 0; i < numeric.length; i++) scale = Math.max(scale, Math.abs(numeric[i]));
  const mismatches: Mismatch[] = [];
  for (let i = 0; i < numeric.length; i++) {
    if (!(Math.abs(analytic[i] - numeric[i]) <= ABSOLUTE * scale + RELATIVE * Math.abs(numeric[i]))) {
      mismatches.push({ index: i, analytic: analytic[i], numeric: numeric[i] });
    }
  }
  return mismatches;
}

/** Checks every analytic gradient against central differences of `loss` at `values`. */
function checkGradients(what: string, loss: (values: Values) => number, values: Values, analytic: Record<string, ArrayLike<number>>): void {
  for (const [name, gradient] of Object.entries(analytic)) {
    const numeric = numericalGradient(loss, values, name);
    expect(gradient.length, `${what}: d ${name} length`).toBe(numeric.length);
    const bad = gradientMismatches(gradient, numeric);
    if (bad.length > 0) {
      const worst = bad.reduce((a, b) => (Math.abs(b.analytic - b.numeric) > Math.abs(a.analytic - a.numeric) ? b : a));
      expect.fail(`${what}: d ${name}: ${bad.length} of ${numeric.length} values differ from central differences; first at index ` +
        `${bad[0].index}: analytic ${bad[0].analytic}, numeric ${bad[0].numeric}; largest at index ${worst.index}: ` +
        `analytic ${worst.analytic}, numeric ${worst.numeric}`);
    }
  }
}

const f32 = (values: ArrayLike<number>): Float32Array => Float32Array.from(values);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
};

// -------------------------------------------------------------------------------------------
// float64 re-implementations

/** y [rows, out] = x [rows, in] · Wᵀ + b. */
function linear64(x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number> | null, inFeatures: number, outFeatures: number): Float64Array {
  const rows = x.length / inFeatures;
  const y = new Float64Array(rows * outFeatures);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outFeatures; o++) {
      let sum = bias ? bias[o] : 0;
      for (let k = 0; k < inFeatures; k++) sum += x[r * inFeatures + k] * weight[o * inFeatures + k];
      y[r * outFeatures + o] = sum;
    }
  }
  return y;
}

function logSoftmax64(x: ArrayLike<number>, C: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let row = 0; row < x.length; row += C) {
    let max = -Infinity;
    for (let j = 0; j < C; j++) max = Math.max(max, x[row + j]);
    let sum = 0;
    for (let j = 0; j < C; j++) sum += Math.exp(x[row + j] - max);
    for (let j = 0; j < C; j++) out[row + j] = x[row + j] - max - Math.log(sum);
  }
  return out;
}

function nll64(logProbs: ArrayLike<number>, targets: ArrayLike<number>, C: number, reduction: 'mean' | 'sum' = 'mean', ignoreIndex = -100): number {
  let total = 0, counted = 0;
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] === ignoreIndex) continue;
    total -= logProbs[i * C + targets[i]];
    counted++;
  }
  return reduction === 'mean' ? total / counted : total;
}

const crossEntropy64 = (logits: ArrayLike<number>, targets: ArrayLike<number>, C: number, reduction: 'mean' | 'sum' = 'mean', ignoreIndex = -100) =>
  nll64(logSoftmax64(logits, C), targets, C, reduction, ignoreIndex);

/** Last valid step of each sequence of a batch-first [B, T, D·P] output (LastStep). */
function lastStep64(output: ArrayLike<number>, B: number, T: number, width: number, directions: number, lengths: ArrayLike<number>): Float64Array {
  const P = width / directions;
  const out = new Float64Array(B * width);
  for (let b = 0; b < B; b++) {
    for (let d = 0; d < directions; d++) {
      const t = d === 0 ? lengths[b] - 1 : 0;
      for (let j = 0; j < P; j++) out[b * width + d * P + j] = output[(b * T + t) * width + d * P + j];
    }
  }
  return out;
}

function moduleConfig(module: RecurrentModule): RecurrentConfig {
  const mode: CellMode = module instanceof LSTM ? 'lstm' : module instanceof GRU ? 'gru' : (module as RNN).nonlinearity === 'relu' ? 'rnn_relu' : 'rnn_tanh';
  return {
    mode, inputSize: module.inputSize, hiddenSize: module.hiddenSize, numLayers: module.numLayers, bidirectional: module.bidirectional,
    batchFirst: module.batchFirst, bias: module.bias, projSize: module instanceof LSTM ? module.projSize : 0,
  };
}

/** The values a module's parameters hold, as float64, prefixed. */
function parameterValues(module: { stateDict(): Record<string, Tensor> }, prefix = ''): Values {
  return Object.fromEntries(Object.entries(module.stateDict()).map(([name, value]) => [prefix + name, Float64Array.from(value.data)]));
}

function prefixedGrads(module: { grads(): Record<string, Tensor> }, prefix: string): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(module.grads()).map(([name, value]) => [prefix + name, value.data]));
}

/** The parameters under `prefix`, without it, as the reference's state dict. */
function unprefixed(values: Values, prefix: string): Record<string, { data: Float64Array }> {
  return Object.fromEntries(Object.entries(values).filter(([key]) => key.startsWith(prefix)).map(([key, data]) => [key.slice(prefix.length), { data }]));
}

// -------------------------------------------------------------------------------------------

describe(`gradient checks: layers (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('Linear, with and without bias, on [2, 3, in] input', () => {
    for (const bias of [true, false]) {
      manualSeed(1);
      const random = seededRandom(2);
      const layer = new Linear({ inFeatures: 4, outFeatures: 5, bias });
      const values: Values = { x: randomValues(24, random), ...parameterValues(layer) };
      const seed = randomValues(30, random);
      layer.forward(new Tensor(f32(values.x), [2, 3, 4]), { train: true });
      const dx = layer.backward(new Tensor(f32(seed), [2, 3, 5]));
      const loss = (v: Values) => dot(seed, linear64(v.x, v.weight, bias ? v.bias : null, 4, 5));
      checkGradients(`Linear bias=${bias}`, loss, values, { x: dx.data, ...prefixedGrads(layer, '') });
      layer.dispose();
    }
  });

  it('Embedding with repeated ids and a padding row (a constant zero row: no gradient)', () => {
    manualSeed(3);
    const random = seededRandom(4);
    const layer = new Embedding({ numEmbeddings: 6, embeddingDim: 3, paddingIdx: 2 });
    const ids = [1, 2, 5, 1, 0, 2, 5, 5];
    const values = parameterValues(layer);
    const seed = randomValues(ids.length * 3, random);
    layer.forward(ids, [2, 4], { train: true });
    layer.backward(new Tensor(f32(seed), [2, 4, 3]));
    const loss = (v: Values) => ids.reduce((sum, id, i) => sum + (id === 2 ? 0 : dot(seed.subarray(i * 3, i * 3 + 3), v.weight.subarray(id * 3, id * 3 + 3))), 0);
    checkGradients('Embedding', loss, values, prefixedGrads(layer, ''));
    layer.dispose();
  });

  it('Dropout in training with a fixed (seeded) mask', () => {
    const random = seededRandom(5);
    const x = randomValues(40, random);
    const seed = randomValues(40, random);
    const mask = new Dropout({ p: 0.4, seed: 99 }).forward(new Tensor(new Float32Array(40).fill(1), [8, 5]), { train: true }).data;
    expect(mask.some((m) => m === 0) && mask.some((m) => m > 1)).toBe(true);
    const layer = new Dropout({ p: 0.4, seed: 99 });
    const y = layer.forward(new Tensor(f32(x), [8, 5]), { train: true });
    y.data.forEach((value, i) => expect(value).toBe(Math.fround(x[i] * mask[i])));
    const dx = layer.backward(new Tensor(f32(seed), [8, 5]));
    checkGradients('Dropout', (v) => v.x.reduce((sum, value, i) => sum + seed[i] * mask[i] * value, 0), { x }, { x: dx.data });
  });

  it('ReLU, Tanh, Sigmoid and LogSoftmax', () => {
    const random = seededRandom(6);
    const activations: Array<[string, { forward(x: Tensor, o: { train: boolean }): Tensor; backward(d: Tensor): Tensor }, (x: Float64Array) => Float64Array]> = [
      ['ReLU', new ReLU(), (x) => x.map((v) => Math.max(v, 0))],
      ['Tanh', new Tanh(), (x) => x.map(Math.tanh)],
      ['Sigmoid', new Sigmoid(), (x) => x.map((v) => 1 / (1 + Math.exp(-v)))],
      ['LogSoftmax', new LogSoftmax(), (x) => logSoftmax64(x, 6)],
    ];
    for (const [name, layer, reference] of activations) {
      const x = randomValues(24, random, 3);
      const seed = randomValues(24, random);
      layer.forward(new Tensor(f32(x), [4, 6]), { train: true });
      const dx = layer.backward(new Tensor(f32(seed), [4, 6]));
      checkGradients(name, (v) => dot(seed, reference(v.x)), { x }, { x: dx.data });
    }
  });

  it('every loss, with its reductions, ignoreIndex and posWeight', () => {
    const random = seededRandom(7);
    const N = 5, C = 4;
    const targets = [3, 0, -100, 1, 3];
    const probabilities = Float64Array.from({ length: N * C }, () => Math.fround(random()));
    for (const reduction of ['mean', 'sum'] as const) {
      const logits = randomValues(N * C, random, 2);
      checkGradients(`crossEntropy ${reduction}`, (v) => crossEntropy64(v.logits, targets, C, reduction), { logits },
        { logits: crossEntropy(new Tensor(f32(logits), [N, C]), targets, { reduction }).grad.data });
      checkGradients(`crossEntropy ignoreIndex 0 ${reduction}`, (v) => crossEntropy64(v.logits, [3, 0, 2, 0, 1], C, reduction, 0), { logits },
        { logits: crossEntropy(new Tensor(f32(logits), [N, C]), [3, 0, 2, 0, 1], { reduction, ignoreIndex: 0 }).grad.data });
      const logProbs = Float64Array.from(logSoftmax64(logits, C), Math.fround);
      checkGradients(`nllLoss ${reduction}`, (v) => nll64(v.logProbs, targets, C, reduction), { logProbs },
        { logProbs: nllLoss(new Tensor(f32(logProbs), [N, C]), targets, { reduction }).grad.data });
      const input = randomValues(N * C, random, 2);
      const target = randomValues(N * C, random);
      const scale = reduction === 'mean' ? 1 / (N * C) : 1;
      checkGradients(`mse ${reduction}`, (v) => scale * v.input.reduce((sum, value, i) => sum + (value - target[i]) ** 2, 0), { input },
        { input: mse(new Tensor(f32(input), [N, C]), new Tensor(f32(target), [N, C]), { reduction }).grad.data });
      for (const posWeight of [1, 2.5]) {
        const bce = (v: Values) => scale * v.input.reduce((sum, x, i) => {
          const y = probabilities[i];
          return sum - (posWeight * y * Math.log(1 / (1 + Math.exp(-x))) + (1 - y) * Math.log(1 - 1 / (1 + Math.exp(-x))));
        }, 0);
        checkGradients(`bceWithLogits ${reduction} posWeight ${posWeight}`, bce, { input },
          { input: bceWithLogits(new Tensor(f32(input), [N, C]), new Tensor(f32(probabilities), [N, C]), { reduction, posWeight }).grad.data });
      }
    }
  });

  it('LastStep over a bidirectional output with lengths', () => {
    const random = seededRandom(8);
    const B = 3, T = 4, width = 6, lengths = [2, 4, 1];
    const x = randomValues(B * T * width, random);
    const seed = randomValues(B * width, random);
    const layer = new LastStep();
    layer.forward(new Tensor(f32(x), [B, T, width]), { train: true, lengths, directions: 2 });
    const dx = layer.backward(new Tensor(f32(seed), [B, width]));
    checkGradients('LastStep', (v) => dot(seed, lastStep64(v.x, B, T, width, 2, lengths)), { x }, { x: dx.data });
  });
});

interface RecurrentCase {
  label: string;
  make: () => RecurrentModule;
  steps: number;
  batch: number;
  lengths?: number[];
  initialState?: boolean;
}

const recurrentCases: RecurrentCase[] = [
  { label: 'RNN tanh, 2 layers, bidirectional, batchFirst, lengths, h0', make: () => new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst: true }), steps: 4, batch: 3, lengths: [4, 2, 3], initialState: true },
  { label: 'RNN relu, no bias', make: () => new RNN({ inputSize: 3, hiddenSize: 5, nonlinearity: 'relu', bias: false }), steps: 5, batch: 2 },
  { label: 'LSTM projSize, 2 layers, bidirectional, lengths, h0/c0', make: () => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 2, numLayers: 2, bidirectional: true }), steps: 4, batch: 3, lengths: [3, 4, 1], initialState: true },
  { label: 'LSTM batchFirst, 2 layers, h0/c0', make: () => new LSTM({ inputSize: 2, hiddenSize: 5, numLayers: 2, batchFirst: true }), steps: 5, batch: 2, initialState: true },
  { label: 'GRU 2 layers, bidirectional, batchFirst, lengths, h0', make: () => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst: true }), steps: 4, batch: 3, lengths: [1, 4, 3], initialState: true },
  { label: 'GRU no bias', make: () => new GRU({ inputSize: 4, hiddenSize: 3, bias: false }), steps: 6, batch: 2 },
];

/** A recurrent module's forward + backward with random seeds for output, h and c, and the float64 loss they define. */
function recurrentProblem(module: RecurrentModule, c: RecurrentCase, seedNumber: number) {
  const random = seededRandom(seedNumber);
  const { steps: T, batch: B } = c;
  const L = module.numLayers, D = module.directions, P = module.outputSize, H = module.hiddenSize, I = module.inputSize;
  const lstm = module instanceof LSTM;
  const values: Values = { input: randomValues(T * B * I, random), ...parameterValues(module) };
  if (c.initialState) values.h0 = randomValues(L * D * B * P, random, 0.5);
  if (c.initialState && lstm) values.c0 = randomValues(L * D * B * H, random, 0.5);
  const seeds = { output: randomValues(T * B * D * P, random), h: randomValues(L * D * B * P, random), c: randomValues(L * D * B * H, random) };
  const inputShape = module.batchFirst ? [B, T, I] : [T, B, I];
  const stateShape = (width: number) => [L * D, B, width];
  module.forward(new Tensor(f32(values.input), inputShape), {
    train: true, lengths: c.lengths,
    h0: values.h0 && new Tensor(f32(values.h0), stateShape(P)),
    c0: values.c0 && new Tensor(f32(values.c0), stateShape(H)),
  });
  const back = module.backward({
    output: new Tensor(f32(seeds.output), module.batchFirst ? [B, T, D * P] : [T, B, D * P]),
    h: new Tensor(f32(seeds.h), stateShape(P)),
    c: lstm ? new Tensor(f32(seeds.c), stateShape(H)) : undefined,
  });
  const analytic: Record<string, ArrayLike<number>> = { input: back.input.data, ...prefixedGrads(module, '') };
  if (values.h0) analytic.h0 = back.h0.data;
  if (values.c0) analytic.c0 = back.c0!.data;
  const config = moduleConfig(module);
  const loss = (v: Values) => {
    const result = recurrentForward(config, unprefixed(v, ''), { input: v.input, steps: T, batch: B, h0: v.h0, c0: v.c0, lengths: c.lengths });
    return dot(seeds.output, result.output) + dot(seeds.h, result.h) + (result.c ? dot(seeds.c, result.c) : 0);
  };
  return { values, analytic, loss };
}

describe(`gradient checks: RNN, LSTM and GRU backward through time (${process.env.LOOPTREE_SIMD} build)`, () => {
  recurrentCases.forEach((c, index) => {
    it(c.label, () => {
      manualSeed(20 + index);
      const module = c.make();
      const { values, analytic, loss } = recurrentProblem(module, c, 30 + index);
      checkGradients(c.label, loss, values, analytic);
      module.dispose();
    });
  });

  it('sanity: the check catches a gradient wrong by 1% in one element, and swapped gate rows', () => {
    manualSeed(40);
    const c = recurrentCases[2];
    const module = c.make();
    const { values, analytic, loss } = recurrentProblem(module, c, 41);
    const name = 'weight_hh_l1_reverse';
    const exact = Float32Array.from(analytic[name]);
    const numeric = numericalGradient(loss, values, name);
    expect(gradientMismatches(exact, numeric)).toEqual([]);
    let largest = 0;
    for (let i = 1; i < exact.length; i++) if (Math.abs(exact[i]) > Math.abs(exact[largest])) largest = i;
    const offByOnePercent = exact.slice();
    offByOnePercent[largest] *= 1.01;
    expect(gradientMismatches(offByOnePercent, numeric).map((m) => m.index)).toEqual([largest]);
    // Rows of weight_hh are the gates i, f, g, o (H = 4 rows each, P = 2 columns): swap the i and f blocks.
    const swapped = exact.slice();
    swapped.set(exact.subarray(8, 16), 0);
    swapped.set(exact.subarray(0, 8), 8);
    expect(gradientMismatches(swapped, numeric).length).toBeGreaterThan(0);
    module.dispose();
  });
});

describe(`gradient checks: whole Sequential models through fit (${process.env.LOOPTREE_SIMD} build)`, () => {
  /** One fit step with SGD(lr = 0): leaves the batch's gradients in the layers without changing the weights. */
  function gradientsAfterOneStep(model: Sequential, x: Tensor, y: Tensor, lengths: number[]): Record<string, Float32Array> {
    model.compile({ loss: 'crossEntropy', optimizer: { type: 'sgd', lr: 0 } });
    model.fit(x, y, { batchSize: x.shape[0], shuffle: false, lengths, verbose: false });
    return Object.fromEntries(model.layers.flatMap((layer: Layer, index) =>
      ('grads' in layer ? Object.entries(prefixedGrads(layer, `${index}.`)) : [])));
  }

  it('Embedding → bidirectional LSTM → LastStep → Linear, crossEntropy, padded batch', () => {
    manualSeed(50);
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, bidirectional: true, batchFirst: true });
    const model = new Sequential([new Embedding({ numEmbeddings: 7, embeddingDim: 3, paddingIdx: 0 }), lstm, new LastStep(), new Linear({ inFeatures: 8, outFeatures: 3 })]);
    const B = 3, T = 4, lengths = [4, 2, 3];
    const ids = [1, 2, 3, 4, 5, 6, 0, 0, 2, 2, 1, 0];
    const labels = [2, 0, 1];
    const values = parameterValues(model);
    const analytic = gradientsAfterOneStep(model, new Tensor(f32(ids), [B, T]), new Tensor(f32(labels), [B]), lengths);
    const config = moduleConfig(lstm);
    const embeddingRows = (v: Values) => Float64Array.from(ids.flatMap((id) => (id === 0 ? [0, 0, 0] : [...v['0.weight'].subarray(id * 3, id * 3 + 3)])));
    const loss = (v: Values) => {
      const { output } = recurrentForward(config, unprefixed(v, '1.'), { input: embeddingRows(v), steps: T, batch: B, lengths });
      const logits = linear64(lastStep64(output, B, T, 8, 2, lengths), v['3.weight'], v['3.bias'], 8, 3);
      return crossEntropy64(logits, labels, 3);
    };
    checkGradients('Sequential many-to-one', loss, values, analytic);
    model.dispose();
  });

  it('Embedding → GRU → Tanh → Linear per step, padded steps and ignoreIndex left out of the loss', () => {
    manualSeed(51);
    const gru = new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, batchFirst: true });
    const model = new Sequential([new Embedding({ numEmbeddings: 6, embeddingDim: 3 }), gru, new Tanh(), new Linear({ inFeatures: 4, outFeatures: 3 })]);
    const B = 2, T = 4, lengths = [4, 3];
    const ids = [1, 2, 3, 4, 5, 1, 2, 5];
    const tags = [0, 2, -100, 1, 2, 1, 0, 1]; // the last one is a padded step: left out by lengths
    const values = parameterValues(model);
    const analytic = gradientsAfterOneStep(model, new Tensor(f32(ids), [B, T]), new Tensor(f32(tags), [B, T]), lengths);
    const config = moduleConfig(gru);
    const loss = (v: Values) => {
      const input = Float64Array.from(ids.flatMap((id) => [...v['0.weight'].subarray(id * 3, id * 3 + 3)]));
      const { output } = recurrentForward(config, unprefixed(v, '1.'), { input, steps: T, batch: B, lengths });
      const logits = linear64(output.map(Math.tanh), v['3.weight'], v['3.bias'], 4, 3);
      const kept = tags.map((tag, i) => (i % T < lengths[Math.floor(i / T)] ? tag : -100));
      return crossEntropy64(logits, kept, 3);
    };
    checkGradients('Sequential many-to-many', loss, values, analytic);
    model.dispose();
  });
});
