// scalar reference, used only by tests and bench/kernels.mjs: the dense backward helpers of assembly/linalg.ts
// in float64, built from the GEMM references where the kernels chain GEMMs (test/reference/gemm.ts,
// test/reference/gemm-backward.ts; accumulateColumnSums is there too).
// Shapes: rows of the batch, in / out the Linear layer's input and output widths.

import { gemm } from './gemm.js';
import { accumulateColumnSums, gemmTransposedAccumulate } from './gemm-backward.js';

/** srcᵀ [cols, rows] of a row-major src [rows, cols]. */
export function transpose(src: ArrayLike<number> /* [rows, cols] */, rows: number, cols: number): Float64Array {
  const dst = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
  return dst;
}

/** gradient[out, in] += dᵀ · activations, for d [rows, out] and activations [rows, in]. */
export function accumulateWeightGradient(gradient: Float64Array /* [out, in] */, d: ArrayLike<number>, activations: ArrayLike<number>,
                                         rows: number, outSize: number, inSize: number): void {
  gemmTransposedAccumulate(gradient, d, activations, rows, outSize, inSize, outSize, inSize);
}

/** Backward of y = x·Wᵀ + b: gradWeight += dYᵀ·x, gradBias += Σ_rows dY (when given), dX = dY·W (when given). */
export function linearBackward(dX: Float64Array | null /* [rows, in] */, gradWeight: Float64Array /* [out, in] */,
                               gradBias: Float64Array | null /* [out] */, dY: ArrayLike<number> /* [rows, out] */,
                               x: ArrayLike<number> /* [rows, in] */, weight: ArrayLike<number> /* [out, in] */,
                               rows: number, inSize: number, outSize: number): void {
  accumulateWeightGradient(gradWeight, dY, x, rows, outSize, inSize);
  if (gradBias) accumulateColumnSums(gradBias, dY, rows, outSize, outSize);
  if (dX) gemm(dX, dY, transpose(weight, outSize, inSize), null, rows, inSize, outSize, false);
}
