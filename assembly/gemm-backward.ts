// Weight-gradient GEMM of the tree backward passes: dW[n, k] += dYᵀ · X, reading row-strided inputs so that
// a column block of a wider gate-gradient matrix is used in place. (linalg.accumulateWeightGradient, which
// transposes and packs first, is faster on the long contiguous sequences of the recurrent backward.)
// SIMD hot path: a 4×8 register-blocked micro-kernel (4 rows of dW × 8 columns, accumulated over a block
// of M rows); the n % 4 rows and k % 8 columns left over take the scalar twin of the same sum.
// (dX = dY · W needs no kernel of its own: it is gemmPacked on the packed transpose of W.)
// Scalar reference: test/reference/gemm-backward.ts.
//
// Shapes: M rows summed over (nodes, or steps × batch), N rows of dW (the layer's outputs), K columns
// of dW (the layer's inputs). dY: [M, N] read with row stride ldy; X: [M, K] read with row stride ldx.

import { madd } from './simd';

// Rows of dY and X per block: one block's 4 columns of dY and 8 of X stay in L1 across the column loop.
const ROW_BLOCK: i32 = 128;

/** 4×8 block of dW (row stride k) += Σ over `rows` rows of dY[r, 0..3]ᵀ · X[r, 0..7]. */
@inline function kernel4x8(dw: usize, k: i32, dy: usize, ldy: i32, x: usize, ldx: i32, rows: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const dyStride = <usize>ldy << 2, xStride = <usize>ldx << 2;
  let a = dy, b = x;
  for (let r = 0; r < rows; r++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let s = v128.load32_splat(a);
    c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
    s = v128.load32_splat(a, 4);
    c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
    s = v128.load32_splat(a, 8);
    c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
    s = v128.load32_splat(a, 12);
    c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
    a += dyStride;
    b += xStride;
  }
  const rowBytes = <usize>k << 2;
  let out = dw;
  v128.store(out, f32x4.add(v128.load(out), c00)); v128.store(out, f32x4.add(v128.load(out, 16), c01), 16);
  out += rowBytes;
  v128.store(out, f32x4.add(v128.load(out), c10)); v128.store(out, f32x4.add(v128.load(out, 16), c11), 16);
  out += rowBytes;
  v128.store(out, f32x4.add(v128.load(out), c20)); v128.store(out, f32x4.add(v128.load(out, 16), c21), 16);
  out += rowBytes;
  v128.store(out, f32x4.add(v128.load(out), c30)); v128.store(out, f32x4.add(v128.load(out, 16), c31), 16);
}

/** The scalar twin: dW[o, j] += Σ_r dY[r, o] · X[r, j] for o in [rowStart, rowEnd), j in [columnStart, columnEnd). */
function blockScalar(dw: usize, k: i32, dy: usize, ldy: i32, x: usize, ldx: i32, rows: i32,
                     rowStart: i32, rowEnd: i32, columnStart: i32, columnEnd: i32): void {
  for (let o = rowStart; o < rowEnd; o++) {
    for (let j = columnStart; j < columnEnd; j++) {
      let sum: f32 = 0;
      for (let r = 0; r < rows; r++) {
        sum += load<f32>(dy + ((<usize>r * ldy + o) << 2)) * load<f32>(x + ((<usize>r * ldx + j) << 2));
      }
      const at = dw + ((<usize>o * k + j) << 2);
      store<f32>(at, load<f32>(at) + sum);
    }
  }
}

/** dW[n, k] += dY[m, n]ᵀ · X[m, k], with dY and X read at row strides ldy and ldx (floats). */
export function gemmTransposedAccumulate(dw: usize /* [n, k] */, dy: usize /* [m, ldy] */, x: usize /* [m, ldx] */,
                                         m: i32, n: i32, k: i32, ldy: i32, ldx: i32): void {
  const fullRows = n & ~3, fullColumns = k & ~7;
  for (let rowStart = 0; rowStart < m; rowStart += ROW_BLOCK) {
    const rows = min(ROW_BLOCK, m - rowStart);
    const dyBlock = dy + ((<usize>rowStart * ldy) << 2);
    const xBlock = x + ((<usize>rowStart * ldx) << 2);
    for (let o = 0; o < fullRows; o += 4) {
      for (let j = 0; j < fullColumns; j += 8) {
        kernel4x8(dw + ((<usize>o * k + j) << 2), k, dyBlock + (<usize>o << 2), ldy, xBlock + (<usize>j << 2), ldx, rows);
      }
      if (fullColumns < k) blockScalar(dw, k, dyBlock, ldy, xBlock, ldx, rows, o, o + 4, fullColumns, k);
    }
    if (fullRows < n) blockScalar(dw, k, dyBlock, ldy, xBlock, ldx, rows, fullRows, n, 0, k);
  }
}
