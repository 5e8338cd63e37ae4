// Checked sizes (issue 10, item 1 and F1–F4): every byte count is computed in 64-bit-safe arithmetic and refused
// (OutOfMemoryError, with the bytes asked) before anything is allocated or written. Scratch and tape sizes the core
// computes come back exact as doubles — T·B·G·H·4 past 2³² used to wrap to 32 bits and a forward then overran a
// small block — and no block may reach the allocator's 1 GiB limit, so no offset inside the core reaches 2³¹.
// After every failure the other live models are bitwise unchanged and new models still work.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError, Embedding, GRU, LSTM, Linear, LooptreeError, OutOfMemoryError, RNN, Sequential, backendInfo, init, manualSeed, tensor,
  type Tensor,
} from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';
import { caught } from './helpers/caught.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

const bits = (t: Tensor) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));

/** A live model and what it answered before: check() fails unless it answers bitwise the same and its weights are intact. */
function sentinel() {
  manualSeed(11);
  const model = new LSTM({ inputSize: 8, hiddenSize: 32, numLayers: 2 });
  const x = tensor(Float32Array.from({ length: 5 * 3 * 8 }, (_, i) => Math.sin(i * 0.7)), [5, 3, 8]);
  const first = model.forward(x);
  const output = bits(first.output), h = bits(first.h), c = bits(first.c!);
  const weights = Object.fromEntries(Object.entries(model.stateDict()).map(([name, value]) => [name, bits(value)]));
  return {
    check(label: string) {
      const again = model.forward(x);
      expect(bits(again.output), `${label}: sentinel output`).toEqual(output);
      expect(bits(again.h), `${label}: sentinel h`).toEqual(h);
      expect(bits(again.c!), `${label}: sentinel c`).toEqual(c);
      for (const [name, value] of Object.entries(model.stateDict())) expect(bits(value), `${label}: ${name}`).toEqual(weights[name]);
      // A new model still allocates, loads and runs.
      const fresh = new LSTM({ inputSize: 8, hiddenSize: 32, numLayers: 2 });
      fresh.loadStateDict(model.stateDict());
      expect(bits(fresh.forward(x).output), `${label}: a new model`).toEqual(output);
      fresh.dispose();
    },
    dispose: () => model.dispose(),
  };
}

