// packWeight + gemmPacked against the float64 reference (test/reference/gemm.ts): every m, n, k in
// {1, 3, 5, 7, 17, 33}, larger shapes across the row blocks, with and without bias, overwrite and
// accumulate. The panel width and row block differ per build (assembly/gemm.ts): baseline 4×8 blocks,
// m % 4 rows on the matrix-vector path (three 8-wide panels at a time, then the last one or two);
// relaxed 3×12 blocks, two rows left over as a 2×12 block, one on the matrix-vector path (two 12-wide
// panels at a time, then the last one). These sizes reach every one of those paths in both builds.
// Bound: |diff| ≤ 1e-5·(1 + Σ_k |a·w|). Guard floats around C catch writes outside it.

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

  // gemvColumns: the columns [j0, j1) of a batch-1 row (what one thread takes of a step's gate rows: sequence.ts
  // recurrenceOverUnits) are bitwise the same columns of gemmPacked's matrix-vector row, accumulate or not, for
  // ranges that start and end inside panels, cover one column, or several panels; nothing outside is written.
  it('gemvColumns: any column range, bitwise gemmPacked\'s row (m = 1), within the reference', () => {
    for (const [n, k] of [[37, 13], [100, 64], [64, 300], [9, 1]]) {
      const random = seededRandom(n * 31 + k);
      const a = uniformArray(random, k), w = uniformArray(random, n * k), oldC = uniformArray(random, n);
      const { packed } = pack(w, n, k);
      const aPtr = writeF32(a);
      for (const accumulate of [false, true]) {
        const whole = allocF32(n, 0);
        new Float32Array(core.memory.buffer, whole, n).set(oldC);
        core.gemmPacked(whole, aPtr, packed, 0, 1, n, k, accumulate);
        const row = readF32(whole, n);
        const expected = accumulate ? Float64Array.from(oldC) : new Float64Array(n);
        gemm(expected, a, w, null, 1, n, k, accumulate);
        row.forEach((v, j) => expect(Math.abs(v - expected[j]), `n=${n} k=${k} column ${j}`).toBeLessThanOrEqual(1e-5 * (1 + k)));
        for (const [from, to] of [[0, n], [1, n - 1], [NR - 1, NR + 1], [Math.floor(n / 2), n], [3, 4], [0, 0]]) {
          const j1 = Math.min(to, n), j0 = Math.min(from, j1), width = j1 - j0;
          const block = allocF32(GUARD + width + GUARD, SENTINEL);
          new Float32Array(core.memory.buffer, block + 4 * GUARD, width).set(oldC.subarray(j0, j0 + width));
          core.gemvColumns(block + 4 * GUARD, aPtr, packed, k, j0, j1, accumulate);
          const result = readF32(block, GUARD + width + GUARD);
          const label = `n=${n} k=${k} columns [${j0}, ${j1}) accumulate=${accumulate}`;
          expect(Array.from(result.subarray(0, GUARD)), `${label}: guard before`).toEqual(new Array(GUARD).fill(SENTINEL));
          expect(Array.from(result.subarray(GUARD + width)), `${label}: guard after`).toEqual(new Array(GUARD).fill(SENTINEL));
          const bits = new Uint32Array(Float32Array.from(result.subarray(GUARD, GUARD + width)).buffer);
          expect(Array.from(bits), label).toEqual(Array.from(new Uint32Array(row.slice(j0, j0 + width).buffer)));
          free(block);
        }
        free(whole);
      }
      free(packed, aPtr);
    }
  });
});
