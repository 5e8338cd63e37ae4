// scalar reference, used only by tests and bench/kernels.mjs: the dense backward helpers of assembly/linalg.ts
// in float64 plain loops (linearBackward's dX from the GEMM reference, test/reference/gemm.ts).
// Shapes: rows of the batch (summed over by the weight gradient), in / out the Linear layer's input and output
// widths; strides are in floats, dense (the row width) unless given.

import { gemm } from './gemm.js';

/** srcᵀ [cols, rows] of src [rows, cols] whose rows are `srcStride` floats apart. */
export function transpose(src: ArrayLike<number> /* [rows, srcStride] */, rows: number, cols: number, srcStride = cols): Float64Array {
  const dst = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * srcStride + c];
  return dst;
}

/** dst[j] += Σ_r src[r, j] for j < cols, src rows `stride` floats apart. */
export function accumulateColumnSums(dst: Float64Array /* [cols] */, src: ArrayLike<number>, rows: number, cols: number, stride: number): void {
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) dst[j] += src[r * stride + j];
}

/**
 * gradient[out, in] += dᵀ · activations, for d [rows, out] (rows `dStride` floats apart) and activations
 * [rows, in] (rows `activationStride` floats apart).
 */
export function accumulateWeightGradient(gradient: Float64Array /* [out, in] */, d: ArrayLike<number>, activations: ArrayLike<number>,
                                         rows: number, outSize: number, inSize: number, dStride = outSize, activationStride = inSize): void {
  for (let o = 0; o < outSize; o++) {
    for (let j = 0; j < inSize; j++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += d[r * dStride + o] * activations[r * activationStride + j];
      gradient[o * inSize + j] += sum;
    }
  }
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
