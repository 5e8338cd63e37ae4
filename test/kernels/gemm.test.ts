// packWeight + gemmPacked against the float64 reference (test/reference/gemm.ts): every m, n, k in
// {1, 3, 5, 7, 17, 33}, larger shapes across the row blocks, with and without bias, overwrite and
// accumulate. The panel width and row block differ per build (assembly/gemm.ts): baseline 4×8 blocks,
// m % 4 rows on the matrix-vector path (three 8-wide panels at a time, then the last one or two);
// relaxed 3×12 blocks, two rows left over as a 2×12 block, one on the matrix-vector path (two 12-wide
// panels at a time, then the last one). These sizes reach every one of those paths in both builds.
// Bound: |diff| ≤ 1e-5·(1 + Σ_k |a·w|). Guard floats around C catch writes outside it. gemmColumns and gemvColumns
// (a window of C's columns) are checked bit for bit against gemmPacked's columns.

import { describe, it, expect } from 'vitest';
import { expectClose } from '../helpers/compare.js';
import { allocF32, core, expectRequestedBuild, free, readF32, writeF32 } from '../helpers/kernels.js';
import { seededRandom, uniformArray } from '../helpers/random.js';
import { gemm } from '../reference/gemm.js';

const NR = core.panelWidth(); // output columns per panel of the packed weight: 8 baseline, 12 relaxed
const SIZES = [1, 3, 5, 7, 17, 33];
const LARGE_SHAPES: Array<[m: number, n: number, k: number]> = [[70, 100, 64], [130, 20, 9], [64, 8, 1], [65, 33, 40], [50, 25, 300], [98, 37, 5]];
const SENTINEL = -777.5;
const GUARD = 8;

const panelRows = (n: number) => Math.ceil(n / NR) * NR;

/** packWeight(W) read back: `packedSize(n, k)` floats plus the GUARD floats after them. */
function pack(w: Float32Array, n: number, k: number): { packed: number; floats: Float32Array } {
  const size = core.packedSize(n, k);
  const src = writeF32(w);
  const packed = allocF32(size + GUARD, SENTINEL);
  core.packWeight(packed, src, n, k);
  free(src);
  return { packed, floats: readF32(packed, size + GUARD) };
}

/** Runs gemmPacked on seeded data and checks C against the reference and the guards around C. */
function checkGemm(m: number, n: number, k: number, withBias: boolean, accumulate: boolean): void {
  const label = `m=${m} n=${n} k=${k} bias=${withBias} accumulate=${accumulate}`;
  const random = seededRandom(m * 1_000_003 + n * 1009 + k * 7 + (withBias ? 1 : 0) + (accumulate ? 2 : 0));
  const a = uniformArray(random, m * k);
  const w = uniformArray(random, n * k);
  const bias = withBias ? uniformArray(random, n) : null;
  // Without accumulate the old C must not be read: NaN there would show.
  const oldC = accumulate ? uniformArray(random, m * n) : new Float32Array(m * n).fill(NaN);

  const { packed } = pack(w, n, k);
  const aPtr = writeF32(a);
  const paddedBias = new Float32Array(panelRows(n));
  if (bias) paddedBias.set(bias);
  const biasPtr = bias ? writeF32(paddedBias) : 0;
  const block = allocF32(GUARD + m * n + GUARD, SENTINEL);
  new Float32Array(core.memory.buffer, block + 4 * GUARD, m * n).set(oldC);
  core.gemmPacked(block + 4 * GUARD, aPtr, packed, biasPtr, m, n, k, accumulate);
  const result = readF32(block, GUARD + m * n + GUARD);
  free(packed, aPtr, biasPtr, block);

  const expected = accumulate ? Float64Array.from(oldC) : new Float64Array(m * n);
  gemm(expected, a, w, bias, m, n, k, accumulate);
  const magnitude = (i: number) => {
    const row = Math.floor(i / n), column = i % n;
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.abs(a[row * k + j] * w[column * k + j]);
    return sum;
  };
  expectClose(`C (${label})`, result.subarray(GUARD, GUARD + m * n), expected, (i) => 1e-5 * (1 + magnitude(i)));
  const guards = [...result.subarray(0, GUARD), ...result.subarray(GUARD + m * n)];
  expect(guards, `guard floats around C (${label})`).toEqual(new Array(2 * GUARD).fill(SENTINEL));
}

