// A module's seeded initialization is reserved at construction and drawn on first use (bindings/nn/parameters.ts):
// the values must be, bit for bit, the generator's draws in state-dict order (seededRandom from the seed, the
// reference the fillUniform kernel test checks the Wasm against), whenever and however they are first used, the
// generator must advance at construction as if they were drawn, and a load that replaces every parameter must leave
// exactly the loaded values.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  ChildSumTreeLSTM, DisposedError, GRU, LSTM, Linear, RNN, StateDictError, Tensor, Tree, TreeRNN, init, manualSeed, seededRandom,
  type TensorLike,
} from '../dist/index.js';
import { floatBits } from './helpers/compare.js';
import { simdUnderTest } from './helpers/fixtures.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

interface Initialized {
  stateDict(): Record<string, Tensor>;
  parameterShapes(): Record<string, number[]>;
  loadStateDict(dict: Record<string, TensorLike>, opts?: { strict?: boolean }): unknown;
  resetParameters(): void;
  dispose(): void;
}

const SEED = 1234;

/** The modules whose constructors initialize ~ U(−bound, bound), with their bound. */
const CASES: Array<{ name: string; make: () => Initialized; bound: number }> = [
  { name: 'LSTM 2 layers bidirectional, projSize', make: () => new LSTM({ inputSize: 5, hiddenSize: 6, numLayers: 2, bidirectional: true, projSize: 3 }), bound: 1 / Math.sqrt(6) },
  { name: 'GRU', make: () => new GRU({ inputSize: 4, hiddenSize: 7 }), bound: 1 / Math.sqrt(7) },
  { name: 'RNN without bias', make: () => new RNN({ inputSize: 3, hiddenSize: 5, bias: false }), bound: 1 / Math.sqrt(5) },
  { name: 'ChildSumTreeLSTM', make: () => new ChildSumTreeLSTM({ inputSize: 4, hiddenSize: 5 }), bound: 1 / Math.sqrt(5) },
  { name: 'Linear', make: () => new Linear({ inFeatures: 6, outFeatures: 3 }), bound: 1 / Math.sqrt(6) },
];

const countOf = (module: Initialized) => Object.values(module.parameterShapes()).reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0);

/** The reference: `skip` draws of seededRandom(SEED) passed over, then each parameter's (u·2 − 1)·bound in state-dict order, as float32. */
function expectedDict(module: Initialized, bound: number, skip: number): Record<string, Float32Array> {
  const random = seededRandom(SEED);
  for (let i = 0; i < skip; i++) random();
  return Object.fromEntries(Object.entries(module.parameterShapes()).map(([name, shape]) => [
    name, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (random() * 2 - 1) * bound),
  ]));
}

function expectDictBits(actual: Record<string, Tensor>, expected: Record<string, Float32Array>): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [name, values] of Object.entries(expected)) {
    expect(floatBits(actual[name].data), name).toEqual(floatBits(values));
  }
}

/** A dict of the module's shapes with values unlike any draw (i·0.01 − 0.3). */
function otherDict(module: Initialized): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(module.parameterShapes()).map(([name, shape]) => [
    name, new Tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i * 0.01 - 0.3), shape),
  ]));
}

