// accumulateWeightGradient (dW += dᵀ·X: d transposed, Xᵀ packed, one packed GEMM) and accumulateColumnSums
// (db += Σ rows of d) against the float64 references of test/reference/linalg.ts: the GEMM's tails (out not a
// multiple of its row block, in not a multiple of a panel, rows not a multiple of the transpose's 4), rows across
// its K slice (256) and out across its row block, row strides wider than the rows read (a column block of wider
// gate gradients, as assembly/tree.ts and assembly/sequence.ts read them), rows = 0, accumulation onto existing
// values. Bound: |diff| ≤ 1e-5·(1 + |old| + Σ_r |d·x|). Guard floats around dW, db and the two scratch buffers
// (sized as documented: transposed out·rows floats, packed packedSize(in, rows)) catch writes outside them.

import { describe, expect, it } from 'vitest';
import { expectClose } from '../helpers/compare.js';
import { allocF32, core, expectRequestedBuild, free, readF32, writeF32 } from '../helpers/kernels.js';
import { seededRandom, uniformArray } from '../helpers/random.js';
import { accumulateColumnSums, accumulateWeightGradient } from '../reference/linalg.js';

const SENTINEL = -321.5;
const GUARD = 8;

/** A heap block holding `values` between GUARD sentinel floats on each side. */
class Guarded {
  private readonly block: number;
  readonly ptr: number;

  constructor(private readonly values: Float32Array) {
    this.block = allocF32(GUARD + values.length + GUARD, SENTINEL);
    this.ptr = this.block + 4 * GUARD;
    new Float32Array(core.memory.buffer, this.ptr, values.length).set(values);
  }

  static scratch(count: number): Guarded {
    return new Guarded(new Float32Array(count).fill(SENTINEL));
  }

  /** The block's values now; fails if a guard float changed. Frees the block. */
  read(what: string): Float32Array {
    const all = readF32(this.block, GUARD + this.values.length + GUARD);
    free(this.block);
    const guards = [...all.subarray(0, GUARD), ...all.subarray(GUARD + this.values.length)];
    expect(guards, `guard floats around ${what}`).toEqual(new Array(2 * GUARD).fill(SENTINEL));
    return all.subarray(GUARD, GUARD + this.values.length);
  }
}

interface GradientCase {
  rows: number;
  outSize: number;
  inSize: number;
  /** Floats between rows of d (≥ offset + outSize) and of X (≥ inSize); dense when absent. */
  dStride?: number;
  activationStride?: number;
  /** First column of d read: the block starts `offset` floats into each row. */
  offset?: number;
}

function checkWeightGradient({ rows, outSize, inSize, dStride = outSize, activationStride = inSize, offset = 0 }: GradientCase): void {
  const label = `rows=${rows} out=${outSize} in=${inSize} dStride=${dStride} activationStride=${activationStride} offset=${offset}`;
  const random = seededRandom(rows * 7919 + outSize * 131 + inSize * 17 + dStride * 3 + activationStride + offset * 5);
  const d = uniformArray(random, rows * dStride);
  const x = uniformArray(random, rows * activationStride);
  const old = uniformArray(random, outSize * inSize);
  const dPtr = writeF32(d), xPtr = writeF32(x);
  const gradient = new Guarded(old);
  const transposed = Guarded.scratch(outSize * rows), packed = Guarded.scratch(core.packedSize(inSize, rows));
  core.accumulateWeightGradient(gradient.ptr, dPtr + 4 * offset, dStride, xPtr, activationStride, rows, outSize, inSize, transposed.ptr, packed.ptr);
  free(dPtr, xPtr);
  transposed.read(`the transposed scratch (${label})`);
  packed.read(`the packed scratch (${label})`);
  const result = gradient.read(`dW (${label})`);

  const block = d.subarray(offset);
  const expected = Float64Array.from(old);
  accumulateWeightGradient(expected, block, x, rows, outSize, inSize, dStride, activationStride);
  const magnitude = Float64Array.from(old, Math.abs);
  accumulateWeightGradient(magnitude, Float64Array.from(block, Math.abs), Float64Array.from(x, Math.abs), rows, outSize, inSize, dStride, activationStride);
  expectClose(`dW (${label})`, result, expected, (i) => 1e-5 * (1 + magnitude[i]));
}

