// Every tree fixture (test/fixtures/tree, PyTorch 1.13.1): h and c of every node, h at the roots, and every
// gradient (x per tree and each parameter; for the sentiment cases log-probs, the loss and all parameter
// gradients including the embedding and the classifier), in this project's SIMD build; the tree models' forward
// bitwise the same at 1 and 2 threads.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  BinaryTreeLSTM, ChildSumTreeLSTM, Tensor, Tree, TreeClassifier, TreeRNN, backendInfo, init, parseTree, threadsReady, type TreeModule,
} from '../dist/index.js';
import { expectClose, listFixtures, loadFixture, simdUnderTest, type FixtureTensor, type Tolerance } from './helpers/fixtures.js';
import { acrossThreadCounts, expectBitwiseEqual } from './helpers/threads.js';

type ModelKind = 'TreeRNN' | 'ChildSumTreeLSTM' | 'BinaryTreeLSTM';

interface TreeFixture {
  name: string;
  module: ModelKind | `sentiment:${ModelKind}`;
  config: { inputSize: number; hiddenSize: number; numClasses?: number; vocabSize?: number };
  params: Record<string, FixtureTensor>;
  inputs: {
    trees: Array<{ parents: number[]; x?: FixtureTensor; labels?: number[]; tokens?: number[] }>;
    sentences?: string[];
    vocab?: string[];
  };
  outputs: {
    trees: Array<{ h: FixtureTensor; c?: FixtureTensor; log_probs?: FixtureTensor }>;
    roots?: number[];
    h_root?: FixtureTensor;
    loss?: number;
  };
  grads: Record<string, unknown> & { seed?: FixtureTensor; x?: FixtureTensor[]; tolerance: Tolerance };
  tolerance: Tolerance;
}

const constructors = { TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM };

const names = listFixtures('tree');

/** Rows `row` of every [n, H] tensor, stacked: the fixture's h_root layout. */
function rowsOf(tensors: Tensor[], rows: number[]): { shape: number[]; data: Float32Array } {
  const width = tensors[0].shape[1];
  const data = new Float32Array(rows.length * width);
  rows.forEach((row, b) => data.set(tensors[b].data.subarray(row * width, (row + 1) * width), b * width));
  return { shape: [rows.length, width], data };
}

function checkParameterGrads(grads: Record<string, Tensor>, fixture: TreeFixture): void {
  const paramNames = Object.keys(fixture.params);
  expect(Object.keys(grads).sort()).toEqual([...paramNames].sort());
  for (const name of paramNames) expectClose(`grad ${name}`, grads[name], fixture.grads[name] as FixtureTensor, fixture.grads.tolerance);
}

function runTreeModel(fixture: TreeFixture): void {
  const kind = fixture.module as ModelKind;
  const { inputSize, hiddenSize } = fixture.config; // the config also documents the child order, not an option
  const module: TreeModule = new constructors[kind]({ inputSize, hiddenSize });
  module.loadStateDict(fixture.params);
  const trees = fixture.inputs.trees.map((t) => Tree.fromParents(t.parents));
  const x = fixture.inputs.trees.map((t) => t.x!);
  expect(trees.map((t) => t.root)).toEqual(fixture.outputs.roots);

  // At 1 thread and at 2 (every call split: child-sum levels split their nodes): bitwise the same; the 2-thread
  // result against PyTorch, and its tape feeds the backward.
  const { one, two: result } = acrossThreadCounts(() => module.forward(trees, x, { train: true }));
  const states = (r: typeof result) => Object.fromEntries([...r.h.map((t, b) => [`h[${b}]`, t.data]), ...(r.c ?? []).map((t, b) => [`c[${b}]`, t.data])]);
  expectBitwiseEqual(states(one), states(result));
  fixture.outputs.trees.forEach((expected, b) => {
    expectClose(`trees[${b}].h`, result.h[b], expected.h, fixture.tolerance);
    if (expected.c) expectClose(`trees[${b}].c`, result.c![b], expected.c, fixture.tolerance);
  });
  if (kind === 'TreeRNN') expect(result.c).toBeUndefined();
  expectClose('h_root', rowsOf(result.h, fixture.outputs.roots!), fixture.outputs.h_root!, fixture.tolerance);

  // loss = Σ_b h_b[root_b] · seed[b]: dLoss/dh is the seed row at each root, zero elsewhere.
  const H = fixture.config.hiddenSize;
  const seed = fixture.grads.seed!;
  const dh = trees.map((tree, b) => {
    const data = new Float32Array(tree.size * H);
    data.set(seed.data.slice(b * H, (b + 1) * H), tree.root * H);
    return new Tensor(data, [tree.size, H]);
  });
  const { x: dx } = module.backward({ h: dh });
  fixture.grads.x!.forEach((expected, b) => expectClose(`grad x[${b}]`, dx[b], expected, fixture.grads.tolerance));
  checkParameterGrads(module.grads(), fixture);

  // Same input, same build: bitwise-identical output.
  const again = module.forward(trees, x);
  again.h.forEach((h, b) => expect(h.data).toEqual(result.h[b].data));
  module.dispose();
}