describe(`seeded initialization drawn on first use (${simdUnderTest()} build)`, () => {
  for (const { name, make, bound } of CASES) {
    describe(name, () => {
      it('first used after a later module: each holds its own draws, in construction order', () => {
        manualSeed(SEED);
        const first = make();
        const second = make();
        const n = countOf(first);
        // The second is used first: its values follow the first's draws, which the first has not made yet.
        expectDictBits(second.stateDict(), expectedDict(second, bound, n));
        expectDictBits(first.stateDict(), expectedDict(first, bound, 0));
        const third = make();
        expectDictBits(third.stateDict(), expectedDict(third, bound, 2 * n));
        for (const m of [first, second, third]) m.dispose();
      });

      it('a load of every parameter leaves the loaded values, and the generator where the draws would have left it', () => {
        manualSeed(SEED);
        const loaded = make();
        const dict = otherDict(loaded);
        loaded.loadStateDict(dict);
        expectDictBits(loaded.stateDict(), Object.fromEntries(Object.entries(dict).map(([k, t]) => [k, t.data])));
        const next = make();
        expectDictBits(next.stateDict(), expectedDict(next, bound, countOf(loaded)));
        loaded.dispose();
        next.dispose();
      });

      it('a partial load (strict: false) keeps the draws of the parameters it does not name', () => {
        manualSeed(SEED);
        const module = make();
        const dict = otherDict(module);
        const [kept] = Object.keys(dict);
        delete dict[kept];
        module.loadStateDict(dict, { strict: false });
        const expected = { ...Object.fromEntries(Object.entries(dict).map(([k, t]) => [k, t.data])), [kept]: expectedDict(module, bound, 0)[kept] };
        expectDictBits(module.stateDict(), Object.fromEntries(Object.keys(module.parameterShapes()).map((k) => [k, expected[k]])));
        module.dispose();
      });

      it('a rejected load of every key leaves the draws', () => {
        manualSeed(SEED);
        const module = make();
        const dict = otherDict(module);
        const [first] = Object.keys(dict);
        dict[first] = new Tensor(new Float32Array(dict[first].data.length).fill(Number.NaN), dict[first].shape);
        expect(() => module.loadStateDict(dict)).toThrow(StateDictError);
        expectDictBits(module.stateDict(), expectedDict(module, bound, 0));
        module.dispose();
      });

      it('resetParameters() before any use draws the next values, as an immediate fill would', () => {
        manualSeed(SEED);
        const module = make();
        module.resetParameters();
        const n = countOf(module);
        expectDictBits(module.stateDict(), expectedDict(module, bound, n));
        module.resetParameters(); // after a use: at once
        expectDictBits(module.stateDict(), expectedDict(module, bound, 2 * n));
        module.dispose();
      });

      it('a disposed module refuses a full load (nothing is written to freed memory)', () => {
        const module = make();
        const dict = otherDict(module);
        module.dispose();
        expect(() => module.loadStateDict(dict)).toThrow(DisposedError);
      });
    });
  }

  it('a forward before any load runs on the drawn values (= the same values loaded explicitly)', () => {
    const x = new Tensor(Float32Array.from({ length: 4 * 2 * 5 }, (_, i) => Math.sin(i * 0.7)), [4, 2, 5]);
    const options = { inputSize: 5, hiddenSize: 6, numLayers: 2, bidirectional: true, projSize: 3 };
    manualSeed(SEED);
    const lazy = new LSTM(options);
    const fromLazy = lazy.forward(x);
    const explicit = new LSTM(options);
    explicit.loadStateDict(Object.fromEntries(Object.entries(expectedDict(lazy, 1 / Math.sqrt(6), 0)).map(([k, v]) => [k, new Tensor(v, lazy.parameterShapes()[k])])));
    const fromExplicit = explicit.forward(x);
    expect(floatBits(fromLazy.output.data)).toEqual(floatBits(fromExplicit.output.data));
    expect(floatBits(fromLazy.h.data)).toEqual(floatBits(fromExplicit.h.data));
    lazy.dispose();
    explicit.dispose();
  });

  it('a stream and a tree forward before any load, and parameters() handles, see the draws', () => {
    manualSeed(SEED);
    const gru = new GRU({ inputSize: 3, hiddenSize: 4 });
    const stream = gru.stream();
    const step = stream.step(new Tensor(new Float32Array([0.5, -0.25, 1]), [1, 3]));
    const reference = new GRU({ inputSize: 3, hiddenSize: 4 });
    reference.loadStateDict(Object.fromEntries(Object.entries(expectedDict(gru, 0.5, 0)).map(([k, v]) => [k, new Tensor(v, gru.parameterShapes()[k])])));
    const referenceStep = reference.forward(new Tensor(new Float32Array([0.5, -0.25, 1]), [1, 1, 3])).h;
    expect(floatBits(step.data)).toEqual(floatBits(referenceStep.data));
    stream.dispose();

    manualSeed(SEED);
    const tree = new TreeRNN({ inputSize: 2, hiddenSize: 3 });
    const expected = expectedDict(tree, 1 / Math.sqrt(3), 0);
    const handles = (tree as unknown as { parameters(): Array<{ name: string; value(): Tensor }> }).parameters();
    for (const handle of handles) expect(floatBits(handle.value().data), handle.name).toEqual(floatBits(expected[handle.name]));
    const explicit = new TreeRNN({ inputSize: 2, hiddenSize: 3 });
    explicit.loadStateDict(Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, new Tensor(v, tree.parameterShapes()[k])])));
    manualSeed(SEED);
    const lazyTree = new TreeRNN({ inputSize: 2, hiddenSize: 3 });
    const t = Tree.fromParents([-1, 0, 0]);
    const xs = [new Tensor(new Float32Array([0.1, 0.2, -0.3, 0.4, 0.5, -0.6]), [3, 2])];
    expect(floatBits(lazyTree.forward([t], xs).h[0].data)).toEqual(floatBits(explicit.forward([t], xs).h[0].data));
    for (const m of [gru, reference, tree, explicit, lazyTree]) m.dispose();
  });
});