describe(`gemm (${core.simdFlavor() ? 'relaxed' : 'baseline'} build)`, () => {
  it('runs the build named by LOOPTREE_SIMD', () => {
    expectRequestedBuild();
  });

  it(`packedSize(n, k) = ceil(n/${NR})·${NR}·k (panels)`, () => {
    expect(NR).toBe(core.simdFlavor() ? 12 : 8);
    for (const n of [1, 7, 8, 9, 12, 13, 16, 17, 24, 33, 100]) {
      for (const k of [1, 3, 4, 5, 64]) {
        expect(core.packedSize(n, k), `n=${n} k=${k}`).toBe(panelRows(n) * k);
      }
    }
  });

  it('packWeight writes the panels (0 past n), and nothing after', () => {
    for (const n of SIZES) {
      for (const k of SIZES) {
        const w = uniformArray(seededRandom(n * 100 + k), n * k);
        const { packed, floats } = pack(w, n, k);
        free(packed);
        const weight = (row: number, column: number) => (row < n && column < k ? w[row * k + column] : 0);
        const expected: number[] = [];
        // Panel p, column kk, lane j: W[NR·p + j, kk].
        for (let p = 0; p < panelRows(n) / NR; p++) {
          for (let kk = 0; kk < k; kk++) {
            for (let j = 0; j < NR; j++) expected.push(weight(p * NR + j, kk));
          }
        }
        expected.push(...new Array(GUARD).fill(SENTINEL));
        expect(Array.from(floats), `packed W for n=${n} k=${k}`).toEqual(expected);
      }
    }
  });

  for (const m of SIZES) {
    for (const n of SIZES) {
      for (const k of SIZES) {
        it(`m=${m} n=${n} k=${k}: with and without bias, overwrite and accumulate`, () => {
          for (const withBias of [false, true]) {
            for (const accumulate of [false, true]) checkGemm(m, n, k, withBias, accumulate);
          }
        });
      }
    }
  }

  for (const [m, n, k] of LARGE_SHAPES) {
    it(`m=${m} n=${n} k=${k} (across row blocks and the 256-wide K slice): with and without bias, overwrite and accumulate`, () => {
      for (const withBias of [false, true]) {
        for (const accumulate of [false, true]) checkGemm(m, n, k, withBias, accumulate);
      }
    });
  }

  // gemmColumns and gemvColumns: a window [j0, j1) of C's columns (what one thread takes at batch 1: its hidden units'
  // gate columns of the input projection and of each step, sequence.ts) holds exactly gemmPacked's bits, and nothing
  // outside it is written. Windows start and end inside panels, straddle one, cover one column, several panels or
  // none; m covers every row path of both builds (MR-row blocks, the relaxed 2-row pair, matrix-vector rows, several
  // row blocks), k > 256 the K slices; with and without bias, overwrite and accumulate.
  const windows = (n: number): Array<[number, number]> =>
    ([[0, n], [1, n - 1], [NR - 1, NR + 1], [NR, 2 * NR], [Math.floor(n / 2), n], [3, 4], [Math.floor(n / 4) + 1, Math.floor(n / 2) + 3], [0, 0]] as const)
      .map(([from, to]) => [Math.min(from, to, n), Math.min(to, n)]);

  /** Runs `window(c, …)` for every window of n columns against gemmPacked on the same data. */
  function checkWindows(kernel: string, m: number, n: number, k: number,
                        window: (c: number, a: number, w: number, bias: number, j0: number, j1: number, accumulate: boolean) => void): void {
    const random = seededRandom(m * 7919 + n * 31 + k);
    const a = uniformArray(random, m * k), w = uniformArray(random, n * k), oldC = uniformArray(random, m * n);
    const bias = new Float32Array(panelRows(n));
    bias.set(uniformArray(random, n));
    const { packed } = pack(w, n, k);
    const aPtr = writeF32(a), biasPtr = writeF32(bias);
    for (const withBias of [false, true]) {
      for (const accumulate of [false, true]) {
        const whole = allocF32(m * n, 0);
        new Float32Array(core.memory.buffer, whole, m * n).set(oldC);
        core.gemmPacked(whole, aPtr, packed, withBias ? biasPtr : 0, m, n, k, accumulate);
        const product = readF32(whole, m * n);
        free(whole);
        const expected = accumulate ? Float64Array.from(oldC) : new Float64Array(m * n);
        gemm(expected, a, w, withBias ? bias.subarray(0, n) : null, m, n, k, accumulate);
        expectClose(`gemmPacked m=${m} n=${n} k=${k}`, product, expected, () => 1e-5 * (1 + k));
        for (const [j0, j1] of windows(n)) {
          const label = `${kernel} m=${m} n=${n} k=${k} columns [${j0}, ${j1}) bias=${withBias} accumulate=${accumulate}`;
          const block = allocF32(GUARD + m * n + GUARD, SENTINEL);
          new Float32Array(core.memory.buffer, block + 4 * GUARD, m * n).set(oldC);
          window(block + 4 * GUARD, aPtr, packed, withBias ? biasPtr : 0, j0, j1, accumulate);
          const result = readF32(block, GUARD + m * n + GUARD);
          free(block);
          expect(Array.from(result.subarray(0, GUARD)), `${label}: guard before`).toEqual(new Array(GUARD).fill(SENTINEL));
          expect(Array.from(result.subarray(GUARD + m * n)), `${label}: guard after`).toEqual(new Array(GUARD).fill(SENTINEL));
          // Inside the window gemmPacked's bits, outside C's old bits.
          const wanted = Float32Array.from({ length: m * n }, (_, i) => (i % n >= j0 && i % n < j1 ? product[i] : oldC[i]));
          const bits = new Uint32Array(Float32Array.from(result.subarray(GUARD, GUARD + m * n)).buffer);
          const first = Array.from(bits).findIndex((b, i) => b !== new Uint32Array(wanted.buffer)[i]);
          expect(first, `${label}: first element that differs (row ${Math.floor(first / n)}, column ${first % n})`).toBe(-1);
        }
      }
    }
    free(packed, aPtr, biasPtr);
  }

  it('gemvColumns: any column window of a row, bitwise gemmPacked\'s row (m = 1), the rest untouched', () => {
    for (const [n, k] of [[37, 13], [100, 64], [64, 300], [9, 1]]) {
      checkWindows('gemvColumns', 1, n, k, (c, a, w, bias, j0, j1, accumulate) => core.gemvColumns(c, a, w, bias, k, j0, j1, accumulate));
    }
  });

  for (const m of [1, 2, 3, 4, 5, 6, 7, 50, 67, 98]) {
    it(`gemmColumns m=${m}: any column window, bitwise gemmPacked's columns (k 13 and 300), the rest untouched`, () => {
      for (const [n, k] of [[37, 13], [100, 300]]) {
        checkWindows('gemmColumns', m, n, k, (c, a, w, bias, j0, j1, accumulate) => core.gemmColumns(c, a, w, bias, m, n, k, accumulate, j0, j1));
      }
    });
  }
});