describe(`weight gradients (${core.simdFlavor() ? 'relaxed' : 'baseline'} build)`, () => {
  it('runs the build named by LOOPTREE_SIMD', () => {
    expectRequestedBuild();
  });

  it('accumulateWeightGradient: out, in in {1, 3, 4, 5, 8, 9, 13, 17} (tails), rows in {1, 5, 33}, dense rows', () => {
    const sizes = [1, 3, 4, 5, 8, 9, 13, 17];
    for (const rows of [1, 5, 33]) for (const outSize of sizes) for (const inSize of sizes) checkWeightGradient({ rows, outSize, inSize });
  });

  it('accumulateWeightGradient: rows across the K slice, out across the row block, strided rows', () => {
    for (const [rows, outSize, inSize, dStride, activationStride] of [
      [256, 8, 8, 8, 8], [257, 12, 16, 40, 16], [300, 20, 33, 100, 35], [520, 70, 64, 165, 64], [130, 49, 70, 49, 141],
    ]) {
      checkWeightGradient({ rows, outSize, inSize, dStride, activationStride });
    }
  });

  // H = 17, X = 5, 41 rows (internal nodes, or steps × batch): the column blocks the backward passes read in place.
  const H = 17, X = 5, rows = 41;
  const inPlace: Record<string, GradientCase> = {
    'child-sum dU_iou (Σ h of the children)': { rows, outSize: 3 * H, inSize: H, dStride: 3 * H },
    'binary dW_f, the f_R block of [i o u f_L f_R]': { rows, outSize: H, inSize: X, dStride: 5 * H, offset: 4 * H },
    'binary dU_f, the f_L f_R block, from [h_L; h_R]': { rows, outSize: 2 * H, inSize: 2 * H, dStride: 5 * H, offset: 3 * H },
    'binary dU_iou, the i o u block': { rows, outSize: 3 * H, inSize: 2 * H, dStride: 5 * H },
    'GRU reset-before dW_hn, the n block of [r z n]': { rows, outSize: H, inSize: H, dStride: 3 * H, offset: 2 * H },
  };
  for (const [name, gradientCase] of Object.entries(inPlace)) {
    it(`accumulateWeightGradient in place: ${name}`, () => checkWeightGradient(gradientCase));
  }

  it('accumulateWeightGradient: rows = 0 leaves dW unchanged', () => {
    const old = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
    const gradient = new Guarded(old);
    core.accumulateWeightGradient(gradient.ptr, 0, 6, 0, 3, 0, 6, 3, 0, 0);
    expect(Array.from(gradient.read('dW'))).toEqual(Array.from(old));
  });

  it('accumulateColumnSums: n in {1, 3, 4, 7, 16, 33}, m in {1, 6, 200}, dense and strided rows', () => {
    for (const m of [1, 6, 200]) {
      for (const n of [1, 3, 4, 7, 16, 33]) {
        for (const stride of [n, n + 5]) {
          const random = seededRandom(m * 31 + n * 7 + stride);
          const dy = uniformArray(random, m * stride);
          const old = uniformArray(random, n);
          const db = new Guarded(old);
          const dyPtr = writeF32(dy);
          core.accumulateColumnSums(db.ptr, dyPtr, m, n, stride);
          free(dyPtr);
          const expected = Float64Array.from(old);
          accumulateColumnSums(expected, dy, m, n, stride);
          expectClose(`db (m=${m} n=${n} stride=${stride})`, db.read('db'), expected, 1e-5 * (1 + m));
        }
      }
    }
  });
});
