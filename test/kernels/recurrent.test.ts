// RNN / LSTM / GRU through the public API against the float64 PyTorch-semantics reference
// (test/reference/recurrent.ts): seeded random configurations over hidden sizes 1, 3, 5, 17, 33, input
// sizes 1, 3, 17 and every option (layers 1–3, bidirectional, batchFirst, bias false, projSize, h0/c0,
// lengths in any order, relu). Bound: absolute error ≤ 1e-5 on output, h and c. Also determinism, and
// that the reference itself reproduces the PyTorch fixtures (test/fixtures/torch).

import { readFileSync, readdirSync } from 'node:fs';
import { beforeAll, describe, it, expect } from 'vitest';
import { GRU, LSTM, RNN, backendInfo, init, manualSeed, tensor } from '../../dist/index.js';
import { expectClose, floatBits } from '../helpers/compare.js';
import { seededRandom, uniformArray } from '../helpers/random.js';
import { recurrentForward, type CellMode, type RecurrentConfig } from '../reference/recurrent.js';

const HIDDEN_SIZES = [1, 3, 5, 17, 33];
const INPUT_SIZES = [1, 3, 17];
const MODES: CellMode[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'];
const CASES_PER_MODE_AND_HIDDEN = 5;
const TOLERANCE = 1e-5;

interface Case {
  label: string;
  seed: number;
  config: RecurrentConfig;
  steps: number;
  batch: number;
  input: Float32Array;
  h0?: Float32Array;
  c0?: Float32Array;
  lengths?: Int32Array;
}

/** A random configuration and its inputs, all drawn from `seed`. */
function randomCase(mode: CellMode, hiddenSize: number, seed: number): Case {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const chance = (p: number) => random() < p;
  const config: RecurrentConfig = {
    mode,
    inputSize: pick(INPUT_SIZES),
    hiddenSize,
    numLayers: pick([1, 2, 3]),
    bidirectional: chance(0.5),
    batchFirst: chance(0.5),
    bias: chance(0.7),
    projSize: mode === 'lstm' && hiddenSize > 1 && chance(0.5) ? 1 + Math.floor(random() * (hiddenSize - 1)) : 0,
  };
  const steps = 1 + Math.floor(random() * 6);
  const batch = 1 + Math.floor(random() * 4);
  const D = config.bidirectional ? 2 : 1, P = config.projSize || hiddenSize;
  const stateCount = config.numLayers * D * batch;
  const testCase: Case = { label: '', seed, config, steps, batch, input: uniformArray(random, steps * batch * config.inputSize) };
  if (chance(0.5)) testCase.h0 = uniformArray(random, stateCount * P);
  if (mode === 'lstm' && chance(0.5)) testCase.c0 = uniformArray(random, stateCount * hiddenSize);
  if (chance(0.5)) testCase.lengths = Int32Array.from({ length: batch }, () => 1 + Math.floor(random() * steps));
  const options = [
    `I=${config.inputSize}`, `L=${config.numLayers}`, `T=${steps}`, `B=${batch}`,
    config.bidirectional && 'bidirectional', config.batchFirst && 'batchFirst', !config.bias && 'bias=false',
    config.projSize > 0 && `projSize=${config.projSize}`, testCase.h0 && 'h0', testCase.c0 && 'c0',
    testCase.lengths && `lengths=[${testCase.lengths.join(',')}]`,
  ].filter(Boolean);
  testCase.label = `${mode} H=${hiddenSize} ${options.join(' ')} (seed ${seed})`;
  return testCase;
}

function createModule(config: RecurrentConfig) {
  const options = {
    inputSize: config.inputSize, hiddenSize: config.hiddenSize, numLayers: config.numLayers,
    bidirectional: config.bidirectional, batchFirst: config.batchFirst, bias: config.bias,
  };
  if (config.mode === 'lstm') return new LSTM({ ...options, projSize: config.projSize });
  if (config.mode === 'gru') return new GRU(options);
  return new RNN({ ...options, nonlinearity: config.mode === 'rnn_relu' ? 'relu' : 'tanh' });
}

function runModule(module: ReturnType<typeof createModule>, testCase: Case) {
  const { config, steps: T, batch: B } = testCase;
  const D = config.bidirectional ? 2 : 1, L = config.numLayers, P = config.projSize || config.hiddenSize;
  return module.forward(tensor(testCase.input, config.batchFirst ? [B, T, config.inputSize] : [T, B, config.inputSize]), {
    h0: testCase.h0 && tensor(testCase.h0, [L * D, B, P]),
    c0: testCase.c0 && tensor(testCase.c0, [L * D, B, config.hiddenSize]),
    lengths: testCase.lengths,
  });
}

interface FixtureTensor {
  shape: number[];
  data: number[];
}

interface TorchFixture {
  module: 'RNN' | 'LSTM' | 'GRU';
  config: Omit<RecurrentConfig, 'mode' | 'projSize'> & { nonlinearity?: 'tanh' | 'relu'; projSize?: number };
  params: Record<string, FixtureTensor>;
  inputs: { input: FixtureTensor; h0?: FixtureTensor; c0?: FixtureTensor; lengths?: number[] };
  outputs: { output: FixtureTensor; h_n: FixtureTensor; c_n?: FixtureTensor };
  tolerance: { atol: number; rtol: number };
}

const fixtureDir = new URL('../fixtures/torch/', import.meta.url);

function checkReferenceAgainstFixture(name: string): void {
  const fixture = JSON.parse(readFileSync(new URL(name, fixtureDir), 'utf8')) as TorchFixture;
  const { module, config, inputs, outputs, tolerance } = fixture;
  const mode: CellMode = module === 'RNN' ? (config.nonlinearity === 'relu' ? 'rnn_relu' : 'rnn_tanh') : module === 'LSTM' ? 'lstm' : 'gru';
  const [first, second] = inputs.input.shape;
  const result = recurrentForward({ ...config, mode, projSize: config.projSize ?? 0 }, fixture.params, {
    input: inputs.input.data,
    steps: config.batchFirst ? second : first,
    batch: config.batchFirst ? first : second,
    h0: inputs.h0?.data,
    c0: inputs.c0?.data,
    lengths: inputs.lengths,
  });
  const bound = (expected: number[]) => (i: number) => tolerance.atol + tolerance.rtol * Math.abs(expected[i]);
  expectClose(`${name}: output`, result.output, outputs.output.data, bound(outputs.output.data));
  expectClose(`${name}: h_n`, result.h, outputs.h_n.data, bound(outputs.h_n.data));
  if (outputs.c_n) expectClose(`${name}: c_n`, result.c!, outputs.c_n.data, bound(outputs.c_n.data));
}

const cases: Case[] = [];
let seed = 20_000;
for (const mode of MODES) {
  for (const hiddenSize of HIDDEN_SIZES) {
    for (let i = 0; i < CASES_PER_MODE_AND_HIDDEN; i++) cases.push(randomCase(mode, hiddenSize, seed++));
  }
}

beforeAll(async () => {
  await init({ simd: process.env.LOOPTREE_SIMD as 'baseline' | 'relaxed' | undefined });
});

describe(`recurrent modules vs the float64 reference (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('runs the build named by LOOPTREE_SIMD', () => {
    expect(['baseline', 'relaxed'], 'LOOPTREE_SIMD').toContain(process.env.LOOPTREE_SIMD);
    expect(backendInfo().simd).toBe(process.env.LOOPTREE_SIMD);
  });

  it('the reference reproduces every PyTorch fixture', () => {
    const names = readdirSync(fixtureDir).filter((name) => name.endsWith('.json'));
    expect(names.length, `fixtures in ${fixtureDir.pathname}`).toBeGreaterThan(0);
    for (const name of names) checkReferenceAgainstFixture(name);
  });

  it('the random configurations cover every size and option', () => {
    const has = (predicate: (c: Case) => boolean) => cases.some(predicate);
    for (const size of INPUT_SIZES) expect(has((c) => c.config.inputSize === size), `inputSize ${size}`).toBe(true);
    for (const layers of [1, 2, 3]) expect(has((c) => c.config.numLayers === layers), `numLayers ${layers}`).toBe(true);
    for (const mode of MODES) {
      const ofMode = (predicate: (c: Case) => boolean) => has((c) => c.config.mode === mode && predicate(c));
      expect(ofMode((c) => c.config.bidirectional), `${mode} bidirectional`).toBe(true);
      expect(ofMode((c) => c.config.batchFirst), `${mode} batchFirst`).toBe(true);
      expect(ofMode((c) => !c.config.bias), `${mode} bias=false`).toBe(true);
      expect(ofMode((c) => c.h0 !== undefined), `${mode} h0`).toBe(true);
      expect(ofMode((c) => c.config.bidirectional && c.lengths !== undefined), `${mode} bidirectional with lengths`).toBe(true);
    }
    expect(has((c) => c.config.projSize > 0 && c.config.numLayers > 1 && c.config.bidirectional), 'projSize, stacked, bidirectional').toBe(true);
    expect(has((c) => c.c0 !== undefined), 'c0').toBe(true);
    expect(has((c) => c.lengths !== undefined && c.lengths.some((length, b) => b > 0 && length > c.lengths![b - 1])), 'unsorted lengths').toBe(true);
    expect(has((c) => c.lengths !== undefined && Math.max(...c.lengths) < c.steps), 'every length < T').toBe(true);
  });

  for (const testCase of cases) {
    it(testCase.label, () => {
      manualSeed(testCase.seed);
      const module = createModule(testCase.config);
      const params = module.stateDict();
      const actual = runModule(module, testCase);
      const expected = recurrentForward(testCase.config, params, testCase);
      expectClose('output', actual.output.data, expected.output, TOLERANCE);
      expectClose('h', actual.h.data, expected.h, TOLERANCE);
      if (expected.c) expectClose('c', actual.c!.data, expected.c, TOLERANCE);
      else expect(actual.c).toBeUndefined();
      module.dispose();
    });
  }

  it('the same input twice gives bitwise-identical output, h and c, even with another call in between', () => {
    for (const testCase of cases.filter((_, i) => i % 5 === 0)) {
      manualSeed(testCase.seed);
      const module = createModule(testCase.config);
      const first = runModule(module, testCase);
      runModule(module, { ...testCase, input: testCase.input.map((x) => -x) });
      const second = runModule(module, testCase);
      expectClose(`output bits (${testCase.label})`, floatBits(second.output.data), floatBits(first.output.data), 0);
      expectClose(`h bits (${testCase.label})`, floatBits(second.h.data), floatBits(first.h.data), 0);
      if (first.c) expectClose(`c bits (${testCase.label})`, floatBits(second.c!.data), floatBits(first.c.data), 0);
      module.dispose();
    }
  });
});