function expectOutOfMemory(error: unknown, label: string): OutOfMemoryError {
  expect(error, label).toBeInstanceOf(OutOfMemoryError);
  const oom = error as OutOfMemoryError;
  expect(oom.code).toBe('ERR_OUT_OF_MEMORY');
  expect(oom.message).toMatch(/^out of Wasm memory: could not allocate \d+ bytes \(linear memory holds \d+ bytes; /);
  expect(oom.memoryBytes).toBe(backendInfo().memoryBytes);
  return oom;
}

/** Bytes of `count` floats rounded up to 16, as Layout and the core lay buffers out. */
const floatBytes = (count: number) => Math.ceil((count * 4) / 16) * 16;

describe('sizes past 2³¹ and 2³² are refused before any allocation (item 1)', () => {
  it('a forward whose scratch is past 2³² bytes (T = 2.5M, the F4 repro) → OutOfMemoryError with the exact byte count', () => {
    const victim = sentinel();
    const heapBefore = backendInfo().heapBytes;
    const model = new LSTM({ inputSize: 4, hiddenSize: 64 });
    const T = 2_500_000, B = 1, I = 4, H = 64, G = 4;
    const x = tensor(new Float32Array(T * B * I), [T, B, I]);
    const error = expectOutOfMemory(caught(() => model.forward(x)), 'T = 2.5M');
    // The call's arena: x, y, h, c, then the core's scratch (time-major input only for batch-first; two layer outputs,
    // the gates of every step, one step's hidden gates, raw hidden, projection, step lengths), each 16-byte aligned.
    const rows = T * B;
    const arena = floatBytes(rows * I) + floatBytes(rows * H) + floatBytes(B * H) + floatBytes(B * H)
      + 2 * floatBytes(rows * H) + floatBytes(rows * G * H) + floatBytes(B * G * H) + floatBytes(B * H) + floatBytes(B * H) + floatBytes(B);
    expect(arena).toBeGreaterThan(2 ** 32); // wrapped to 32 bits, this was a ~225 MB block and a write past it
    expect(error.requestedBytes).toBe(arena);
    expect(error.message).toMatch(/one block holds at most 1073676288 bytes/);
    // A forward of the same model that fits still runs, and nothing stayed allocated.
    expect(model.forward(tensor(new Float32Array(6 * 4).fill(0.5), [6, 1, 4])).output.shape).toEqual([6, 1, 64]);
    model.dispose();
    expect(backendInfo().heapBytes).toBe(heapBefore);
    victim.check('after T = 2.5M');
    victim.dispose();
  });

  it('a training forward whose tape is past 2³² bytes → OutOfMemoryError; the tape is refused before the arena', () => {
    const victim = sentinel();
    const model = new GRU({ inputSize: 2, hiddenSize: 512, numLayers: 3, bidirectional: true });
    const T = 300_000;
    const x = tensor(new Float32Array(T * 2), [T, 1, 2]);
    const error = expectOutOfMemory(caught(() => model.forward(x, { train: true })), 'tape');
    // GRU tape: x, the output of each of the 3 layers [T, 1, 2·512], then per (layer, direction) gates [T, 3·512],
    // hPrev [T, 512] and hn [T, 512].
    const tape = floatBytes(T * 2) + 3 * floatBytes(T * 1024) + 6 * (floatBytes(T * 1536) + 2 * floatBytes(T * 512));
    expect(tape).toBeGreaterThan(2 ** 32);
    expect(error.requestedBytes).toBe(tape);
    model.dispose();
    victim.check('after the tape');
    victim.dispose();
  });

  it('constructors at sizes near 2³¹ and 2³² → ArgumentError or OutOfMemoryError at once, nothing allocated (F3)', () => {
    const victim = sentinel();
    const heapBefore = backendInfo().heapBytes;
    const memoryBefore = backendInfo().memoryBytes;
    const cases: Array<[string, () => unknown]> = [
      ['GRU inputSize 2³¹', () => new GRU({ inputSize: 2 ** 31, hiddenSize: 5 })],
      ['GRU inputSize 2³¹ − 1', () => new GRU({ inputSize: 2 ** 31 - 1, hiddenSize: 5 })],
      ['RNN hiddenSize 2³² + 1, no bias', () => new RNN({ inputSize: 1, hiddenSize: 4294967297, bias: false })],
      ['RNN hiddenSize 2³¹', () => new RNN({ inputSize: 1, hiddenSize: 2 ** 31 })],
      ['RNN hiddenSize 2³¹ − 1', () => new RNN({ inputSize: 1, hiddenSize: 2 ** 31 - 1 })],
      ['LSTM hiddenSize 2¹⁶ (weights 2³⁶ bytes)', () => new LSTM({ inputSize: 1, hiddenSize: 2 ** 16 })],
      ['LSTM(4, 12000): 2.3 GB, one block past 1 GiB', () => new LSTM({ inputSize: 4, hiddenSize: 12000 })],
      ['LSTM projSize 2³¹ − 1', () => new LSTM({ inputSize: 4, hiddenSize: 8, projSize: 2 ** 31 - 1 })],
      ['Linear outFeatures 1e20', () => new Linear({ inFeatures: 5, outFeatures: 1e20 })],
      ['Linear 2³¹ − 1 × 2', () => new Linear({ inFeatures: 2 ** 31 - 1, outFeatures: 2 })],
      ['Embedding 1e8 × 64', () => new Embedding({ numEmbeddings: 1e8, embeddingDim: 64 })],
      ['Embedding 2³⁰ × 1 (4 GiB)', () => new Embedding({ numEmbeddings: 2 ** 30, embeddingDim: 1 })],
      ['Embedding (2³⁰ − 2¹⁶)/4 + 1 floats (one float past the block limit)', () => new Embedding({ numEmbeddings: (2 ** 30 - 2 ** 16) / 4 + 1, embeddingDim: 1 })],
    ];
    for (const [label, build] of cases) {
      const error = caught(build);
      expect(error, label).toBeInstanceOf(LooptreeError);
      expect(['ERR_OUT_OF_MEMORY', 'ERR_ARGUMENT'], `${label}: ${(error as Error).message}`).toContain((error as LooptreeError).code);
      if (error instanceof OutOfMemoryError) expect(error.requestedBytes, label).toBeGreaterThan(2 ** 30 - 2 ** 16);
    }
    expect(backendInfo().heapBytes).toBe(heapBefore);
    expect(backendInfo().memoryBytes).toBe(memoryBefore); // refused in JS: linear memory never grew
    victim.check('after the constructors');
    victim.dispose();
  });

  it('stream batches and Sequential files asking for too much → typed errors; the 300-byte file saying LSTM(4, 12000) (F2)', () => {
    const victim = sentinel();
    const heapBefore = backendInfo().heapBytes;
    const small = new LSTM({ inputSize: 4, hiddenSize: 8, batchFirst: true });
    const wide = new RNN({ inputSize: 1, hiddenSize: 1024 });
    expectOutOfMemory(caught(() => wide.stream({ batch: 2 ** 20 })), 'stream batch 2²⁰');
    wide.dispose();
    const saved = new Sequential([small]).save();
    const config = { ...saved.config, layers: [{ ...saved.config.layers[0], hiddenSize: 12000 }] } as typeof saved.config;
    const error = caught(() => Sequential.load({ config, weights: saved.weights }));
    expectOutOfMemory(error, 'Sequential.load of LSTM(4, 12000)');
    const huge = { ...saved.config, layers: [{ ...saved.config.layers[0], hiddenSize: 2 ** 31 }] } as typeof saved.config;
    expect(caught(() => Sequential.load({ config: huge, weights: saved.weights }))).toBeInstanceOf(ArgumentError);
    small.dispose();
    expect(backendInfo().heapBytes).toBe(heapBefore);
    victim.check('after streams and files');
    victim.dispose();
  });
});
