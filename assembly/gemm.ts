// GEMM on pre-packed weights: C[M, N] (+)= A[M, K] · Wᵀ (+ bias), W given as a PyTorch weight [N, K].
// SIMD hot path: 4×8 register-blocked micro-kernel; rows past a multiple of 4 take the matrix-vector path
// (1×8 with K unrolled by four); the last panel's columns past N are computed on zero padding and stored lane by lane.
// Scalar reference: test/reference/gemm.ts.
//
// Packed layout: W is cut into panels of NR = 8 output columns; panel p holds, for k = 0..K-1, the 8
// values W[p·8 + j, k] (j = 0..7) contiguously, zero past N. Size: ceil(N / 8) · 8 · K floats.

import { madd } from './simd';

export const NR: i32 = 8;

/** Floats needed to pack a [n, k] weight. */
export function packedSize(n: i32, k: i32): i32 {
  return ((n + NR - 1) / NR) * NR * k;
}

/** Packs a row-major PyTorch weight `src` [n, k] into panels (see the layout above). */
export function packPanels(dst: usize /* packed */, src: usize /* [n, k] */, n: i32, k: i32): void {
  const panels = (n + NR - 1) / NR;
  let out = dst;
  for (let p = 0; p < panels; p++) {
    for (let kk = 0; kk < k; kk++) {
      for (let j = 0; j < NR; j++) {
        const row = p * NR + j;
        store<f32>(out, row < n ? load<f32>(src + ((<usize>row * k + kk) << 2)) : 0);
        out += 4;
      }
    }
  }
}

// Staging for a partial panel: the micro-kernels store there, then the valid columns are copied out.
const tailTile = memory.data(4 * NR * 4, 16);

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
@inline function kernel4x8(c: usize, ldc: i32, a: usize, k: i32, panel: usize, bias: usize, accumulate: bool, columns: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const rowBytes = <usize>k << 2;
  let a0 = a, a1 = a + rowBytes, a2 = a + 2 * rowBytes, a3 = a + 3 * rowBytes;
  let b = panel;
  const end = a + rowBytes;
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

/**
 * 1 row × one panel, K unrolled by four into independent accumulators: enough chains in flight to hide
 * the madd latency on the matrix-vector path (batch 1), where every weight is used once per call.
 */
@inline function kernel1x8(c: usize, a: usize, k: i32, panel: usize, bias: usize, accumulate: bool, columns: i32): void {
  let lo0 = f32x4.splat(0), hi0 = f32x4.splat(0), lo1 = f32x4.splat(0), hi1 = f32x4.splat(0);
  let lo2 = f32x4.splat(0), hi2 = f32x4.splat(0), lo3 = f32x4.splat(0), hi3 = f32x4.splat(0);
  let b = panel;
  let at = a;
  const end4 = a + (<usize>(k & ~3) << 2);
  for (; at < end4; at += 16) {
    const s0 = v128.load32_splat(at);
    const s1 = v128.load32_splat(at, 4);
    const s2 = v128.load32_splat(at, 8);
    const s3 = v128.load32_splat(at, 12);
    lo0 = madd(s0, v128.load(b), lo0);
    hi0 = madd(s0, v128.load(b, 16), hi0);
    lo1 = madd(s1, v128.load(b, 32), lo1);
    hi1 = madd(s1, v128.load(b, 48), hi1);
    lo2 = madd(s2, v128.load(b, 64), lo2);
    hi2 = madd(s2, v128.load(b, 80), hi2);
    lo3 = madd(s3, v128.load(b, 96), lo3);
    hi3 = madd(s3, v128.load(b, 112), hi3);
    b += 4 * NR << 2;
  }
  const end = a + (<usize>k << 2);
  for (; at < end; at += 4) {
    const s0 = v128.load32_splat(at);
    lo0 = madd(s0, v128.load(b), lo0);
    hi0 = madd(s0, v128.load(b, 16), hi0);
    b += NR << 2;
  }
  const lo = f32x4.add(f32x4.add(lo0, lo1), f32x4.add(lo2, lo3));
  const hi = f32x4.add(f32x4.add(hi0, hi1), f32x4.add(hi2, hi3));
  storeRow(c, lo, hi, bias, accumulate, columns);
}

/** One row of C against every panel. */
function gemvPacked(c: usize, a: usize, w: usize, bias: usize, n: i32, k: i32, accumulate: bool): void {
  const panels = (n + NR - 1) / NR;
  const panelBytes = <usize>k * NR << 2;
  for (let p = 0; p < panels; p++) {
    const offset = <usize>(p * NR) << 2;
    kernel1x8(c + offset, a, k, w + <usize>p * panelBytes, bias == 0 ? <usize>0 : bias + offset, accumulate, min(NR, n - p * NR));
  }
}

// Rows of A per block: the block stays in L2 while every panel of W streams past it.
const ROW_BLOCK: i32 = 64;

/**
 * C[m, n] = A[m, k] · Wᵀ (+ bias[n]) (+ C when `accumulate`), with W packed by `packPanels`.
 * `bias` may be 0 (none) and must then hold ceil(n/8)·8 floats (zero padded).
 */
export function gemmPacked(c: usize /* [m, n] */, a: usize /* [m, k] */, w: usize /* packed [n, k] */, bias: usize /* [n8] or 0 */,
                           m: i32, n: i32, k: i32, accumulate: bool): void {
  const panels = (n + NR - 1) / NR;
  const panelBytes = <usize>k * NR << 2;
  const rowBytes = <usize>k << 2;
  const ldcBytes = <usize>n << 2;
  for (let rowStart = 0; rowStart < m; rowStart += ROW_BLOCK) {
    const rowEnd = min(rowStart + ROW_BLOCK, m);
    for (let p = 0; p < panels; p++) {
      const columns = min(NR, n - p * NR);
      const panel = w + <usize>p * panelBytes;
      const panelBias = bias == 0 ? <usize>0 : bias + (<usize>(p * NR) << 2);
      const cColumn = c + (<usize>(p * NR) << 2);
      for (let row = rowStart; row + 4 <= rowEnd; row += 4) {
        kernel4x8(cColumn + <usize>row * ldcBytes, n, a + <usize>row * rowBytes, k, panel, panelBias, accumulate, columns);
      }
    }
    // Rows past a multiple of 4 (all rows when m < 4): the matrix-vector path.
    for (let row = rowStart + ((rowEnd - rowStart) & ~3); row < rowEnd; row++) {
      gemvPacked(c + <usize>row * ldcBytes, a + <usize>row * rowBytes, w, bias, n, k, accumulate);
    }
  }
}
