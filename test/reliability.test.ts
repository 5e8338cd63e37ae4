// Allocation sizes are checked before anything is allocated or written (issue 10's F1, F2): a request past
// what 32-bit Wasm memory can hold is an OutOfMemoryError, and every other live model keeps working,
// bitwise unchanged — where a size used to wrap to 32 bits and the caller overran a small block.

import { beforeAll, describe, expect, it } from 'vitest';
import { Embedding, LSTM, Linear, OutOfMemoryError, init, manualSeed, tensor } from '../dist/index.js';
import { simdUnderTest } from './helpers/fixtures.js';

beforeAll(async () => {
  await init({ simd: simdUnderTest() });
});

describe('allocations that cannot fit', () => {
  it('throw OutOfMemoryError before writing, and leave other models bitwise unchanged', () => {
    manualSeed(5);
    const victim = new LSTM({ inputSize: 8, hiddenSize: 32 });
    const x = tensor(Float32Array.from({ length: 5 * 2 * 8 }, (_, i) => Math.sin(i)), [5, 2, 8]);
    const before = victim.forward(x);
    const weights = victim.stateDict();
    const hole = new LSTM({ inputSize: 8, hiddenSize: 32 });
    hole.dispose();
    for (const build of [
      () => new Embedding({ numEmbeddings: 1e8, embeddingDim: 64 }), // 25.6 GB: wrapped to 32 bits before
      () => new Linear({ inFeatures: 5, outFeatures: 2 ** 31 }),
      () => new LSTM({ inputSize: 4, hiddenSize: 40000 }),
    ]) {
      let error: unknown;
      try {
        build();
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(OutOfMemoryError);
      expect((error as OutOfMemoryError).code).toBe('ERR_OUT_OF_MEMORY');
      expect((error as Error).message).toMatch(/out of Wasm memory: could not allocate \d+ bytes/);
    }
    const after = victim.forward(x);
    expect(Array.from(after.output.data)).toEqual(Array.from(before.output.data));
    expect(Array.from(after.h.data)).toEqual(Array.from(before.h.data));
    for (const [name, value] of Object.entries(victim.stateDict())) expect(Array.from(value.data), name).toEqual(Array.from(weights[name].data));
    const fresh = new LSTM({ inputSize: 8, hiddenSize: 32 });
    fresh.loadStateDict(weights);
    expect(Array.from(fresh.forward(x).output.data)).toEqual(Array.from(before.output.data));
    fresh.dispose();
    victim.dispose();
  });
});
