// quantizeDynamic of the tree models (TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM) in the build under test, on random
// trees (shuffled node order, many children, several trees per call, awkward X and H): against (1) the float64
// reference of the SAME quantization (test/reference/tree.ts with the dequantized weights and every multiplied
// vector — x, the children's sum or pair, a child's h under U_f — quantized per row, reference/quantized.ts), equal
// up to float rounding except where an f32 vs float64 difference flips one activation's rounding, hence 2e-3;
// (2) the f32 module within the quantization error (5e-2 on these random models with the default init's scale,
// U(−1/√H, 1/√H); W6's is measured by bench/int8.mjs);
// and the API: output 'roots', state dict codes and scales equal to the reference quantizer's, biases f32, load
// round trip, safetensors files, the original untouched, no f32 weights held, training refused; TreeClassifier.quantize
// against its parts quantized by hand.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError, BinaryTreeLSTM, ChildSumTreeLSTM, Linear, QuantizedBinaryTreeLSTM, QuantizedChildSumTreeLSTM, QuantizedTreeRNN, StateDictError, Tensor, Tree,
  TreeClassifier, TreeRNN, backendInfo, init, isQuantized, loadQuantized, logSoftmax, manualSeed, quantizeDynamic, saveQuantized, type TreeModule,
} from '../dist/index.js';
import { expectClose } from './helpers/compare.js';
import { simdUnderTest } from './helpers/fixtures.js';
import { core } from './helpers/kernels.js';
import { seededRandom, uniformArray } from './helpers/random.js';
import { TREE_KINDS, parameterShapes, randomParams, randomTrees, toStateDict, type TreeCase } from './helpers/trees.js';
import { quantizeRow, quantizeWeight } from './reference/quantized.js';
import { referenceForward, type TreeKind } from './reference/tree.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

/** The build's activation levels (63 relaxed: its dot product's 7-bit operand; 127 baseline), from its Wasm core. */
const ACTIVATION_LEVELS = core.int8ActivationLevels();
/** Bytes of a packed int8 weight element: i8 in the relaxed build, i16 in the baseline (assembly/quantized.ts). */
const WEIGHT_BYTES = simdUnderTest() === 'relaxed' ? 1 : 2;

const CONSTRUCTORS = { TreeRNN, ChildSumTreeLSTM, BinaryTreeLSTM };
const QUANTIZED = { TreeRNN: QuantizedTreeRNN, ChildSumTreeLSTM: QuantizedChildSumTreeLSTM, BinaryTreeLSTM: QuantizedBinaryTreeLSTM };

const CASES: TreeCase[] = [
  ...TREE_KINDS.map((kind) => ({ kind, X: 3, H: 5, sizes: [1, 2, 4], seed: 1 })),
  ...TREE_KINDS.map((kind) => ({ kind, X: 17, H: 13, sizes: [12, 1, 20], seed: 2 })),
  ...TREE_KINDS.map((kind) => ({ kind, X: 40, H: 33, sizes: Array.from({ length: 24 }, (_, i) => 5 + (i * 7) % 19), seed: 3 })),
  ...TREE_KINDS.map((kind) => ({ kind, X: 7, H: 1, sizes: [1, 3, 6], seed: 4 })),
];

function setup(c: TreeCase) {
  const random = seededRandom(c.seed * 1000 + TREE_KINDS.indexOf(c.kind) + 500);
  const shapes = parameterShapes(c.kind, c.X, c.H);
  const params = randomParams(shapes, random, 1 / Math.sqrt(c.H));
  const parents = randomTrees(c.kind, c.sizes, random);
  const trees = parents.map((p) => Tree.fromParents(p));
  const x = parents.map((p) => new Tensor(uniformArray(random, p.length * c.X), [p.length, c.X]));
  const module: TreeModule = new CONSTRUCTORS[c.kind]({ inputSize: c.X, hiddenSize: c.H });
  module.loadStateDict(toStateDict(params, shapes));
  return { shapes, params, parents, trees, x, module };
}

/** The per-row quantization of a vector, dequantized (what the kernels multiply). */
function quantizeVector(v: ArrayLike<number>): Float64Array {
  const { scale, q } = quantizeRow(Float32Array.from(v), ACTIVATION_LEVELS);
  return Float64Array.from(q, (value) => value * scale);
}

