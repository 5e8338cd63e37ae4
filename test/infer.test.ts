// looptree/infer (dist/infer.js): every PyTorch recurrent and tree fixture's forward through the inference-only entry,
// stream() against forward, state dicts from .safetensors files, its exports a subset of the full entry's with the same
// behaviour, and its bundle free of the training, Sequential, parser and importer modules.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as full from '../dist/index.js';
import * as infer from '../dist/infer.js';
import { expectClose, fixtureDir, listFixtures, loadFixture, simdUnderTest, type FixtureTensor, type Tolerance } from './helpers/fixtures.js';

interface TorchFixture {
  module: 'RNN' | 'LSTM' | 'GRU';
  config: Record<string, unknown>;
  params: Record<string, FixtureTensor>;
  inputs: { input: FixtureTensor; h0?: FixtureTensor; c0?: FixtureTensor; lengths?: number[] };
  outputs: { output: FixtureTensor; h_n: FixtureTensor; c_n?: FixtureTensor };
  tolerance: Tolerance;
}

interface TreeFixture {
  module: string;
  config: { inputSize: number; hiddenSize: number };
  params: Record<string, FixtureTensor>;
  inputs: { trees: Array<{ parents: number[]; x?: FixtureTensor }> };
  outputs: { trees: Array<{ h: FixtureTensor; c?: FixtureTensor }> };
  tolerance: Tolerance;
}

const recurrent = { RNN: infer.RNN, LSTM: infer.LSTM, GRU: infer.GRU };
const treeModels = { TreeRNN: infer.TreeRNN, ChildSumTreeLSTM: infer.ChildSumTreeLSTM, BinaryTreeLSTM: infer.BinaryTreeLSTM };

beforeAll(async () => {
  await infer.init({ simd: simdUnderTest() });
});

