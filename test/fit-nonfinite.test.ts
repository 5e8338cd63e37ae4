// Training and non-finite values (issue 10, F9): fit checks every target and sample before the first step (a bad
// label in the last batch used to throw after earlier batches had changed the weights); a NaN or ±Infinity in the
// loss or a gradient stops fit before the optimizer step (onNonFinite: 'throw', the default) or is trained through
// ('ignore'); save() refuses what load() would refuse, so it never writes a file that cannot be read back.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError, GRU, LSTM, LastStep, Linear, NonFiniteError, Sequential, ShapeError, StateDictError, init, manualSeed, tensor,
  type Tensor,
} from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';
import { caught } from './helpers/caught.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

const quiet = { verbose: false };

const bits = (dict: Record<string, Tensor>) => Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, Array.from(new Uint32Array(v.data.buffer, v.data.byteOffset, v.data.length))]));

/** A GRU → LastStep → Linear(3 classes) classifier on [N, T = 4, F = 2] and its data. */
function classifier(lr = 0.05) {
  manualSeed(21);
  const model = new Sequential([new GRU({ inputSize: 2, hiddenSize: 6, batchFirst: true }), new LastStep(), new Linear({ inFeatures: 6, outFeatures: 3 })]);
  model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam', lr } });
  const N = 12;
  const x = tensor(Float32Array.from({ length: N * 4 * 2 }, (_, i) => Math.sin(i * 0.37)), [N, 4, 2]);
  const y = tensor(Float32Array.from({ length: N }, (_, i) => i % 3), [N]);
  return { model, x, y, N };
}

