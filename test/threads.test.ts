// Threads in Node (this project's SIMD build): the threads build at 1 and 2 threads gives bitwise-identical
// forwards, training tapes and gradients on shapes where the batch rows really split (B ≥ 2 row blocks), the
// directions run side by side, the LSTM backward splits dh's columns, batch 1 splits the hidden units, with
// lengths, masks, projections, dropout and GRU reset-before; the options
// and backendInfo(); and a process with a started pool still exits by itself.

import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError, ChildSumTreeLSTM, GRU, InitError, LSTM, RNN, Tree, backendInfo, init, manualSeed, quantizeDynamic, setNumThreads, tensor, threadsReady, type RecurrentModule,
} from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';
import { acrossThreadCounts, expectBitwiseEqual } from './helpers/threads.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest(), threads: 2 });
  await threadsReady();
});

/** Seeded values in [−1, 1). */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

interface Case {
  name: string;
  make: () => RecurrentModule;
  T: number;
  B: number;
  lengths?: number[];
  mask?: boolean;
  /** Variants without a backward (peepholes) run the inference forward only. */
  inferenceOnly?: boolean;
}

const cases: Case[] = [
  { name: 'LSTM B8', make: () => new LSTM({ inputSize: 12, hiddenSize: 20 }), T: 9, B: 8 },
  { name: 'LSTM B13 lengths', make: () => new LSTM({ inputSize: 7, hiddenSize: 17 }), T: 6, B: 13, lengths: [6, 1, 3, 6, 2, 5, 4, 6, 6, 1, 2, 3, 5] },
  { name: 'LSTM 2 layers bidirectional B7, dropout', make: () => new LSTM({ inputSize: 5, hiddenSize: 11, numLayers: 2, bidirectional: true, dropout: 0.3 }), T: 5, B: 7 },
  { name: 'LSTM projection B9 mask', make: () => new LSTM({ inputSize: 6, hiddenSize: 14, projSize: 5, numLayers: 2 }), T: 4, B: 9, mask: true },
  { name: 'LSTM K > 256 (input 300) B10', make: () => new LSTM({ inputSize: 300, hiddenSize: 16 }), T: 3, B: 10 },
  { name: 'LSTM peepholes bidirectional B6', make: () => new LSTM({ inputSize: 4, hiddenSize: 9, bidirectional: true, peepholes: true }), T: 5, B: 6, inferenceOnly: true },
  { name: 'GRU B11 batch-first', make: () => new GRU({ inputSize: 6, hiddenSize: 21, batchFirst: true }), T: 7, B: 11 },
  { name: 'GRU reset-before B8 lengths', make: () => new GRU({ inputSize: 5, hiddenSize: 12, resetAfter: false }), T: 5, B: 8, lengths: [5, 2, 5, 1, 4, 5, 3, 5] },
  { name: 'GRU 3 layers bidirectional B2', make: () => new GRU({ inputSize: 3, hiddenSize: 8, numLayers: 3, bidirectional: true }), T: 4, B: 2 },
  { name: 'RNN relu B16', make: () => new RNN({ inputSize: 8, hiddenSize: 30, nonlinearity: 'relu' }), T: 6, B: 16 },
  { name: 'RNN tanh batch 1', make: () => new RNN({ inputSize: 8, hiddenSize: 30 }), T: 6, B: 1 },
  // The LSTM backward's reverse loop splits dh's columns (whole panels): a thread with no panel (H 7), a narrow
  // last panel (H 17), a thread with no batch row (B 2), masks and lengths.
  { name: 'LSTM B2 H 7 mask', make: () => new LSTM({ inputSize: 3, hiddenSize: 7 }), T: 5, B: 2, mask: true },
  { name: 'LSTM B5 H 17 lengths', make: () => new LSTM({ inputSize: 4, hiddenSize: 17 }), T: 6, B: 5, lengths: [6, 2, 5, 1, 6] },
  // Batch 1: the inference forward splits the hidden units (tails of 1–3 units, a member with no unit at H = 3,
  // K > 256 in the recurrent product, lengths, stacked layers); training and variants keep the row split.
  { name: 'LSTM batch 1 H 13', make: () => new LSTM({ inputSize: 5, hiddenSize: 13 }), T: 7, B: 1 },
  { name: 'LSTM batch 1 2 layers H 300 (K > 256)', make: () => new LSTM({ inputSize: 9, hiddenSize: 300, numLayers: 2 }), T: 3, B: 1 },
  { name: 'GRU batch 1 H 21 lengths', make: () => new GRU({ inputSize: 6, hiddenSize: 21 }), T: 6, B: 1, lengths: [4] },
  // The input projection split by the units' gate columns (gemmColumns): K > 256, T = 11 leaves the relaxed build's
  // 2-row pair and baseline's 3 matrix-vector rows, T = 70 two row blocks and a matrix-vector row or two.
  { name: 'RNN tanh batch 1 input 270 (K > 256) T 11', make: () => new RNN({ inputSize: 270, hiddenSize: 40 }), T: 11, B: 1 },
  { name: 'GRU batch 1 input 300 H 50 T 70', make: () => new GRU({ inputSize: 300, hiddenSize: 50 }), T: 70, B: 1 },
  { name: 'LSTM batch 1 input 260 H 36 T 14 lengths', make: () => new LSTM({ inputSize: 260, hiddenSize: 36 }), T: 14, B: 1, lengths: [9] },
  { name: 'RNN relu batch 1 H 3', make: () => new RNN({ inputSize: 4, hiddenSize: 3, nonlinearity: 'relu' }), T: 5, B: 1 },
  { name: 'LSTM peepholes batch 1', make: () => new LSTM({ inputSize: 4, hiddenSize: 10, peepholes: true }), T: 4, B: 1, inferenceOnly: true },
  { name: 'GRU reset-before batch 1', make: () => new GRU({ inputSize: 4, hiddenSize: 10, resetAfter: false }), T: 4, B: 1 },
];

