// Training trajectories against PyTorch (test/fixtures/train): Embedding → LSTM → Linear with SGD,
// momentum, Adam, Adam with gradient clipping, and truncated BPTT; losses at every step and final parameters;
// bitwise the same at 1 and 2 threads.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, Embedding, LSTM, Linear, SGD, Tensor, clipGradNorm, crossEntropy, init, threadsReady, type Parameter,
} from '../dist/index.js';
import { expectClose, listFixtures, loadFixture, simdUnderTest, type FixtureTensor, type Tolerance } from './helpers/fixtures.js';
import { acrossThreadCounts, expectBitwiseEqual } from './helpers/threads.js';

interface TrainFixture {
  module: 'train:many_to_one' | 'train:tbptt';
  config: {
    vocabSize: number; embedDim: number; hiddenSize: number; numClasses: number; batch: number; seqLen: number;
    steps?: number; chunk?: number;
    optimizer: { type: 'SGD' | 'Adam'; lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weight_decay: number; betas?: [number, number]; eps?: number };
    clipGradNorm?: { max_norm: number };
  };
  params: Record<string, FixtureTensor>;
  inputs: { tokens: FixtureTensor; labels: FixtureTensor };
  outputs: { losses: number[]; params: Record<string, FixtureTensor>; final_loss?: number; grad_norms_before_clip?: number[]; h_final?: FixtureTensor; c_final?: FixtureTensor };
  tolerance: Tolerance;
}

function build(fixture: TrainFixture) {
  const { vocabSize, embedDim, hiddenSize, numClasses } = fixture.config;
  const embedding = new Embedding({ numEmbeddings: vocabSize, embeddingDim: embedDim });
  const lstm = new LSTM({ inputSize: embedDim, hiddenSize, batchFirst: true });
  const linear = new Linear({ inFeatures: hiddenSize, outFeatures: numClasses });
  const modules = { embedding, lstm, linear };
  for (const [prefix, module] of Object.entries(modules)) {
    const own = Object.fromEntries(Object.entries(fixture.params).filter(([k]) => k.startsWith(`${prefix}.`)).map(([k, v]) => [k.slice(prefix.length + 1), v]));
    module.loadStateDict(own);
  }
  const params: Parameter[] = [...embedding.parameters(), ...lstm.parameters(), ...linear.parameters()];
  const o = fixture.config.optimizer;
  const optimizer = o.type === 'SGD'
    ? new SGD(params, { lr: o.lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weight_decay })
    : new Adam(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay });
  const stateDict = () => ({
    ...prefixed('embedding', embedding.stateDict()), ...prefixed('lstm', lstm.stateDict()), ...prefixed('linear', linear.stateDict()),
  });
  return { embedding, lstm, linear, params, optimizer, stateDict, dispose: () => Object.values(modules).forEach((m) => m.dispose()) };
}

const prefixed = (prefix: string, dict: Record<string, Tensor>) => Object.fromEntries(Object.entries(dict).map(([k, v]) => [`${prefix}.${k}`, v]));

/** Many-to-one: cross-entropy of linear(lstm(embedding(tokens))[:, −1]); returns the loss after backward. */
function manyToOneStep(model: ReturnType<typeof build>, fixture: TrainFixture, train: boolean): number {
  const { batch: N, seqLen: T, hiddenSize: H } = fixture.config;
  const x = model.embedding.forward(fixture.inputs.tokens.data, [N, T], { train });
  const { output } = model.lstm.forward(x, { train });
  const last = new Float32Array(N * H);
  for (let n = 0; n < N; n++) last.set(output.data.subarray((n * T + T - 1) * H, (n * T + T) * H), n * H);
  const logits = model.linear.forward(new Tensor(last, [N, H]), { train });
  const { loss, grad } = crossEntropy(logits, fixture.inputs.labels.data);
  if (!train) return loss;
  const dLast = model.linear.backward(grad);
  const dOutput = new Float32Array(N * T * H);
  for (let n = 0; n < N; n++) dOutput.set(dLast.data.subarray(n * H, (n + 1) * H), (n * T + T - 1) * H);
  const { input: dx } = model.lstm.backward({ output: new Tensor(dOutput, [N, T, H]) });
  model.embedding.backward(dx);
  return loss;
}