describe('F9: fit validates every target before the first step', () => {
  it('a bad class id in the last batch → ArgumentError naming it, and the weights are untouched', () => {
    const { model, x, y, N } = classifier();
    const before = bits(model.stateDict());
    for (const [bad, pattern] of [[3, /y at flat index 11 must be in \[0, 3\) or -100 \(ignoreIndex\), got 3/], [1.5, /y at flat index 11 must be an integer, got 1\.5/], [-1, /got -1/]] as const) {
      const labels = Float32Array.from(y.data);
      labels[N - 1] = bad;
      const error = caught(() => model.fit(x, tensor(labels, [N]), { ...quiet, batchSize: 4, shuffle: false }));
      expect(error).toBeInstanceOf(ArgumentError);
      expect((error as Error).message).toMatch(pattern);
      expect(bits(model.stateDict())).toEqual(before);
    }
    // ignoreIndex is allowed anywhere; the same data with good labels trains.
    const labels = Float32Array.from(y.data);
    labels[N - 1] = -100;
    expect(model.fit(x, tensor(labels, [N]), { ...quiet, batchSize: 4, shuffle: false }).loss[0]).toBeGreaterThan(0);
    expect(bits(model.stateDict())).not.toEqual(before);
    model.dispose();
  });

  it('targets of the wrong shape, NaN in x or y, bad validation data → typed errors before any step', () => {
    const { model, x, y, N } = classifier();
    const before = bits(model.stateDict());
    expect(caught(() => model.fit(x, tensor(new Float32Array(N * 4), [N, 4]), quiet))).toBeInstanceOf(ShapeError);
    const nanX = Float32Array.from(x.data);
    nanX[nanX.length - 1] = NaN;
    expect((caught(() => model.fit(tensor(nanX, x.shape), y, quiet)) as Error).message).toMatch(/x must hold finite numbers, got NaN at flat index 95/);
    const infY = Float32Array.from(y.data);
    infY[0] = Infinity;
    expect(caught(() => model.fit(x, tensor(infY, [N]), quiet))).toBeInstanceOf(ArgumentError);
    const badValidation = { x, y: tensor(Float32Array.from(y.data, (v, i) => (i === 5 ? 7 : v)), [N]) };
    expect((caught(() => model.fit(x, y, { ...quiet, validationData: badValidation })) as Error).message).toMatch(/validation data: y at flat index 5 must be in \[0, 3\)/);
    expect(bits(model.stateDict())).toEqual(before);
    model.dispose();
  });

  it('per-step class ids with lengths: only valid steps are checked (padding may hold anything), mse targets must match the output', () => {
    manualSeed(4);
    const tagger = new Sequential([new LSTM({ inputSize: 2, hiddenSize: 5, batchFirst: true }), new Linear({ inFeatures: 5, outFeatures: 4 })]);
    tagger.compile({ loss: 'crossEntropy', optimizer: { type: 'sgd', lr: 0.1 } });
    const x = tensor(Float32Array.from({ length: 3 * 3 * 2 }, (_, i) => Math.cos(i)), [3, 3, 2]);
    const tags = tensor([[0, 1, 2], [3, 99, 99], [1, 2, 99]], [3, 3]);
    expect(tagger.fit(x, tags, { ...quiet, lengths: [3, 1, 2] }).loss[0]).toBeGreaterThan(0);
    const error = caught(() => tagger.fit(x, tags, { ...quiet, lengths: [3, 2, 2] }));
    expect((error as Error).message).toMatch(/y at flat index 4 must be in \[0, 4\)/);
    tagger.dispose();
    const regressor = new Sequential([new GRU({ inputSize: 2, hiddenSize: 3, batchFirst: true }), new LastStep(), new Linear({ inFeatures: 3, outFeatures: 2 })]);
    regressor.compile({ loss: 'mse', optimizer: { type: 'sgd', lr: 0.1 } });
    expect((caught(() => regressor.fit(x, tensor(new Float32Array(9), [3, 3]), quiet)) as Error).message).toMatch(/with mse, targets must have the output's shape \[3, 2\], got \[3, 3\]/);
    regressor.dispose();
  });
});

describe("F9: onNonFinite ('throw' default | 'ignore')", () => {
  /** A custom loss that returns NaN on the `at`-th call (the data itself is finite). */
  const nanLossAt = (at: number) => {
    let calls = 0;
    return (output: Tensor, target: Tensor) => {
      const grad = new Float32Array(output.data.length);
      let sum = 0;
      output.data.forEach((v, i) => {
        grad[i] = (2 * (v - target.data[i])) / output.data.length;
        sum += (v - target.data[i]) ** 2;
      });
      return { loss: calls++ === at ? NaN : sum / output.data.length, grad: tensor(grad, output.shape) };
    };
  };
  const regression = () => {
    manualSeed(8);
    const model = new Sequential([new GRU({ inputSize: 2, hiddenSize: 4, batchFirst: true }), new LastStep(), new Linear({ inFeatures: 4, outFeatures: 1 })]);
    const x = tensor(Float32Array.from({ length: 8 * 3 * 2 }, (_, i) => Math.sin(i)), [8, 3, 2]);
    const y = tensor(Float32Array.from({ length: 8 }, (_, i) => i / 8), [8, 1]);
    return { model, x, y };
  };

  it("a NaN loss → NonFiniteError before that step: the weights are those after the previous step, and save/load round-trips", () => {
    const { model, x, y } = regression();
    model.compile({ loss: nanLossAt(2), optimizer: { type: 'sgd', lr: 0.1 } });
    const steps: number[] = [];
    let afterTwoSteps: Record<string, number[]> | undefined;
    const error = caught(() => model.fit(x, y, {
      ...quiet, batchSize: 2, shuffle: false,
      callbacks: { onBatchEnd: (step) => { steps.push(step); if (step === 1) afterTwoSteps = bits(model.stateDict()); } },
    }));
    expect(error).toBeInstanceOf(NonFiniteError);
    expect((error as NonFiniteError).code).toBe('ERR_NON_FINITE');
    expect((error as Error).message).toMatch(/the loss of a batch is NaN; the weights are as before this step/);
    expect(steps).toEqual([0, 1]);
    expect(bits(model.stateDict())).toEqual(afterTwoSteps);
    const loaded = Sequential.load(model.save());
    expect(bits(loaded.stateDict())).toEqual(afterTwoSteps);
    loaded.dispose();
    model.dispose();
  });

  it("an infinite gradient → NonFiniteError naming the parameter, weights unchanged; 'ignore' trains on as PyTorch and save() then refuses", () => {
    const { model, x, y } = regression();
    const infiniteGrad = (output: Tensor) => ({ loss: 1, grad: tensor(new Float32Array(output.data.length).fill(Infinity), output.shape) });
    model.compile({ loss: infiniteGrad, optimizer: { type: 'adam', lr: 0.01 } });
    const before = bits(model.stateDict());
    const error = caught(() => model.fit(x, y, { ...quiet, batchSize: 8 }));
    expect(error).toBeInstanceOf(NonFiniteError);
    expect((error as Error).message).toMatch(/the gradient of "\d\.[a-z_0-9]+" is non-finite at flat index \d+, before the step/);
    expect(bits(model.stateDict())).toEqual(before);
    expect(caught(() => model.fit(x, y, { ...quiet, onNonFinite: 'sometimes' as never }))).toBeInstanceOf(ArgumentError);
    const history = model.fit(x, y, { ...quiet, batchSize: 8, onNonFinite: 'ignore' });
    expect(history.loss).toEqual([1]);
    const weights = model.stateDict();
    expect(Object.values(weights).some((w) => w.data.some((v) => !Number.isFinite(v)))).toBe(true);
    const saveError = caught(() => model.save());
    expect(saveError).toBeInstanceOf(StateDictError);
    expect((saveError as Error).message).toMatch(/^Sequential\.save: ".+" holds a non-finite value \((NaN|-?Infinity)\) at flat index \d+; Sequential\.load would refuse the file$/);
    model.dispose();
  });

  it('a parameter made non-finite by the step itself (a huge learning rate) → NonFiniteError after the step', () => {
    const { model, x, y } = regression();
    const steepLoss = (output: Tensor) => ({ loss: 1, grad: tensor(new Float32Array(output.data.length).fill(1e3), output.shape) });
    model.compile({ loss: steepLoss, optimizer: { type: 'sgd', lr: 1e38 } });
    const error = caught(() => model.fit(x, y, { ...quiet, batchSize: 8 }));
    expect(error).toBeInstanceOf(NonFiniteError);
    expect((error as Error).message).toMatch(/the value of ".+" is non-finite at flat index \d+, after the step/);
    model.dispose();
  });
});

describe('F9: save() writes only what load() reads', () => {
  it('a config load() would refuse (numLayers past 1,000) → save() throws the same ArgumentError', () => {
    const deep = new Sequential([new GRU({ inputSize: 1, hiddenSize: 1, numLayers: 1001, batchFirst: true })]);
    const error = caught(() => deep.save());
    expect(error).toBeInstanceOf(ArgumentError);
    expect((error as Error).message).toBe('Sequential.save: config.layers[0].numLayers must be a positive integer ≤ 1000, got 1001');
    deep.dispose();
  });

  it('a weight f16 or bf16 would round to Infinity → save({ dtype }) throws StateDictError; f32 and the rounded file load', () => {
    const linear = new Linear({ inFeatures: 2, outFeatures: 1 });
    const model = new Sequential([linear]);
    linear.loadStateDict({ weight: tensor([[65519, -1]]), bias: tensor([0.5]) });
    // 65519 rounds down to 65504 in f16 (nearest even): that file loads back as 65504.
    expect(Sequential.load(model.save({ dtype: 'f16' })).stateDict()['0.weight'].data[0]).toBe(65504);
    linear.loadStateDict({ weight: tensor([[65520, -1]]), bias: tensor([0.5]) });
    expect(() => model.save({ dtype: 'f16' })).toThrow(StateDictError);
    expect(() => model.save({ dtype: 'f16' })).toThrow('Sequential.save: "0.weight" holds 65520 at flat index 0, which f16 rounds to Infinity (|w| must be < 65520)');
    expect(Sequential.load(model.save({ dtype: 'bf16' })).stateDict()['0.weight'].data[0]).toBe(65536);
    linear.loadStateDict({ weight: tensor([[-3.4e38, 1]]), bias: tensor([0.5]) });
    expect(() => model.save({ dtype: 'bf16' })).toThrow(StateDictError);
    expect(Sequential.load(model.save()).stateDict()['0.weight'].data[0]).toBe(Math.fround(-3.4e38));
    model.dispose();
  });
});
