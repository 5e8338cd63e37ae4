// Tree models on random trees (shuffled node order, tails of H and X, many children, several trees per call)
// against the float64 reference of test/reference/tree.ts: forward h and c, and backward dx and every
// parameter gradient for random dLoss/dh and dLoss/dc. The reference itself is checked against central
// differences in float64, and the float32 model against central differences of its own loss. Also:
// gradients accumulate over backward calls until zeroGrad(), batching trees together changes nothing, and
// the classifier head (embedding, log-softmax, summed NLL) matches the reference.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  BinaryTreeLSTM, ChildSumTreeLSTM, SGD, Tensor, Tree, TreeClassifier, TreeRNN, init, type TreeModule,
} from '../dist/index.js';
import { expectClose } from './helpers/compare.js';
import { simdUnderTest } from './helpers/fixtures.js';
import { seededRandom, uniformArray } from './helpers/random.js';
import { TREE_KINDS, parameterShapes, randomParams, randomTrees, toStateDict, type TreeCase } from './helpers/trees.js';
import {
  referenceBackward, referenceClassifier, referenceForward, type ClassifierTree, type Params, type ReferenceTree, type TreeKind,
} from './reference/tree.js';

const constructors = { TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM };

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

const CASES: TreeCase[] = [
  ...TREE_KINDS.map((kind) => ({ kind, X: 3, H: 5, sizes: [1, 2, 4], seed: 1 })),
  ...TREE_KINDS.map((kind) => ({ kind, X: 8, H: 4, sizes: [6, 3, 9, 5], seed: 2 })),
  ...TREE_KINDS.map((kind) => ({ kind, X: 17, H: 13, sizes: [12, 1, 20], seed: 3 })),
  ...TREE_KINDS.map((kind) => ({ kind, X: 40, H: 33, sizes: Array.from({ length: 24 }, (_, i) => 5 + (i * 7) % 19), seed: 4 })),
  // Hidden sizes that leave only scalar tails (1, 3) or a vector body plus a tail (17).
  ...TREE_KINDS.map((kind) => ({ kind, X: 7, H: 1, sizes: [1, 3, 6], seed: 5 })),
  ...TREE_KINDS.map((kind) => ({ kind, X: 2, H: 3, sizes: [4, 7], seed: 6 })),
  ...TREE_KINDS.map((kind) => ({ kind, X: 5, H: 17, sizes: [9, 2], seed: 7 })),
];

function setup(c: TreeCase) {
  const random = seededRandom(c.seed * 1000 + TREE_KINDS.indexOf(c.kind));
  const shapes = parameterShapes(c.kind, c.X, c.H);
  const params = randomParams(shapes, random, 0.6);
  const parents = randomTrees(c.kind, c.sizes, random);
  const trees = parents.map((p) => Tree.fromParents(p));
  const x = parents.map((p) => new Tensor(uniformArray(random, p.length * c.X), [p.length, c.X]));
  const dh = parents.map((p) => new Tensor(uniformArray(random, p.length * c.H), [p.length, c.H]));
  const dc = c.kind === 'TreeRNN' ? undefined : parents.map((p) => new Tensor(uniformArray(random, p.length * c.H), [p.length, c.H]));
  const referenceTrees: ReferenceTree[] = parents.map((p, b) => ({ parents: p, x: x[b].data }));
  const module: TreeModule = new constructors[c.kind]({ inputSize: c.X, hiddenSize: c.H });
  module.loadStateDict(toStateDict(params, shapes));
  return { shapes, params, parents, trees, x, dh, dc, referenceTrees, module };
}

const OUTPUT_BOUND = (expected: ArrayLike<number>) => (i: number) => 1e-5 + 1e-5 * Math.abs(expected[i]);
const GRAD_BOUND = (expected: ArrayLike<number>) => (i: number) => 2e-5 + 1e-4 * Math.abs(expected[i]);