describe(`threads (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('runs the threads build with 2 threads', () => {
    const info = backendInfo();
    expect(info.simd).toBe(simdUnderTest());
    expect(info.threads).toBe(2);
    expect(info.threadsReason).toBeUndefined();
  });

  for (const c of cases) {
    it(`${c.name}: forward, tape and gradients bitwise equal at 1 and 2 threads`, () => {
      manualSeed(7);
      const module = c.make();
      const batchFirst = c.name.includes('batch-first');
      const I = module.inputSize;
      const shape = batchFirst ? [c.B, c.T, I] : [c.T, c.B, I];
      const x = tensor(values(c.T * c.B * I, 11), shape);
      const mask = c.mask ? Int32Array.from({ length: c.B * c.T }, (_, i) => (i % 5 === 3 ? 0 : 1)) : undefined;
      const { one, two } = acrossThreadCounts(() => {
        const inference = module.forward(x, { lengths: c.lengths, mask });
        if (c.inferenceOnly) return { output: inference.output.data, h: inference.h.data, c: inference.c?.data };
        manualSeed(3); // the same dropout factors
        const training = module.forward(x, { lengths: c.lengths, mask, train: true });
        module.zeroGrad();
        const gradients = module.backward({ output: tensor(values(training.output.data.length, 5), training.output.shape) });
        return {
          output: inference.output.data, h: inference.h.data, c: inference.c?.data,
          trainOutput: training.output.data, dx: gradients.input.data,
          ...Object.fromEntries(Object.entries(module.grads()).map(([k, g]) => [`grad ${k}`, g.data])),
        };
      });
      expectBitwiseEqual(one, two);
      module.dispose();
    });
  }

  it('child-sum Tree-LSTM: levels split over nodes, bitwise equal at 1 and 2 threads (24 trees, H 13)', () => {
    manualSeed(17);
    const model = new ChildSumTreeLSTM({ inputSize: 6, hiddenSize: 13 });
    // Parents arrays of random trees (node j > 0 hangs under a node before it): wide levels and ragged ones.
    let s = 99;
    const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
    const trees = Array.from({ length: 24 }, (_, b) => Tree.fromParents(Array.from({ length: 5 + (b % 9) }, (_, j) => (j === 0 ? -1 : Math.floor(next() * j)))));
    const xs = trees.map((tree, b) => tensor(values(tree.size * 6, 40 + b), [tree.size, 6]));
    const { one, two } = acrossThreadCounts(() => {
      const { h, c } = model.forward(trees, xs);
      return Object.fromEntries([...h.map((t, b) => [`h[${b}]`, t.data]), ...c!.map((t, b) => [`c[${b}]`, t.data])]);
    });
    expectBitwiseEqual(one, two);
    model.dispose();
  });

  it('runs int8 child-sum trees on one thread, the same bits with 2 threads in use', () => {
    manualSeed(23);
    const model = new ChildSumTreeLSTM({ inputSize: 6, hiddenSize: 16 });
    const int8 = quantizeDynamic(model, { dtype: 'int8' });
    const trees = Array.from({ length: 40 }, (_, b) => Tree.fromParents(Array.from({ length: 7 + (b % 5) }, (_, j) => (j === 0 ? -1 : (j - 1) >> 1))));
    const xs = trees.map((tree, b) => tensor(values(tree.size * 6, 70 + b), [tree.size, 6]));
    const { one, two } = acrossThreadCounts(() => {
      const { h } = int8.forward(trees, xs);
      return Object.fromEntries(h.map((t, b) => [`h[${b}]`, t.data]));
    });
    expectBitwiseEqual(one, two);
    int8.dispose();
    model.dispose();
  });

  it('runs int8 modules on one thread, the same bits with 2 threads in use (gemmInt8 allocates on the main instance)', () => {
    manualSeed(31);
    const lstm = new LSTM({ inputSize: 12, hiddenSize: 20, numLayers: 2, bidirectional: true });
    const int8 = quantizeDynamic(lstm, { dtype: 'int8' });
    const x = tensor(values(9 * 8 * 12, 7), [9, 8, 12]);
    const { one, two } = acrossThreadCounts(() => {
      const { output, h, c } = int8.forward(x);
      return { output: output.data, h: h.data, c: c!.data };
    });
    expectBitwiseEqual(one, two);
    int8.dispose();
    lstm.dispose();
  });

  it('checks its options', () => {
    expect(() => setNumThreads(0)).toThrow(ArgumentError);
    expect(() => setNumThreads(2.5)).toThrow(/setNumThreads\(\): threads must be an integer from 1 to 64, got 2.5/);
    expect(() => setNumThreads(65)).toThrow(ArgumentError);
    expect(() => setNumThreads(2, { everycall: true } as never)).toThrow(/everyCall/);
    expect(() => setNumThreads(2, { everyCall: 1 } as never)).toThrow(/everyCall must be a boolean, got number/);
    setNumThreads(1);
    expect(backendInfo().threads).toBe(1);
    setNumThreads(2);
    expect(backendInfo().threads).toBe(2);
  });

  it('init checks threads', async () => {
    await expect(init({ threads: 0 })).rejects.toThrow(InitError);
    await expect(init({ threads: '2' as never })).rejects.toThrow(/init\(\): threads must be an integer from 1 to 64, got string/);
  });

  it('a process whose pool has run still exits by itself', () => {
    const script = `
      import { init, LSTM, tensor, threadsReady, backendInfo } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      await init({ simd: 'baseline', threads: 2 });
      await threadsReady();
      const lstm = new LSTM({ inputSize: 32, hiddenSize: 64 });
      const { output } = lstm.forward(tensor(new Float32Array(20 * 16 * 32).fill(0.5), [20, 16, 32]));
      console.log(backendInfo().threads, output.data.length);`;
    const printed = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(printed.trim()).toBe(`2 ${20 * 16 * 64}`);
  });
});