/** Runs the fixture's whole trajectory on a fresh model: losses, clip norms, the final state and parameters. */
function train(fixture: TrainFixture) {
  const model = build(fixture);
  const losses: number[] = [];
  const norms: number[] = [];
  let finalLoss: number | undefined;
  let h: Tensor | undefined;
  let c: Tensor | undefined;
  if (fixture.module === 'train:many_to_one') {
    for (let step = 0; step < fixture.config.steps!; step++) {
      model.optimizer.zeroGrad();
      losses.push(manyToOneStep(model, fixture, true));
      if (fixture.config.clipGradNorm) norms.push(clipGradNorm(model.params, fixture.config.clipGradNorm.max_norm));
      model.optimizer.step();
    }
    finalLoss = manyToOneStep(model, fixture, false);
  } else {
    const { batch: N, seqLen: T, hiddenSize: H, chunk } = fixture.config;
    for (let start = 0; start < T; start += chunk!) {
      model.optimizer.zeroGrad();
      const ids: number[] = [];
      const labels: number[] = [];
      for (let n = 0; n < N; n++) {
        for (let t = start; t < start + chunk!; t++) {
          ids.push(fixture.inputs.tokens.data[n * T + t]);
          labels.push(fixture.inputs.labels.data[n * T + t]);
        }
      }
      const x = model.embedding.forward(ids, [N, chunk!], { train: true });
      const result = model.lstm.forward(x, { train: true, h0: h, c0: c });
      const logits = model.linear.forward(new Tensor(result.output.data, [N * chunk!, H]), { train: true });
      const { loss, grad } = crossEntropy(logits, labels);
      losses.push(loss);
      const dOutput = model.linear.backward(grad);
      model.embedding.backward(model.lstm.backward({ output: new Tensor(dOutput.data, [N, chunk!, H]) }).input);
      model.optimizer.step();
      h = result.h; // carried, detached: the next chunk starts from these values
      c = result.c;
    }
  }
  const finalParams = model.stateDict();
  model.dispose();
  return { losses, norms, finalLoss, h, c, finalParams };
}

beforeAll(async () => {
  await init({ simd: simdUnderTest(), threads: 2 });
  await threadsReady();
});

describe(`training trajectories vs PyTorch (${process.env.LOOPTREE_SIMD} build)`, () => {
  for (const name of listFixtures('train')) {
    it(name, () => {
      const fixture = loadFixture<TrainFixture>('train', name);
      // At 1 thread and at 2 (every call split): bitwise the same trajectory; the 2-thread one against PyTorch.
      const { one, two: run } = acrossThreadCounts(() => train(fixture));
      const record = (r: typeof run) => ({
        losses: Float32Array.from(r.losses), norms: Float32Array.from(r.norms), h: r.h?.data, c: r.c?.data,
        ...Object.fromEntries(Object.entries(r.finalParams).map(([k, v]) => [k, v.data])),
      });
      expectBitwiseEqual(record(one), record(run));
      expect(run.finalLoss).toBe(one.finalLoss);
      if (fixture.module === 'train:many_to_one') {
        expect(run.finalLoss).toBeCloseTo(fixture.outputs.final_loss!, 5);
      } else {
        expectClose('h_final', run.h!, fixture.outputs.h_final!, fixture.tolerance);
        expectClose('c_final', run.c!, fixture.outputs.c_final!, fixture.tolerance);
      }
      expect(run.losses.length).toBe(fixture.outputs.losses.length);
      run.losses.forEach((loss, i) => expect(Math.abs(loss - fixture.outputs.losses[i]), `loss at step ${i}`).toBeLessThanOrEqual(fixture.tolerance.atol + fixture.tolerance.rtol * Math.abs(fixture.outputs.losses[i])));
      if (fixture.outputs.grad_norms_before_clip) {
        run.norms.forEach((norm, i) => expect(norm).toBeCloseTo(fixture.outputs.grad_norms_before_clip![i], 5));
      }
      for (const [key, expected] of Object.entries(fixture.outputs.params)) expectClose(key, run.finalParams[key], expected, fixture.tolerance);
    });
  }
});