describe(`tree models vs the float64 reference (${process.env.LOOPTREE_SIMD} build)`, () => {
  for (const c of CASES) {
    it(`${c.kind} X=${c.X} H=${c.H}, ${c.sizes.length} trees: forward h, c; backward dx and every parameter`, () => {
      const { params, trees, x, dh, dc, referenceTrees, module } = setup(c);
      const result = module.forward(trees, x, { train: true });
      const reference = referenceForward(c.kind, params, c.X, c.H, referenceTrees);
      trees.forEach((_, b) => {
        expectClose(`h[${b}]`, result.h[b].data, reference.h[b], OUTPUT_BOUND(reference.h[b]));
        if (c.kind !== 'TreeRNN') expectClose(`c[${b}]`, result.c![b].data, reference.c[b], OUTPUT_BOUND(reference.c[b]));
      });
      const { x: dx } = module.backward({ h: dh, c: dc });
      const expected = referenceBackward(c.kind, params, c.X, c.H, referenceTrees, reference, dh.map((t) => t.data), dc?.map((t) => t.data) ?? null);
      trees.forEach((_, b) => expectClose(`dx[${b}]`, dx[b].data, expected.x[b], GRAD_BOUND(expected.x[b])));
      const grads = module.grads();
      for (const name of Object.keys(params)) expectClose(`grad ${name}`, grads[name].data, expected.grads[name], GRAD_BOUND(expected.grads[name]));
      module.dispose();
    });
  }

  it('child-sum with wide fan-out (a root with 9 children, a node with 6) and a chain', () => {
    const c: TreeCase = { kind: 'ChildSumTreeLSTM', X: 5, H: 7, sizes: [], seed: 5 };
    const random = seededRandom(55);
    const shapes = parameterShapes(c.kind, c.X, c.H);
    const params = randomParams(shapes, random, 0.6);
    const parents = [
      [-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3],
      [1, 2, 3, 4, -1],
    ];
    const trees = parents.map((p) => Tree.fromParents(p));
    const x = parents.map((p) => new Tensor(uniformArray(random, p.length * c.X), [p.length, c.X]));
    const dh = parents.map((p) => new Tensor(uniformArray(random, p.length * c.H), [p.length, c.H]));
    const module = new ChildSumTreeLSTM({ inputSize: c.X, hiddenSize: c.H });
    module.loadStateDict(toStateDict(params, shapes));
    const result = module.forward(trees, x, { train: true });
    const referenceTrees = parents.map((p, b) => ({ parents: p, x: x[b].data }));
    const reference = referenceForward(c.kind, params, c.X, c.H, referenceTrees);
    trees.forEach((_, b) => expectClose(`h[${b}]`, result.h[b].data, reference.h[b], OUTPUT_BOUND(reference.h[b])));
    const { x: dx } = module.backward({ h: dh });
    const expected = referenceBackward(c.kind, params, c.X, c.H, referenceTrees, reference, dh.map((t) => t.data), null);
    trees.forEach((_, b) => expectClose(`dx[${b}]`, dx[b].data, expected.x[b], GRAD_BOUND(expected.x[b])));
    const grads = module.grads();
    for (const name of Object.keys(params)) expectClose(`grad ${name}`, grads[name].data, expected.grads[name], GRAD_BOUND(expected.grads[name]));
    module.dispose();
  });
});

/** Σ dh·h + Σ dc·c of the reference forward: the loss whose gradient referenceBackward computes. */
function referenceLoss(kind: TreeKind, params: Params, X: number, H: number, trees: ReferenceTree[], dh: Float32Array[], dc: Float32Array[] | null): number {
  const forward = referenceForward(kind, params, X, H, trees);
  let loss = 0;
  forward.h.forEach((h, b) => h.forEach((v, i) => (loss += v * dh[b][i])));
  if (dc) forward.c.forEach((c, b) => c.forEach((v, i) => (loss += v * dc[b][i])));
  return loss;
}

