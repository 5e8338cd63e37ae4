// GEMM on pre-packed weights: C[M, N] (+)= A[M, K] · Wᵀ (+ bias), W given as a PyTorch weight [N, K].
// SIMD hot path: a 4×8 register-blocked micro-kernel (broadcast A, panels of W) for blocks of 4 rows,
// and a matrix-vector kernel over the same panels (three at a time) for the rows left over, i.e. every
// row when M < 4 (batch 1). Columns past N are computed on zero padding and stored lane by lane.
// Both kernels keep every operand in registers: V8 gives Wasm 15 xmm registers and loads a loop's
// operands before its multiply-adds, so 8 accumulators + 6 operands (4×8) and 6 + 7 (three panels) fit
// where wider blocks spill.
// Scalar reference: test/reference/gemm.ts.
//
// Packed layout: W cut into panels of NR = 8 output columns; panel p holds, for k = 0..K-1, the 8 values
// W[p·8 + j, k] (j = 0..7) contiguously, zero past N. ceil(N/8)·8·K floats.

import { madd } from './simd';

export const NR: i32 = 8;

/** Floats needed to pack a [n, k] weight: ceil(n/8)·8·k. */
export function packedSize(n: i32, k: i32): i32 {
  return ((n + NR - 1) / NR) * NR * k;
}

/** Packs a row-major PyTorch weight `src` [n, k] into panels (see the layout above). */
export function packWeight(dst: usize /* packedSize(n, k) */, src: usize /* [n, k] */, n: i32, k: i32): void {
  packWeightStrided(dst, src, n, k, k, 1);
}

/**
 * Packs the [n, k] matrix whose element (r, c) is src[r·rowStride + c·colStride] (floats): with
 * (rowStride, colStride) = (1, n) this packs the transpose of a row-major [k, n] matrix.
 */
export function packWeightStrided(dst: usize, src: usize, n: i32, k: i32, rowStride: i32, colStride: i32): void {
  const panels = (n + NR - 1) / NR;
  let out = dst;
  for (let p = 0; p < panels; p++) {
    const firstRow = p * NR;
    const fullContiguous = rowStride == 1 && firstRow + NR <= n;
    for (let kk = 0; kk < k; kk++) {
      const at = src + ((<usize>firstRow * rowStride + <usize>kk * colStride) << 2);
      if (fullContiguous) {
        v128.store(out, v128.load(at));
        v128.store(out, v128.load(at, 16), 16);
      } else {
        for (let j = 0; j < NR; j++) {
          store<f32>(out + (<usize>j << 2), firstRow + j < n ? load<f32>(at + (<usize>(j * rowStride) << 2)) : 0);
        }
      }
      out += NR << 2;
    }
  }
}

// Staging for a partial panel: the micro-kernels store there, then the valid columns are copied out.
const tailTile = memory.data(NR * 4, 16);

/** Writes one row of 8 results (lo, hi) to C, adding C's old value and the bias when asked. */
@inline function storeRow(c: usize, lo: v128, hi: v128, bias: usize, accumulate: bool, columns: i32): void {
  if (bias != 0) {
    lo = f32x4.add(lo, v128.load(bias));
    hi = f32x4.add(hi, v128.load(bias, 16));
  }
  if (columns == NR) {
    if (accumulate) {
      lo = f32x4.add(lo, v128.load(c));
      hi = f32x4.add(hi, v128.load(c, 16));
    }
    v128.store(c, lo);
    v128.store(c, hi, 16);
  } else {
    v128.store(tailTile, lo);
    v128.store(tailTile, hi, 16);
    for (let j = 0; j < columns; j++) {
      const value = load<f32>(tailTile + (<usize>j << 2));
      const at = c + (<usize>j << 2);
      store<f32>(at, accumulate ? load<f32>(at) + value : value);
    }
  }
}

/** 4 rows × one panel: 8 accumulators held in registers across the whole K loop. */
@inline function kernel4x8(c: usize, ldc: i32, a: usize, lda: usize, k: i32, panel: usize, bias: usize, accumulate: bool, columns: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
  let b = panel;
  const end = a + (<usize>k << 2);
  while (a0 < end) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let s = v128.load32_splat(a0);
    c00 = madd(s, b0, c00); c01 = madd(s, b1, c01);
    s = v128.load32_splat(a1);
    c10 = madd(s, b0, c10); c11 = madd(s, b1, c11);
    s = v128.load32_splat(a2);
    c20 = madd(s, b0, c20); c21 = madd(s, b1, c21);
    s = v128.load32_splat(a3);
    c30 = madd(s, b0, c30); c31 = madd(s, b1, c31);
    a0 += 4; a1 += 4; a2 += 4; a3 += 4;
    b += NR << 2;
  }
  const ldcBytes = <usize>ldc << 2;
  storeRow(c, c00, c01, bias, accumulate, columns);
  storeRow(c + ldcBytes, c10, c11, bias, accumulate, columns);
  storeRow(c + 2 * ldcBytes, c20, c21, bias, accumulate, columns);
  storeRow(c + 3 * ldcBytes, c30, c31, bias, accumulate, columns);
}

