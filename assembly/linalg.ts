// Dense helpers for backward passes: transpose, column sums, the weight gradient dW += dᵀ·x (the one path
// of every backward: Linear, recurrent, tree) and the Linear layer's backward. SIMD where rows allow, scalar
// tails of the same arithmetic.
// Scalar references: test/reference/linalg.ts.

import { gemmPacked, packWeightStrided } from './gemm';

/**
 * dst [cols, rows] = srcᵀ, src [rows, cols] with its rows `srcStride` floats apart (cols for a dense
 * matrix; wider to read a column block of a wider matrix in place). 4×4 blocks go through registers.
 */
export function transpose(dst: usize /* [cols, rows] */, src: usize /* [rows, srcStride] */, rows: i32, cols: i32, srcStride: i32): void {
  const rowBytes = <usize>srcStride << 2, dstRowBytes = <usize>rows << 2;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const at = src + <usize>r * rowBytes + (<usize>c << 2);
      const a = v128.load(at), b = v128.load(at + rowBytes), e = v128.load(at + 2 * rowBytes), f = v128.load(at + 3 * rowBytes);
      const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
      const ef01 = v128.shuffle<f32>(e, f, 0, 4, 1, 5), ef23 = v128.shuffle<f32>(e, f, 2, 6, 3, 7);
      const out = dst + <usize>c * dstRowBytes + (<usize>r << 2);
      v128.store(out, v128.shuffle<f32>(ab01, ef01, 0, 1, 4, 5));
      v128.store(out + dstRowBytes, v128.shuffle<f32>(ab01, ef01, 2, 3, 6, 7));
      v128.store(out + 2 * dstRowBytes, v128.shuffle<f32>(ab23, ef23, 0, 1, 4, 5));
      v128.store(out + 3 * dstRowBytes, v128.shuffle<f32>(ab23, ef23, 2, 3, 6, 7));
    }
    for (; c < cols; c++) {
      for (let i = 0; i < 4; i++) {
        store<f32>(dst + <usize>c * dstRowBytes + (<usize>(r + i) << 2), load<f32>(src + <usize>(r + i) * rowBytes + (<usize>c << 2)));
      }
    }
  }
  for (; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      store<f32>(dst + <usize>c * dstRowBytes + (<usize>r << 2), load<f32>(src + <usize>r * rowBytes + (<usize>c << 2)));
    }
  }
}

/** dst[j] += Σ_r src[r, j], src rows `stride` floats apart: rows stream through once, the sums stay in dst. */
export function accumulateColumnSums(dst: usize /* [cols] */, src: usize /* [rows, stride] */, rows: i32, cols: i32, stride: i32): void {
  const rowBytes = <usize>cols << 2, strideBytes = <usize>stride << 2;
  const vectorEnd = <usize>(cols & ~3) << 2;
  for (let r = 0; r < rows; r++) {
    const row = src + <usize>r * strideBytes;
    let at: usize = 0;
    for (; at < vectorEnd; at += 16) v128.store(dst + at, f32x4.add(v128.load(dst + at), v128.load(row + at)));
    for (; at < rowBytes; at += 4) store<f32>(dst + at, load<f32>(dst + at) + load<f32>(row + at));
  }
}

/**
 * gradient[out, in] += dᵀ · activations, for d [rows, out] with rows `dStride` floats apart and activations
 * [rows, in] with rows `activationStride` floats apart (dense: outSize and inSize; wider strides read a
 * column block of a wider matrix in place, as the gate gradients of the recurrent and tree backward passes).
 * d is transposed into `transposed` (outSize·rows floats) and activationsᵀ packed into `packed`
 * (packedSize(inSize, rows) floats), then one packed GEMM accumulates, its K axis the rows.
 */
export function accumulateWeightGradient(gradient: usize /* [out, in] */, d: usize /* [rows, dStride] */, dStride: i32,
                                         activations: usize /* [rows, activationStride] */, activationStride: i32,
                                         rows: i32, outSize: i32, inSize: i32, transposed: usize, packed: usize): void {
  transpose(transposed, d, rows, outSize, dStride);
  packWeightStrided(packed, activations, inSize, rows, 1, activationStride);
  gemmPacked(gradient, transposed, packed, 0, outSize, inSize, rows, true);
}

/**
 * Linear layer backward for y = x·Wᵀ + b: dW += dYᵀ·x, db += Σ dY (when gradBias ≠ 0), dX = dY·W (when
 * dX ≠ 0). Scratch: out·rows floats at `transposed`; max(packedSize(in, rows), packedSize(in, out)) at `packed`.
 */
export function linearBackward(dX: usize /* [rows, in] or 0 */, gradWeight: usize /* [out, in] */, gradBias: usize /* [out] or 0 */,
                               dY: usize /* [rows, out] */, x: usize /* [rows, in] */, weight: usize /* [out, in] */,
                               rows: i32, inSize: i32, outSize: i32, transposed: usize, packed: usize): void {
  accumulateWeightGradient(gradWeight, dY, outSize, x, inSize, rows, outSize, inSize, transposed, packed);
  if (gradBias != 0) accumulateColumnSums(gradBias, dY, rows, outSize, outSize);
  if (dX != 0) {
    packWeightStrided(packed, weight, inSize, outSize, 1, inSize);
    gemmPacked(dX, dY, packed, 0, rows, inSize, outSize, false);
  }
}