describe('the float64 reference against central differences', () => {
  for (const kind of TREE_KINDS) {
    it(`${kind}: every parameter and input entry, |analytic − numeric| ≤ 1e-7·(1 + |g|)`, () => {
      const c: TreeCase = { kind, X: 3, H: 4, sizes: [3, 1, 4], seed: 6 };
      const random = seededRandom(600 + TREE_KINDS.indexOf(kind));
      const shapes = parameterShapes(kind, c.X, c.H);
      const params: Record<string, Float64Array> = Object.fromEntries(
        Object.entries(randomParams(shapes, random, 0.8)).map(([name, v]) => [name, Float64Array.from(v)]));
      const parents = randomTrees(kind, c.sizes, random);
      const trees = parents.map((p) => ({ parents: p, x: Float64Array.from(uniformArray(random, p.length * c.X)) }));
      const dh = parents.map((p) => uniformArray(random, p.length * c.H));
      const dc = kind === 'TreeRNN' ? null : parents.map((p) => uniformArray(random, p.length * c.H));
      const analytic = referenceBackward(kind, params, c.X, c.H, trees, referenceForward(kind, params, c.X, c.H, trees), dh, dc);
      const step = 1e-6;
      const numeric = (values: Float64Array, i: number): number => {
        const saved = values[i];
        values[i] = saved + step;
        const plus = referenceLoss(kind, params, c.X, c.H, trees, dh, dc);
        values[i] = saved - step;
        const minus = referenceLoss(kind, params, c.X, c.H, trees, dh, dc);
        values[i] = saved;
        return (plus - minus) / (2 * step);
      };
      for (const name of Object.keys(params)) {
        const expected = Float64Array.from(params[name], (_, i) => numeric(params[name], i));
        expectClose(`d${name}`, analytic.grads[name], expected, (i) => 1e-7 * (1 + Math.abs(expected[i])));
      }
      trees.forEach((tree, b) => {
        const expected = Float64Array.from(tree.x, (_, i) => numeric(tree.x, i));
        expectClose(`dx[${b}]`, analytic.x[b], expected, (i) => 1e-7 * (1 + Math.abs(expected[i])));
      });
    });
  }

  it('classifier head: embedding, tree and classifier parameters', () => {
    const X = 3, H = 4, C = 3, V = 5;
    const random = seededRandom(700);
    const shapes = { embedding: [V, X], ...parameterShapes('BinaryTreeLSTM', X, H), W_cls: [C, H], b_cls: [C] };
    const params: Record<string, Float64Array> = Object.fromEntries(
      Object.entries(randomParams(shapes, random, 0.8)).map(([name, v]) => [name, Float64Array.from(v)]));
    const trees: ClassifierTree[] = [
      { parents: [-1, 0, 0, 2, 2], tokens: [-1, 1, -1, 4, 0], labels: [2, 0, -1, 1, 1] },
      { parents: [-1], tokens: [3], labels: [0] },
    ];
    const analytic = referenceClassifier('BinaryTreeLSTM', params, X, H, C, trees);
    const step = 1e-6;
    for (const name of Object.keys(params)) {
      const values = params[name];
      const expected = Float64Array.from(values, (_, i) => {
        const saved = values[i];
        values[i] = saved + step;
        const plus = referenceClassifier('BinaryTreeLSTM', params, X, H, C, trees).loss;
        values[i] = saved - step;
        const minus = referenceClassifier('BinaryTreeLSTM', params, X, H, C, trees).loss;
        values[i] = saved;
        return (plus - minus) / (2 * step);
      });
      expectClose(`d${name}`, analytic.grads[name], expected, (i) => 1e-7 * (1 + Math.abs(expected[i])));
    }
  });
});

