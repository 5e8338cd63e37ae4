// gemmTransposedAccumulate (dW += dYᵀ·X) and accumulateColumnSums (db += Σ rows of dY) against the float64
// references of test/reference/gemm-backward.ts: dW rows n % 4 and columns k % 8 left over (scalar tails),
// M across the 128-row block, row strides wider than the rows read, accumulation onto existing values.
// Bound: |diff| ≤ 1e-5·(1 + |old| + Σ_r |dy·x|). Guard floats around dW / db catch writes outside them.

import { describe, expect, it } from 'vitest';
import { expectClose } from './helpers/compare.js';
import { allocF32, core, expectRequestedBuild, free, readF32, writeF32 } from './helpers/kernels.js';
import { seededRandom, uniformArray } from './helpers/random.js';
import { accumulateColumnSums, gemmTransposedAccumulate } from './reference/gemm-backward.js';

const kernels = core as typeof core & {
  gemmTransposedAccumulate(dw: number, dy: number, x: number, m: number, n: number, k: number, ldy: number, ldx: number): void;
  accumulateColumnSums(db: number, dy: number, m: number, n: number, ldy: number): void;
};

const SENTINEL = -321.5;
const GUARD = 8;

/** Runs `kernel` on a guarded copy of `old` and returns the result and the guard floats. */
function guarded(old: Float32Array, kernel: (ptr: number) => void): { result: Float32Array; guards: number[] } {
  const block = allocF32(GUARD + old.length + GUARD, SENTINEL);
  new Float32Array(core.memory.buffer, block + 4 * GUARD, old.length).set(old);
  kernel(block + 4 * GUARD);
  const all = readF32(block, GUARD + old.length + GUARD);
  free(block);
  return { result: all.subarray(GUARD, GUARD + old.length), guards: [...all.subarray(0, GUARD), ...all.subarray(GUARD + old.length)] };
}

function checkGemm(m: number, n: number, k: number, ldy: number, ldx: number): void {
  const label = `m=${m} n=${n} k=${k} ldy=${ldy} ldx=${ldx}`;
  const random = seededRandom(m * 7919 + n * 131 + k * 17 + ldy * 3 + ldx);
  const dy = uniformArray(random, m * ldy);
  const x = uniformArray(random, m * ldx);
  const old = uniformArray(random, n * k);
  const dyPtr = writeF32(dy), xPtr = writeF32(x);
  const { result, guards } = guarded(old, (dw) => kernels.gemmTransposedAccumulate(dw, dyPtr, xPtr, m, n, k, ldy, ldx));
  free(dyPtr, xPtr);
  const expected = Float64Array.from(old);
  gemmTransposedAccumulate(expected, dy, x, m, n, k, ldy, ldx);
  const magnitude = (i: number) => {
    const o = Math.floor(i / k), j = i % k;
    let sum = Math.abs(old[i]);
    for (let r = 0; r < m; r++) sum += Math.abs(dy[r * ldy + o] * x[r * ldx + j]);
    return sum;
  };
  expectClose(`dW (${label})`, result, expected, (i) => 1e-5 * (1 + magnitude(i)));
  expect(guards, `guard floats around dW (${label})`).toEqual(new Array(2 * GUARD).fill(SENTINEL));
}

describe(`gemm-backward (${core.simdFlavor() ? 'relaxed' : 'baseline'} build)`, () => {
  it('runs the build named by LOOPTREE_SIMD', () => {
    expectRequestedBuild();
  });

  it('gemmTransposedAccumulate: n, k in {1, 3, 4, 5, 8, 9, 17} (tails), m in {1, 5, 33}, dense rows', () => {
    for (const m of [1, 5, 33]) for (const n of [1, 3, 4, 5, 8, 9, 17]) for (const k of [1, 3, 4, 5, 8, 9, 17]) checkGemm(m, n, k, n, k);
  });

  it('gemmTransposedAccumulate: M across the 128-row block, strided rows (a column block of wider gates)', () => {
    for (const [m, n, k, ldy, ldx] of [[128, 8, 8, 8, 8], [129, 12, 16, 40, 16], [300, 20, 33, 100, 35], [260, 33, 64, 165, 64]]) {
      checkGemm(m, n, k, ldy, ldx);
    }
  });

  it('gemmTransposedAccumulate: m = 0 leaves dW unchanged', () => {
    const old = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const { result } = guarded(old, (dw) => kernels.gemmTransposedAccumulate(dw, 0, 0, 0, 2, 3, 2, 3));
    expect(Array.from(result)).toEqual(Array.from(old));
  });

  it('accumulateColumnSums: n in {1, 3, 4, 7, 16, 33}, m in {1, 6, 200}, dense and strided rows', () => {
    for (const m of [1, 6, 200]) {
      for (const n of [1, 3, 4, 7, 16, 33]) {
        for (const ldy of [n, n + 5]) {
          const random = seededRandom(m * 31 + n * 7 + ldy);
          const dy = uniformArray(random, m * ldy);
          const old = uniformArray(random, n);
          const dyPtr = writeF32(dy);
          const { result, guards } = guarded(old, (db) => kernels.accumulateColumnSums(db, dyPtr, m, n, ldy));
          free(dyPtr);
          const expected = Float64Array.from(old);
          accumulateColumnSums(expected, dy, m, n, ldy);
          expectClose(`db (m=${m} n=${n} ldy=${ldy})`, result, expected, 1e-5 * (1 + m));
          expect(guards, 'guard floats around db').toEqual(new Array(2 * GUARD).fill(SENTINEL));
        }
      }
    }
  });
});