describe(`looptree/infer (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('runs the requested SIMD build', () => {
    expect(infer.backendInfo().simd).toBe(simdUnderTest());
  });

  for (const name of listFixtures('torch')) {
    it(`torch fixture ${name}`, () => {
      const fixture = loadFixture<TorchFixture>('torch', name);
      const module = new recurrent[fixture.module](fixture.config as any);
      module.loadStateDict(fixture.params);
      const { h0, c0, lengths } = fixture.inputs;
      const result = module.forward(fixture.inputs.input, { h0, c0, lengths });
      expectClose('output', result.output, fixture.outputs.output, fixture.tolerance);
      expectClose('h', result.h, fixture.outputs.h_n, fixture.tolerance);
      if (fixture.module === 'LSTM') expectClose('c', result.c!, fixture.outputs.c_n!, fixture.tolerance);
      module.dispose();
    });
  }

  const treeNames = listFixtures('tree').filter((name) => !name.startsWith('sentiment'));
  it('has the tree fixtures', () => {
    expect(treeNames.length).toBeGreaterThanOrEqual(6);
  });
  for (const name of treeNames) {
    it(`tree fixture ${name}`, () => {
      const fixture = loadFixture<TreeFixture>('tree', name);
      const { inputSize, hiddenSize } = fixture.config; // the config also documents the child order, not an option
      const module = new treeModels[fixture.module as keyof typeof treeModels]({ inputSize, hiddenSize });
      module.loadStateDict(fixture.params);
      const trees = fixture.inputs.trees.map((t) => infer.Tree.fromParents(t.parents));
      const result = module.forward(trees, fixture.inputs.trees.map((t) => t.x!));
      fixture.outputs.trees.forEach((expected, b) => {
        expectClose(`trees[${b}].h`, result.h[b], expected.h, fixture.tolerance);
        if (expected.c) expectClose(`trees[${b}].c`, result.c![b], expected.c, fixture.tolerance);
      });
      module.dispose();
    });
  }

  it('loads a .safetensors file written by PyTorch and gives its state dict back unchanged', () => {
    const fixture = loadFixture<TorchFixture>('torch', 'lstm_l2_bidir_bf.json');
    const tensors = infer.parseSafetensors(readFileSync(`${fixtureDir('torch')}lstm_l2_bidir_bf.safetensors`));
    const lstm = new infer.LSTM(fixture.config as any);
    lstm.loadStateDict(tensors);
    const state = lstm.stateDict();
    expect(Object.keys(state)).toEqual(Object.keys(fixture.params));
    for (const [key, value] of Object.entries(tensors)) {
      expect(state[key].shape).toEqual(value.shape);
      expect(state[key].data).toEqual(value.data); // bit for bit
      expectClose(key, state[key], fixture.params[key], { atol: 1e-8, rtol: 0 }); // the fixture's JSON prints 9 digits
    }
    const { h0, c0 } = fixture.inputs;
    expectClose('output', lstm.forward(fixture.inputs.input, { h0, c0 }).output, fixture.outputs.output, fixture.tolerance);
    lstm.dispose();
  });

  it('stream() steps equal forward over the same sequence', () => {
    const fixture = loadFixture<TorchFixture>('torch', 'gru_l1.json');
    const gru = new infer.GRU(fixture.config as any);
    gru.loadStateDict(fixture.params);
    const [T, B, I] = fixture.inputs.input.shape;
    const stream = gru.stream({ batch: B });
    const whole = gru.forward(fixture.inputs.input).output;
    for (let t = 0; t < T; t++) {
      const step = stream.step(infer.tensor(fixture.inputs.input.data.slice(t * B * I, (t + 1) * B * I), [B, I]));
      expect(Array.from(step.data)).toEqual(Array.from(whole.data.subarray(t * B * step.shape[1], (t + 1) * B * step.shape[1])));
    }
    gru.dispose();
  });

  it('throws the typed errors of the full entry, with the same messages', () => {
    const attempt = (library: typeof infer) => {
      try {
        new library.LSTM({ inputSize: 4, hidenSize: 8 } as any);
      } catch (error) {
        return error as Error;
      }
      throw new Error('no error');
    };
    const fromInfer = attempt(infer), fromFull = attempt(full);
    expect(fromInfer).toBeInstanceOf(infer.ArgumentError);
    expect(fromInfer).toBeInstanceOf(infer.LooptreeError);
    expect(fromInfer.message).toBe(fromFull.message);
    expect(fromInfer.message).toMatch(/hiddenSize/);
  });
});

describe('looptree/infer: what the entry holds', () => {
  it('exports a subset of the full entry, each a class or function of the same name and kind', () => {
    for (const [name, value] of Object.entries(infer)) {
      expect(Object.hasOwn(full, name), `full entry lacks ${name}`).toBe(true);
      expect(typeof value).toBe(typeof (full as Record<string, unknown>)[name]);
      if (typeof value === 'function') expect(value.name).toBe(name);
    }
    for (const needed of ['init', 'initSync', 'backendInfo', 'tensor', 'Tensor', 'RNN', 'LSTM', 'GRU', 'Tree', 'TreeRNN', 'ChildSumTreeLSTM',
      'BinaryTreeLSTM', 'parseSafetensors', 'LooptreeError', 'ShapeError', 'ArgumentError', 'StateDictError', 'SafetensorsError', 'DisposedError',
      'setNumThreads', 'threadsReady', 'ThreadError']) {
      expect(Object.keys(infer)).toContain(needed);
    }
  });

  it('bundles no training, Sequential, tree-parsing, serializing or importer module (its source map lists what it holds)', () => {
    for (const file of ['infer.js', 'infer.cjs', 'infer.browser.js']) {
      const { sources } = JSON.parse(readFileSync(new URL(`../dist/${file}.map`, import.meta.url), 'utf8')) as { sources: string[] };
      expect(sources.some((s) => s.endsWith('bindings/nn/recurrent.ts')), file).toBe(true);
      const excluded = sources.filter((s) => /bindings\/(train|io\/keras|io\/onnx)\/|tree\/(classifier|vocab)\.ts|nn\/(linear|embedding|losses|layers|last-step|container)\.ts/.test(s));
      expect(excluded, file).toEqual([]);
    }
  });
});