describe(`the float32 model against central differences of its own loss (${process.env.LOOPTREE_SIMD} build)`, () => {
  for (const kind of TREE_KINDS) {
    it(`${kind}: a sample of every parameter's entries and of x, step 1e-2, |analytic − numeric| ≤ 2e-3·(1 + |g|)`, () => {
      const c: TreeCase = { kind, X: 6, H: 5, sizes: [4, 3], seed: 8 };
      const { params, shapes, trees, x, dh, dc, module } = setup(c);
      module.forward(trees, x, { train: true });
      const { x: dx } = module.backward({ h: dh, c: dc });
      const grads = module.grads();
      const loss = (): number => {
        const out = module.forward(trees, x);
        let sum = 0;
        out.h.forEach((h, b) => h.data.forEach((v, i) => (sum += v * dh[b].data[i])));
        out.c?.forEach((cs, b) => cs.data.forEach((v, i) => (sum += v * dc![b].data[i])));
        return sum;
      };
      const step = 1e-2;
      const central = (values: Float32Array, i: number, reload: () => void): number => {
        const saved = values[i];
        values[i] = saved + step;
        reload();
        const plus = loss();
        values[i] = saved - step;
        reload();
        const minus = loss();
        values[i] = saved;
        reload();
        return (plus - minus) / (2 * step);
      };
      const random = seededRandom(800);
      for (const name of Object.keys(params)) {
        for (let sample = 0; sample < 4; sample++) {
          const i = Math.floor(random() * params[name].length);
          const numeric = central(params[name], i, () => module.loadStateDict(toStateDict(params, shapes)));
          expect(Math.abs(grads[name].data[i] - numeric), `d${name}[${i}]: ${grads[name].data[i]} vs ${numeric}`)
            .toBeLessThanOrEqual(2e-3 * (1 + Math.abs(numeric)));
        }
      }
      for (let sample = 0; sample < 4; sample++) {
        const b = sample % trees.length, i = Math.floor(random() * x[b].data.length);
        const numeric = central(x[b].data, i, () => undefined);
        expect(Math.abs(dx[b].data[i] - numeric), `dx[${b}][${i}]: ${dx[b].data[i]} vs ${numeric}`)
          .toBeLessThanOrEqual(2e-3 * (1 + Math.abs(numeric)));
      }
      module.dispose();
    });
  }
});

describe(`training semantics (${process.env.LOOPTREE_SIMD} build)`, () => {
  for (const kind of TREE_KINDS) {
    it(`${kind}: gradients accumulate over backward calls until zeroGrad(); trees batched = trees alone`, () => {
      const { trees, x, dh, dc, module } = setup({ kind, X: 5, H: 6, sizes: [5, 2, 7], seed: 9 });
      module.forward(trees, x, { train: true });
      module.backward({ h: dh, c: dc });
      const once = module.grads();
      module.forward(trees, x, { train: true });
      module.backward({ h: dh, c: dc });
      const twice = module.grads();
      for (const name of Object.keys(once)) {
        expectClose(`2 × grad ${name}`, twice[name].data, once[name].data.map((v) => 2 * v), (i) => 1e-6 * (1 + Math.abs(once[name].data[i])));
      }
      module.zeroGrad();
      for (const [name, grad] of Object.entries(module.grads())) expect(grad.data.every((v) => v === 0), `zeroed ${name}`).toBe(true);

      const batched = module.forward(trees, x);
      trees.forEach((tree, b) => {
        const alone = module.forward([tree], [x[b]]);
        expectClose(`h of tree ${b} alone`, alone.h[0].data, batched.h[b].data, 1e-6);
        if (kind !== 'TreeRNN') expectClose(`c of tree ${b} alone`, alone.c![0].data, batched.c![b].data, 1e-6);
      });
      // An inference forward between a training forward and its backward leaves the tape alone.
      module.zeroGrad();
      module.forward(trees, x, { train: true });
      module.forward([trees[1]], [x[1]]);
      module.backward({ h: dh, c: dc });
      for (const name of Object.keys(once)) expectClose(`grad ${name} after an interleaved forward`, module.grads()[name].data, once[name].data, 0);
      module.dispose();
    });
  }

  for (const kind of TREE_KINDS) {
    it(`${kind}: parameters() are the state dict's names, shapes and gradients; an SGD step (in place, then parametersChanged) is what forward sees`, () => {
      const { shapes, trees, x, dh, dc, module } = setup({ kind, X: 4, H: 3, sizes: [3, 2], seed: 10 });
      const parameters = module.parameters();
      expect(parameters.map((p) => p.name)).toEqual(Object.keys(shapes));
      expect(parameters.map((p) => [...p.shape])).toEqual(Object.values(shapes));
      module.forward(trees, x, { train: true });
      module.backward({ h: dh, c: dc });
      const grads = module.grads();
      for (const p of parameters) expect(p.grad().data).toEqual(grads[p.name].data);
      const before = module.stateDict();
      const lr = 0.25;
      new SGD(parameters, { lr }).step();
      const after = module.stateDict();
      for (const name of Object.keys(shapes)) {
        expectClose(`${name} after the step`, after[name].data, before[name].data.map((v, i) => v - lr * grads[name].data[i]), 1e-7);
      }
      const fresh = new constructors[kind]({ inputSize: 4, hiddenSize: 3 });
      fresh.loadStateDict(after);
      const expected = fresh.forward(trees, x);
      const actual = module.forward(trees, x);
      actual.h.forEach((h, b) => expectClose(`h[${b}]`, h.data, expected.h[b].data, 0));
      fresh.dispose();
      module.dispose();
    });
  }
});