/** Two accumulators (8 outputs) to C at output column `column`, adding the bias and C's old value when asked. */
@inline function storePanel(c: usize, column: i32, lo: v128, hi: v128, bias: usize, accumulate: bool, n: i32): void {
  const offset = <usize>column << 2;
  storeRow(c + offset, lo, hi, bias == 0 ? <usize>0 : bias + offset, accumulate, min(NR, n - column));
}

/**
 * One row of C: c[n] (+)= a[k] · Wᵀ (+ bias) from the panels, three panels (24 outputs) at a time: six
 * accumulator chains cover the multiply-add latency and, with A's broadcast value and the six panel
 * vectors, fit in registers. The last one or two panels go together.
 */
function gemvPanels(c: usize /* [n] */, a: usize /* [k] */, w: usize /* packed */, bias: usize, n: i32, k: i32, accumulate: bool): void {
  const panels = (n + NR - 1) / NR;
  const panelBytes = <usize>k * NR << 2;
  const aEnd = a + (<usize>k << 2);
  let p = 0;
  for (; p + 3 <= panels; p += 3) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
    let w0 = w + <usize>p * panelBytes;
    let w1 = w0 + panelBytes, w2 = w1 + panelBytes;
    for (let x = a; x < aEnd; x += 4) {
      const s = v128.load32_splat(x);
      c00 = madd(s, v128.load(w0), c00); c01 = madd(s, v128.load(w0, 16), c01);
      c10 = madd(s, v128.load(w1), c10); c11 = madd(s, v128.load(w1, 16), c11);
      c20 = madd(s, v128.load(w2), c20); c21 = madd(s, v128.load(w2, 16), c21);
      w0 += NR << 2; w1 += NR << 2; w2 += NR << 2;
    }
    storePanel(c, p * NR, c00, c01, bias, accumulate, n);
    storePanel(c, (p + 1) * NR, c10, c11, bias, accumulate, n);
    storePanel(c, (p + 2) * NR, c20, c21, bias, accumulate, n);
  }
  if (p + 2 == panels) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
    let w0 = w + <usize>p * panelBytes;
    let w1 = w0 + panelBytes;
    for (let x = a; x < aEnd; x += 4) {
      const s = v128.load32_splat(x);
      c00 = madd(s, v128.load(w0), c00); c01 = madd(s, v128.load(w0, 16), c01);
      c10 = madd(s, v128.load(w1), c10); c11 = madd(s, v128.load(w1, 16), c11);
      w0 += NR << 2; w1 += NR << 2;
    }
    storePanel(c, p * NR, c00, c01, bias, accumulate, n);
    storePanel(c, (p + 1) * NR, c10, c11, bias, accumulate, n);
  } else if (p + 1 == panels) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let w0 = w + <usize>p * panelBytes;
    for (let x = a; x < aEnd; x += 4) {
      const s = v128.load32_splat(x);
      c00 = madd(s, v128.load(w0), c00); c01 = madd(s, v128.load(w0, 16), c01);
      w0 += NR << 2;
    }
    storePanel(c, p * NR, c00, c01, bias, accumulate, n);
  }
}

// Cache blocking: K in slices of K_BLOCK (a 4-row slice of A and a panel slice stay in L1), rows of A in
// blocks of ROW_BLOCK (the block's K slice stays in L2 while every panel slice streams past it).
const K_BLOCK: i32 = 256;
const ROW_BLOCK: i32 = 64;

/**
 * C[m, n] = A[m, k] · Wᵀ (+ bias[n]) (+ C when `accumulate`), with W packed by `packWeight`.
 * `bias` may be 0 (none); otherwise it holds ceil(n/8)·8 floats (zero padded).
 */
export function gemmPacked(c: usize /* [m, n] */, a: usize /* [m, k] */, w: usize /* packWeight([n, k]) */, bias: usize /* [n8] or 0 */,
                           m: i32, n: i32, k: i32, accumulate: bool): void {
  const panels = (n + NR - 1) / NR;
  const panelBytes = <usize>k * NR << 2;
  const rowBytes = <usize>k << 2;
  const ldcBytes = <usize>n << 2;
  const tiledRows = m & ~3;
  for (let kStart = 0; kStart < k; kStart += K_BLOCK) {
    const kCount = min(K_BLOCK, k - kStart);
    const first = kStart == 0;
    for (let rowStart = 0; rowStart < tiledRows; rowStart += ROW_BLOCK) {
      const rowEnd = min(rowStart + ROW_BLOCK, tiledRows);
      for (let p = 0; p < panels; p++) {
        const columns = min(NR, n - p * NR);
        const panel = w + <usize>p * panelBytes + (<usize>kStart * NR << 2);
        const panelBias = bias == 0 || !first ? <usize>0 : bias + (<usize>(p * NR) << 2);
        const cColumn = c + (<usize>(p * NR) << 2);
        for (let row = rowStart; row < rowEnd; row += 4) {
          kernel4x8(cColumn + <usize>row * ldcBytes, n, a + <usize>row * rowBytes + (<usize>kStart << 2), rowBytes, kCount,
                    panel, panelBias, accumulate || !first, columns);
        }
      }
    }
  }
  // Rows past a multiple of 4 (all rows when m < 4): the matrix-vector path.
  for (let row = tiledRows; row < m; row++) {
    gemvPanels(c + <usize>row * ldcBytes, a + <usize>row * rowBytes, w, bias, n, k, accumulate);
  }
}