function runSentiment(fixture: TreeFixture): void {
  const kind = fixture.module.slice('sentiment:'.length) as ModelKind;
  const { inputSize, hiddenSize, numClasses, vocabSize } = fixture.config;
  const model = new TreeClassifier({ model: kind, inputSize, hiddenSize, numClasses: numClasses!, vocabSize: vocabSize! });
  model.loadStateDict(fixture.params);

  // The sentences parse to the fixture's trees: pre-order parents, labels, and tokens through the vocabulary.
  const vocab = fixture.inputs.vocab!;
  fixture.inputs.sentences!.forEach((sentence, b) => {
    const parsed = parseTree(sentence);
    const expected = fixture.inputs.trees[b];
    expect(Array.from(parsed.tree.parents())).toEqual(expected.parents);
    expect(Array.from(parsed.labels)).toEqual(expected.labels);
    expect(parsed.tokens.map((word) => (word === null ? -1 : vocab.indexOf(word)))).toEqual(expected.tokens);
  });

  const trees = fixture.inputs.trees.map((t) => Tree.fromParents(t.parents));
  const tokens = fixture.inputs.trees.map((t) => t.tokens!);
  const labels = fixture.inputs.trees.map((t) => t.labels!);
  const result = model.forward(trees, tokens, { labels, train: true });
  fixture.outputs.trees.forEach((expected, b) => {
    expectClose(`trees[${b}].h`, result.h[b], expected.h, fixture.tolerance);
    if (expected.c) expectClose(`trees[${b}].c`, result.c![b], expected.c, fixture.tolerance);
    expectClose(`trees[${b}].log_probs`, result.logProbs[b], expected.log_probs!, fixture.tolerance);
  });
  const { atol, rtol } = fixture.tolerance;
  expect(Math.abs(result.loss! - fixture.outputs.loss!), `loss ${result.loss} vs ${fixture.outputs.loss}`)
    .toBeLessThanOrEqual(atol + rtol * Math.abs(fixture.outputs.loss!));

  model.backward();
  checkParameterGrads(model.grads(), fixture);
  model.dispose();
}

beforeAll(async () => {
  await init({ simd: simdUnderTest(), threads: 2 });
  await threadsReady();
});

describe(`tree fixtures (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('runs the requested SIMD build', () => {
    expect(backendInfo().simd).toBe(simdUnderTest());
  });

  it('has the fixture set', () => {
    expect(names.length).toBeGreaterThanOrEqual(8);
  });

  for (const name of names) {
    it(name, () => {
      const fixture = loadFixture<TreeFixture>('tree', name);
      if (fixture.module.startsWith('sentiment:')) runSentiment(fixture);
      else runTreeModel(fixture);
    });
  }
});