describe(`TreeClassifier training (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('an SGD step over parameters() moves every parameter (embedding and classifier included) by −lr·grad, and forward sees it', () => {
    const model = new TreeClassifier({ model: 'BinaryTreeLSTM', inputSize: 3, hiddenSize: 4, numClasses: 3, vocabSize: 5 });
    const trees = [Tree.fromParents([-1, 0, 0, 2, 2]), Tree.fromParents([-1])];
    const tokens = [[-1, 1, -1, 4, 0], [3]];
    const labels = [[2, 0, -1, 1, 1], [0]];
    const first = model.forward(trees, tokens, { labels, train: true });
    model.backward();
    const grads = model.grads();
    const before = model.stateDict();
    const lr = 0.1;
    new SGD(model.parameters(), { lr }).step();
    const after = model.stateDict();
    for (const name of Object.keys(before)) {
      expectClose(`${name} after the step`, after[name].data, before[name].data.map((v, i) => v - lr * grads[name].data[i]), 1e-7);
    }
    const fresh = new TreeClassifier({ model: 'BinaryTreeLSTM', inputSize: 3, hiddenSize: 4, numClasses: 3, vocabSize: 5 });
    fresh.loadStateDict(after);
    const expected = fresh.forward(trees, tokens, { labels });
    const actual = model.forward(trees, tokens, { labels });
    expect(actual.loss).toBe(expected.loss);
    expect(actual.loss!).toBeLessThan(first.loss!);
    fresh.dispose();
    model.dispose();
  });
});

describe(`TreeClassifier vs the float64 reference (${process.env.LOOPTREE_SIMD} build)`, () => {
  for (const kind of TREE_KINDS) {
    it(`${kind}: log-probs, loss, and gradients of every parameter (labels −1 left out of the loss)`, () => {
      const X = 7, H = 9, C = 5, V = 11;
      const random = seededRandom(900 + TREE_KINDS.indexOf(kind));
      const shapes = { embedding: [V, X], ...parameterShapes(kind, X, H), W_cls: [C, H], b_cls: [C] };
      const params = randomParams(shapes, random, 0.7);
      const parents = randomTrees(kind, [4, 1, 6], random);
      const trees: ClassifierTree[] = parents.map((p) => ({
        parents: p,
        tokens: p.map((_, j) => (p.includes(j) && kind !== 'ChildSumTreeLSTM' ? -1 : Math.floor(random() * V))),
        labels: p.map(() => Math.floor(random() * (C + 1)) - 1),
      }));
      const model = new TreeClassifier({ model: kind, inputSize: X, hiddenSize: H, numClasses: C, vocabSize: V });
      model.loadStateDict(toStateDict(params, shapes));
      const result = model.forward(parents.map((p) => Tree.fromParents(p)), trees.map((t) => t.tokens), { labels: trees.map((t) => t.labels), train: true });
      const reference = referenceClassifier(kind, params, X, H, C, trees);
      trees.forEach((_, b) => expectClose(`logProbs[${b}]`, result.logProbs[b].data, reference.logProbs[b], OUTPUT_BOUND(reference.logProbs[b])));
      expect(Math.abs(result.loss! - reference.loss)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(reference.loss)));
      model.backward();
      const grads = model.grads();
      expect(Object.keys(grads)).toEqual(Object.keys(shapes));
      for (const name of Object.keys(shapes)) expectClose(`grad ${name}`, grads[name].data, reference.grads[name], GRAD_BOUND(reference.grads[name]));
      model.dispose();
    });
  }
});