describe(`quantizeDynamic of the tree models, int8 (${simdUnderTest()} build)`, () => {
  for (const c of CASES) {
    it(`${c.kind} X=${c.X} H=${c.H}, ${c.sizes.length} trees: the reference of the same quantization, f32 within the quantization error`, () => {
      const { shapes, params, parents, trees, x, module } = setup(c);
      const quantized = quantizeDynamic(module, { dtype: 'int8' });
      expect(isQuantized(quantized)).toBe(true);
      expect(quantized).toBeInstanceOf(QUANTIZED[c.kind]);

      // The state dict: the reference quantizer's codes and scales for every weight matrix, the biases as they were.
      const dict = quantized.stateDict();
      const dequantized: Record<string, Float64Array> = {};
      const expectedKeys: string[] = [];
      for (const [name, shape] of Object.entries(shapes)) {
        expectedKeys.push(name);
        if (shape.length === 2) {
          expectedKeys.push(`${name}.scale`);
          const reference = quantizeWeight(params[name], shape[0], shape[1]);
          expect(Array.from(dict[name].data), `${name} codes`).toEqual(Array.from(reference.q));
          expect(dict[name].shape).toEqual(shape);
          expect(Array.from(dict[`${name}.scale`].data), `${name}.scale`).toEqual(Array.from(reference.scales));
          dequantized[name] = Float64Array.from(reference.q, (q, i) => q * reference.scales[Math.floor(i / shape[1])]);
        } else {
          expect(Array.from(dict[name].data), name).toEqual(Array.from(params[name]));
          dequantized[name] = Float64Array.from(params[name]);
        }
      }
      expect(Object.keys(dict)).toEqual(expectedKeys);

      const got = quantized.forward(trees, x);
      const f32 = module.forward(trees, x);
      const expected = referenceForward(c.kind, dequantized, c.X, c.H, parents.map((p, b) => ({ parents: p, x: x[b].data })), quantizeVector);
      trees.forEach((tree, b) => {
        expectClose(`h[${b}] vs the same quantization in float64`, got.h[b].data, expected.h[b], 2e-3);
        expectClose(`h[${b}] vs f32`, got.h[b].data, f32.h[b].data, 5e-2);
        if (c.kind === 'TreeRNN') expect(got.c).toBeUndefined();
        else {
          expectClose(`c[${b}] vs the same quantization in float64`, got.c![b].data, expected.c[b], 2e-3);
          expectClose(`c[${b}] vs f32`, got.c![b].data, f32.c![b].data, 5e-2);
        }
      });
      // output 'roots': each root's row of the full result.
      const roots = quantized.forward(trees, x, { output: 'roots' });
      trees.forEach((tree, b) => {
        expect(Array.from(roots.h[b].data), `root h[${b}]`).toEqual(Array.from(got.h[b].data.subarray(tree.root * c.H, (tree.root + 1) * c.H)));
        if (roots.c) expect(Array.from(roots.c[b].data), `root c[${b}]`).toEqual(Array.from(got.c![b].data.subarray(tree.root * c.H, (tree.root + 1) * c.H)));
      });
      // The original is untouched.
      const after = module.stateDict();
      for (const [name, data] of Object.entries(params)) expect(after[name].data, name).toEqual(data);
      quantized.dispose();
      module.dispose();
    });
  }

  it(`holds int8 weights and f32 biases only: Wasm heap ${WEIGHT_BYTES} bytes a weight (+ scales, biases), parameters are the biases`, () => {
    const X = 96, H = 128;
    const module = new ChildSumTreeLSTM({ inputSize: X, hiddenSize: H });
    const quantized = quantizeDynamic(module, { dtype: 'int8' });
    expect(Object.keys(quantized.parameterShapes())).toEqual(['b_iou', 'b_f']);
    expect(quantized.parameters().map((p) => p.name)).toEqual(['b_iou', 'b_f']);
    // What dispose() frees: the f32 module holds each weight 3 times (values, packed, packed transpose: 12 bytes);
    // the int8 one a blob of WEIGHT_BYTES-byte codes (packInt8Weight) and row scales (and corrections). W_iou 3H·X, U_iou 3H·H, W_f H·X, U_f H·H.
    const weights = 4 * H * X + 4 * H * H;
    const held = (m: { dispose(): void }) => {
      const before = backendInfo().heapBytes;
      m.dispose();
      return before - backendInfo().heapBytes;
    };
    const int8Bytes = held(quantized), f32Bytes = held(module);
    expect(int8Bytes, `int8 module: ${int8Bytes} bytes for ${weights} weights`).toBeGreaterThanOrEqual(WEIGHT_BYTES * weights);
    expect(int8Bytes).toBeLessThan(WEIGHT_BYTES * weights + 16 * 8 * H * 4);
    expect(f32Bytes, `f32 module: ${f32Bytes} bytes`).toBeGreaterThanOrEqual(12 * weights);
  });

  it('loads its state dict into a new module and through safetensors files (I8 codes), forward identical', () => {
    for (const kind of TREE_KINDS) {
      const { trees, x, module } = setup({ kind, X: 6, H: 7, sizes: [5, 3], seed: 9 });
      const quantized = quantizeDynamic(module, { dtype: 'int8' });
      const expected = quantized.forward(trees, x);
      const copy = new QUANTIZED[kind]({ inputSize: 6, hiddenSize: 7 });
      expect(() => copy.forward(trees, x)).toThrow(/int8 weights are not loaded yet/);
      expect(copy.loadStateDict(quantized.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
      expect(copy.forward(trees, x).h.map((t) => Array.from(t.data)), kind).toEqual(expected.h.map((t) => Array.from(t.data)));

      const file = saveQuantized(quantized);
      const headerLength = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
      const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength)));
      const weightName = kind === 'TreeRNN' ? 'W' : 'U_iou';
      expect(header[weightName].dtype, kind).toBe('I8');
      expect(header[`${weightName}.scale`].dtype, kind).toBe('F32');
      expect(header.__metadata__['looptree.quantized.class']).toBe(`Quantized${kind}`);
      const loaded = loadQuantized(file);
      expect(loaded).toBeInstanceOf(QUANTIZED[kind]);
      const again = (loaded as typeof quantized).forward(trees, x);
      expect(again.h.map((t) => Array.from(t.data)), kind).toEqual(expected.h.map((t) => Array.from(t.data)));
      for (const m of [module, quantized, copy, loaded]) m.dispose();
    }
  });

  it('TreeClassifier.quantize (and quantizeDynamic of it): its parts quantized by hand give the same logProbs; f32 within the error', () => {
    for (const kind of TREE_KINDS) {
      manualSeed(31);
      const V = 11, X = 6, H = 9, C = 5;
      const model = new TreeClassifier({ model: kind, vocabSize: V, inputSize: X, hiddenSize: H, numClasses: C });
      const random = seededRandom(32);
      const parents = randomTrees(kind, [4, 1, 6], random);
      const trees = parents.map((p) => Tree.fromParents(p));
      const tokens = parents.map((p) => Array.from({ length: p.length }, (_, j) => (j % 3 === 2 ? -1 : Math.floor(random() * V))));
      const labels = parents.map((p) => Array.from({ length: p.length }, (_, j) => (j % 2 === 0 ? Math.floor(random() * C) : -1)));
      const before = model.stateDict();
      const small = model.quantize({ dtype: 'int8' });
      const viaFunction = quantizeDynamic(model, { dtype: 'int8' });
      const got = small.forward(trees, tokens, { labels });

      // By hand: the embedding rows (zeros for −1), the tree model and the classifier each quantized with quantizeDynamic.
      const tree = new CONSTRUCTORS[kind]({ inputSize: X, hiddenSize: H });
      const treeKeys = Object.keys(tree.parameterShapes());
      tree.loadStateDict(Object.fromEntries(treeKeys.map((key) => [key, before[key]])));
      const head = new Linear({ inFeatures: H, outFeatures: C });
      head.loadStateDict({ weight: before.W_cls, bias: before.b_cls });
      const [tree8, head8] = [quantizeDynamic(tree, { dtype: 'int8' }), quantizeDynamic(head, { dtype: 'int8' })];
      const xs = tokens.map((row) => {
        const x = new Float32Array(row.length * X);
        row.forEach((id, j) => { if (id >= 0) x.set(before.embedding.data.subarray(id * X, (id + 1) * X), j * X); });
        return new Tensor(x, [row.length, X]);
      });
      const { h } = tree8.forward(trees, xs);
      trees.forEach((_, b) => {
        const logProbs = logSoftmax(head8.forward(h[b]));
        expect(Array.from(got.logProbs[b].data), `${kind} logProbs[${b}]`).toEqual(Array.from(logProbs.data));
        expect(Array.from(got.h[b].data), `${kind} h[${b}]`).toEqual(Array.from(h[b].data));
      });
      const f32 = model.forward(trees, tokens, { labels });
      trees.forEach((_, b) => expectClose(`${kind} logProbs[${b}] vs f32`, got.logProbs[b].data, f32.logProbs[b].data, 5e-2));
      expect(Math.abs(got.loss! - f32.loss!), `${kind} loss ${got.loss} vs f32 ${f32.loss}`).toBeLessThan(0.05);
      expect(viaFunction.forward(trees, tokens).logProbs.map((t) => Array.from(t.data))).toEqual(got.logProbs.map((t) => Array.from(t.data)));

      // Its state dict: the int8 codes and scales under the classifier's own names; the original untouched.
      const dict = small.stateDict();
      expect(Object.keys(dict).sort()).toEqual([...Object.keys(before), 'W_cls.scale', ...treeKeys.filter((key) => before[key].shape.length === 2).map((key) => `${key}.scale`)].sort());
      expect(Array.from(dict.W_cls.data)).toEqual(Array.from(head8.stateDict().weight.data));
      expect(Array.from(dict['W_cls.scale'].data)).toEqual(Array.from(head8.stateDict()['weight.scale'].data));
      expect(Array.from(dict.embedding.data)).toEqual(Array.from(before.embedding.data));
      const after = model.stateDict();
      for (const [name, t] of Object.entries(before)) expect(after[name].data, name).toEqual(t.data);

      expect(() => small.forward(trees, tokens, { labels, train: true })).toThrow(/inference-only/);
      expect(() => small.backward()).toThrow(ArgumentError);
      expect(() => small.loadStateDict(dict)).toThrow(/int8 model \(quantize\(\)\) does not load state dicts/);
      expect(() => model.quantize({ dtype: 'int4' } as never)).toThrow(/dtype must be 'int8'/);
      for (const m of [model, small, viaFunction, tree, head, tree8, head8]) m.dispose();
    }
  });

  it('refuses training, bad int8 weights (leaving the module as it was) and a second quantization', () => {
    const { trees, x, module } = setup({ kind: 'BinaryTreeLSTM', X: 4, H: 5, sizes: [3], seed: 11 });
    const quantized = quantizeDynamic(module, { dtype: 'int8' });
    const before = quantized.forward(trees, x).h[0].data;
    expect(() => quantized.forward(trees, x, { train: true })).toThrow(/inference-only/);
    expect(() => quantized.backward({ h: [new Tensor(new Float32Array(5 * 5), [5, 5])] })).toThrow(ArgumentError);
    expect(() => quantized.forward(trees, x, { ouptut: 'roots' } as never)).toThrow(/ouptut/);
    expect(() => quantizeDynamic(quantized, { dtype: 'int8' })).toThrow(/already quantized/);
    const dict = quantized.stateDict();
    expect(() => quantized.loadStateDict({ ...dict, U_f: new Tensor(dict.U_f.data.map((v, i) => (i === 2 ? 128 : v)), dict.U_f.shape) }))
      .toThrow(/U_f must hold integers in \[−127, 127\], got 128 at index 2/);
    expect(() => quantized.loadStateDict({ ...dict, U_f: new Tensor(new Float32Array(5 * 10), [5, 10]), 'U_f.scale': new Tensor(new Float32Array(5), [5]) }))
      .toThrow(/size mismatch for "U_f": expected \[10, 10\], got \[5, 10\]/);
    const { ['W_f.scale']: _dropped, ...withoutScale } = dict;
    expect(() => quantized.loadStateDict(withoutScale)).toThrow(/W_f needs its row scales W_f\.scale/);
    const { W_f: _w, ['W_f.scale']: _s, ...withoutWeight } = dict;
    expect(() => quantized.loadStateDict(withoutWeight)).toThrow(StateDictError);
    expect(() => quantized.loadStateDict({ ...dict, b_f: new Tensor(new Float32Array(5).fill(NaN), [5]), U_f: new Tensor(new Float32Array(100), [10, 10]) }))
      .toThrow(/non-finite/);
    expect(quantized.forward(trees, x).h[0].data, 'a failed load leaves the module as it was').toEqual(before);
    expect(quantized.loadStateDict(withoutWeight, { strict: false }).missingKeys).toEqual(['W_f']);
    expect(quantized.forward(trees, x).h[0].data, 'W_f kept').toEqual(before);
    quantized.dispose();
    expect(() => quantized.forward(trees, x)).toThrow(/after dispose/);
    module.dispose();
  });
});
