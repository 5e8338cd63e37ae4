// GEMM on pre-packed weights: C[M, N] (+)= A[M, K] · Wᵀ (+ bias), W given as a PyTorch weight [N, K].
// SIMD hot path: a register-blocked micro-kernel (broadcast A, panels of W) over blocks of MR rows, and a
// matrix-vector kernel over the same panels (24 outputs at a time) for the rows left over, i.e. every row
// when M < MR (batch 1). Columns past N are computed on zero padding and stored lane by lane. gemmColumns and
// gemvColumns store a window of the output columns only (threads splitting C by columns), each with gemmPacked's bits.
// The block shape differs per build, because V8 gives Wasm 15 xmm registers and loads a loop's operands
// before its arithmetic, so accumulators + operands of one K step must fit in 15:
// - baseline (mul then add, which needs a temporary): 4×8, 8 accumulators + 2 panel vectors + 4 broadcasts;
// - relaxed (fused madd into the accumulator): 3×12, 9 accumulators + 3 + 3. The ninth chain covers the
//   fused multiply-add's latency with slack (Zen 4: 8 chains keep its two FMA pipes busy only with no
//   stall at all): 48–50 → 51–52 GFLOP/s on W2's shapes.
// Scalar reference: test/reference/gemm.ts.
//
// Packed layout: W cut into panels of NR output columns (8 baseline, 12 relaxed); panel p holds, for
// k = 0..K-1, the NR values W[p·NR + j, k] (j = 0..NR-1) contiguously, zero past N. ceil(N/NR)·NR·K floats.
// Biases handed to gemmPacked are zero-padded to ceil(N/NR)·NR floats (bindings: padToPanels).

import { madd } from './simd';

/** Output columns per panel: 12 (three vectors) in the relaxed build, 8 (two) in the baseline build. */
export const NR: i32 = ASC_FEATURE_RELAXED_SIMD ? 12 : 8;
/** Rows of A per micro-kernel block: 3 (relaxed), 4 (baseline). */
const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 3 : 4;
/** Where a split of A's rows between threads may cut (MR): each row then takes the micro-kernel it takes on one thread. */
export const ROW_ALIGN: i32 = MR;

/** The panel width NR of this build (the bindings pad biases to a multiple of it). */
export function panelWidth(): i32 {
  return NR;
}

/** Floats needed to pack a [n, k] weight: ceil(n/NR)·NR·k. */
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
        if (NR == 12) v128.store(out, v128.load(at, 32), 32);
      } else {
        for (let j = 0; j < NR; j++) {
          store<f32>(out + (<usize>j << 2), firstRow + j < n ? load<f32>(at + (<usize>(j * rowStride) << 2)) : 0);
        }
      }
      out += NR << 2;
    }
  }
}

// Staging for a partial panel: the micro-kernels store there, then the valid columns are copied out. Each
// thread of a threads build has its own (placeGemmScratch), off the static data a worker's instantiation rewrites.
let tailTile: usize = memory.data(NR * 4, 16);

/** Bytes of a thread's GEMM scratch; with `place`, moves this instance's there (assembly/threads.ts). */
export function placeGemmScratch(at: usize, place: bool): usize {
  if (place) tailTile = at;
  return 64;
}

/**
 * Writes the columns [first, end) of one row of NR results (v0, v1 and, when NR = 12, v2) to C, `c` and
 * `bias` at the panel's first column, adding C's old value and the bias when asked. A whole panel is stored
 * as vectors; part of one goes through the staging tile, lane by lane (the same sums: f32 addition commutes).
 */
@inline function storeRow(c: usize, v0: v128, v1: v128, v2: v128, bias: usize, accumulate: bool, first: i32, end: i32): void {
  if (bias != 0) {
    v0 = f32x4.add(v0, v128.load(bias));
    v1 = f32x4.add(v1, v128.load(bias, 16));
    if (NR == 12) v2 = f32x4.add(v2, v128.load(bias, 32));
  }
  if (first == 0 && end == NR) {
    if (accumulate) {
      v0 = f32x4.add(v0, v128.load(c));
      v1 = f32x4.add(v1, v128.load(c, 16));
      if (NR == 12) v2 = f32x4.add(v2, v128.load(c, 32));
    }
    v128.store(c, v0);
    v128.store(c, v1, 16);
    if (NR == 12) v128.store(c, v2, 32);
  } else {
    v128.store(tailTile, v0);
    v128.store(tailTile, v1, 16);
    if (NR == 12) v128.store(tailTile, v2, 32);
    for (let j = first; j < end; j++) {
      const value = load<f32>(tailTile + (<usize>j << 2));
      const at = c + (<usize>j << 2);
      store<f32>(at, accumulate ? load<f32>(at) + value : value);
    }
  }
}

/** Baseline build: 4 rows × one 8-wide panel, 8 accumulators held in registers across the whole K loop. */
@inline function kernel4x8(c: usize, ldc: i32, a: usize, lda: usize, k: i32, panel: usize, bias: usize, accumulate: bool, first: i32, end: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
  let b = panel;
  const aEnd = a + (<usize>k << 2);
  while (a0 < aEnd) {
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
  const unused = f32x4.splat(0);
  storeRow(c, c00, c01, unused, bias, accumulate, first, end);
  storeRow(c + ldcBytes, c10, c11, unused, bias, accumulate, first, end);
  storeRow(c + 2 * ldcBytes, c20, c21, unused, bias, accumulate, first, end);
  storeRow(c + 3 * ldcBytes, c30, c31, unused, bias, accumulate, first, end);
}

/**
 * Relaxed build: `rows` (3, or 2 for the rows left over) rows × one 12-wide panel, 3·rows accumulators in
 * registers across the whole K loop. `rows` is a constant at every call site, so the third row's code
 * folds away in the 2-row copy.
 */
@inline function kernel3x12(c: usize, ldc: i32, a: usize, lda: usize, k: i32, panel: usize, bias: usize, accumulate: bool,
                            first: i32, end: i32, rows: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c22 = f32x4.splat(0);
  let a0 = a, a1 = a + lda, a2 = a + 2 * lda;
  let b = panel;
  const aEnd = a + (<usize>k << 2);
  while (a0 < aEnd) {
    const b0 = v128.load(b), b1 = v128.load(b, 16), b2 = v128.load(b, 32);
    let s = v128.load32_splat(a0);
    c00 = madd(s, b0, c00); c01 = madd(s, b1, c01); c02 = madd(s, b2, c02);
    s = v128.load32_splat(a1);
    c10 = madd(s, b0, c10); c11 = madd(s, b1, c11); c12 = madd(s, b2, c12);
    if (rows == 3) {
      s = v128.load32_splat(a2);
      c20 = madd(s, b0, c20); c21 = madd(s, b1, c21); c22 = madd(s, b2, c22);
      a2 += 4;
    }
    a0 += 4; a1 += 4;
    b += NR << 2;
  }
  const ldcBytes = <usize>ldc << 2;
  storeRow(c, c00, c01, c02, bias, accumulate, first, end);
  storeRow(c + ldcBytes, c10, c11, c12, bias, accumulate, first, end);
  if (rows == 3) storeRow(c + 2 * ldcBytes, c20, c21, c22, bias, accumulate, first, end);
}

/** One panel's results (NR outputs) to C at output column `column`, adding the bias and C's old value when asked. */
@inline function storePanel(c: usize, column: i32, v0: v128, v1: v128, v2: v128, bias: usize, accumulate: bool, n: i32): void {
  const offset = <usize>column << 2;
  storeRow(c + offset, v0, v1, v2, bias == 0 ? <usize>0 : bias + offset, accumulate, 0, min(NR, n - column));
}

/**
 * One row of C: c[n] (+)= a[k] · Wᵀ (+ bias) from the 8-wide panels (baseline), three panels (24 outputs)
 * at a time: six accumulator chains cover the multiply-add latency and, with A's broadcast value and the
 * six panel vectors, fit in registers. The last one or two panels go together.
 */
function gemvPanels8(c: usize /* [n] */, a: usize /* [k] */, w: usize /* packed */, bias: usize, n: i32, k: i32, accumulate: bool): void {
  const panels = (n + NR - 1) / NR;
  const panelBytes = <usize>k * NR << 2;
  const aEnd = a + (<usize>k << 2);
  const unused = f32x4.splat(0);
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
    storePanel(c, p * NR, c00, c01, unused, bias, accumulate, n);
    storePanel(c, (p + 1) * NR, c10, c11, unused, bias, accumulate, n);
    storePanel(c, (p + 2) * NR, c20, c21, unused, bias, accumulate, n);
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
    storePanel(c, p * NR, c00, c01, unused, bias, accumulate, n);
    storePanel(c, (p + 1) * NR, c10, c11, unused, bias, accumulate, n);
  } else if (p + 1 == panels) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
    let w0 = w + <usize>p * panelBytes;
    for (let x = a; x < aEnd; x += 4) {
      const s = v128.load32_splat(x);
      c00 = madd(s, v128.load(w0), c00); c01 = madd(s, v128.load(w0, 16), c01);
      w0 += NR << 2;
    }
    storePanel(c, p * NR, c00, c01, unused, bias, accumulate, n);
  }
}

/**
 * The same row product over 12-wide panels (relaxed): two panels (24 outputs, six chains) at a time,
 * then the last panel alone.
 */
function gemvPanels12(c: usize /* [n] */, a: usize /* [k] */, w: usize /* packed */, bias: usize, n: i32, k: i32, accumulate: bool): void {
  const panels = (n + NR - 1) / NR;
  const panelBytes = <usize>k * NR << 2;
  const aEnd = a + (<usize>k << 2);
  let p = 0;
  for (; p + 2 <= panels; p += 2) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0);
    let w0 = w + <usize>p * panelBytes;
    let w1 = w0 + panelBytes;
    for (let x = a; x < aEnd; x += 4) {
      const s = v128.load32_splat(x);
      c00 = madd(s, v128.load(w0), c00); c01 = madd(s, v128.load(w0, 16), c01); c02 = madd(s, v128.load(w0, 32), c02);
      c10 = madd(s, v128.load(w1), c10); c11 = madd(s, v128.load(w1, 16), c11); c12 = madd(s, v128.load(w1, 32), c12);
      w0 += NR << 2; w1 += NR << 2;
    }
    storePanel(c, p * NR, c00, c01, c02, bias, accumulate, n);
    storePanel(c, (p + 1) * NR, c10, c11, c12, bias, accumulate, n);
  }
  if (p < panels) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0);
    let w0 = w + <usize>p * panelBytes;
    for (let x = a; x < aEnd; x += 4) {
      const s = v128.load32_splat(x);
      c00 = madd(s, v128.load(w0), c00); c01 = madd(s, v128.load(w0, 16), c01); c02 = madd(s, v128.load(w0, 32), c02);
      w0 += NR << 2;
    }
    storePanel(c, p * NR, c00, c01, c02, bias, accumulate, n);
  }
}

/** Stores a panel's NR results (column `column` on) to the columns of [j0, j1) they cover, adding its bias and C's old value when asked. */
@inline function storeColumns(c: usize, column: i32, v0: v128, v1: v128, v2: v128, bias: usize, accumulate: bool, j0: i32, j1: i32): void {
  const offset = <usize>column << 2;
  storeRow(c + offset, v0, v1, v2, bias == 0 ? <usize>0 : bias + offset, accumulate, max(j0 - column, 0), min(j1 - column, NR));
}

/**
 * The columns [j0, j1) of one row of C [n] (its other columns untouched): c (+)= a[k] · Wᵀ (+ bias), two panels
 * at a time. Every column is the same chain of multiply-adds as in gemvPanels8/12 (one lane each, in k order),
 * so a row split over column ranges between threads (batch 1: sequence.ts) is bitwise the whole-row product.
 */
export function gemvColumns(c: usize /* [n] */, a: usize /* [k] */, w: usize /* packed */, bias: usize /* [n padded] or 0 */, k: i32,
                            j0: i32, j1: i32, accumulate: bool): void {
  if (j1 <= j0) return;
  const panelBytes = <usize>k * NR << 2;
  const aEnd = a + (<usize>k << 2);
  const lastPanel = (j1 - 1) / NR;
  let p = j0 / NR;
  for (; p + 1 <= lastPanel; p += 2) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0);
    let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0);
    let w0 = w + <usize>p * panelBytes;
    let w1 = w0 + panelBytes;
    for (let x = a; x < aEnd; x += 4) {
      const s = v128.load32_splat(x);
      c00 = madd(s, v128.load(w0), c00); c01 = madd(s, v128.load(w0, 16), c01);
      c10 = madd(s, v128.load(w1), c10); c11 = madd(s, v128.load(w1, 16), c11);
      if (NR == 12) { c02 = madd(s, v128.load(w0, 32), c02); c12 = madd(s, v128.load(w1, 32), c12); }
      w0 += NR << 2; w1 += NR << 2;
    }
    storeColumns(c, p * NR, c00, c01, c02, bias, accumulate, j0, j1);
    storeColumns(c, (p + 1) * NR, c10, c11, c12, bias, accumulate, j0, j1);
  }
  if (p == lastPanel) {
    let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0);
    let w0 = w + <usize>p * panelBytes;
    for (let x = a; x < aEnd; x += 4) {
      const s = v128.load32_splat(x);
      c00 = madd(s, v128.load(w0), c00); c01 = madd(s, v128.load(w0, 16), c01);
      if (NR == 12) c02 = madd(s, v128.load(w0, 32), c02);
      w0 += NR << 2;
    }
    storeColumns(c, p * NR, c00, c01, c02, bias, accumulate, j0, j1);
  }
}

// Cache blocking: K in slices of K_BLOCK (an MR-row slice of A and a panel slice stay in L1), rows of A in
// blocks of ROW_BLOCK (the block's K slice stays in L2 while every panel slice streams past it).
const K_BLOCK: i32 = 256;
const ROW_BLOCK: i32 = 16 * MR;

/**
 * C[m, n] = A[m, k] · Wᵀ (+ bias[n]) (+ C when `accumulate`), with W packed by `packWeight`.
 * `bias` may be 0 (none); otherwise it holds ceil(n/NR)·NR floats (zero padded).
 */
export function gemmPacked(c: usize /* [m, n] */, a: usize /* [m, k] */, w: usize /* packWeight([n, k]) */, bias: usize /* [n padded] or 0 */,
                           m: i32, n: i32, k: i32, accumulate: bool): void {
  gemmWindow(c, a, w, bias, m, n, k, accumulate, 0, n, false);
}

/**
 * The columns [j0, j1) of gemmPacked(c, a, w, bias, m, n, k, accumulate), C full width (its other columns
 * untouched). Every column takes the micro-kernel, K slices and row blocks it takes in gemmPacked (a panel
 * straddling j0 or j1 is computed whole, only the window stored), so threads that split C's columns at any cut
 * write gemmPacked's bits (batch 1: each its hidden units' gate columns, sequence.ts).
 */
export function gemmColumns(c: usize /* [m, n] */, a: usize /* [m, k] */, w: usize /* packWeight([n, k]) */, bias: usize /* [n padded] or 0 */,
                            m: i32, n: i32, k: i32, accumulate: bool, j0: i32, j1: i32): void {
  if (j1 > j0) gemmWindow(c, a, w, bias, m, n, k, accumulate, j0, j1, true);
}

/** gemmPacked's loop over the panels covering [j0, j1) (`windowed`: store only those columns; else j0 = 0, j1 = n). */
@inline function gemmWindow(c: usize, a: usize, w: usize, bias: usize, m: i32, n: i32, k: i32, accumulate: bool, j0: i32, j1: i32,
                            windowed: bool): void {
  const firstPanel = j0 / NR, endPanel = (j1 + NR - 1) / NR;
  const panelBytes = <usize>k * NR << 2;
  const rowBytes = <usize>k << 2;
  const ldcBytes = <usize>n << 2;
  const tiledRows = m - m % MR;
  // Relaxed build: two rows left over take a 2-row block too (six chains, one pass over the weights).
  const pairRow = ASC_FEATURE_RELAXED_SIMD && m - tiledRows == 2 ? tiledRows : -1;
  // The pair goes with the last row block (a block of its own when m = 2).
  const rowBlocks = max((tiledRows + ROW_BLOCK - 1) / ROW_BLOCK, pairRow >= 0 ? 1 : 0);
  for (let kStart = 0; kStart < k; kStart += K_BLOCK) {
    const kCount = min(K_BLOCK, k - kStart);
    const firstSlice = kStart == 0;
    for (let block = 0; block < rowBlocks; block++) {
      const rowStart = block * ROW_BLOCK, rowEnd = min(rowStart + ROW_BLOCK, tiledRows);
      for (let p = firstPanel; p < endPanel; p++) {
        // The panel's columns to store: [first, end) of its NR.
        const first = windowed ? max(j0 - p * NR, 0) : 0, end = min(NR, j1 - p * NR);
        const panel = w + <usize>p * panelBytes + (<usize>kStart * NR << 2);
        const panelBias = bias == 0 || !firstSlice ? <usize>0 : bias + (<usize>(p * NR) << 2);
        const cColumn = c + (<usize>(p * NR) << 2);
        for (let row = rowStart; row < rowEnd; row += MR) {
          const cBlock = cColumn + <usize>row * ldcBytes, aBlock = a + <usize>row * rowBytes + (<usize>kStart << 2);
          if (ASC_FEATURE_RELAXED_SIMD) kernel3x12(cBlock, n, aBlock, rowBytes, kCount, panel, panelBias, accumulate || !firstSlice, first, end, 3);
          else kernel4x8(cBlock, n, aBlock, rowBytes, kCount, panel, panelBias, accumulate || !firstSlice, first, end);
        }
        if (ASC_FEATURE_RELAXED_SIMD && pairRow >= 0 && block == rowBlocks - 1) {
          kernel3x12(cColumn + <usize>pairRow * ldcBytes, n, a + <usize>pairRow * rowBytes + (<usize>kStart << 2), rowBytes, kCount,
                     panel, panelBias, accumulate || !firstSlice, first, end, 2);
        }
      }
    }
  }
  // Rows past the blocks (all rows when m < MR, bar a relaxed pair): the matrix-vector path.
  for (let row = pairRow >= 0 ? m : tiledRows; row < m; row++) {
    const cRow = c + <usize>row * ldcBytes, aRow = a + <usize>row * rowBytes;
    if (windowed) gemvColumns(cRow, aRow, w, bias, k, j0, j1, accumulate);
    else if (ASC_FEATURE_RELAXED_SIMD) gemvPanels12(cRow, aRow, w, bias, n, k, accumulate);
    else gemvPanels8(cRow, aRow, w, bias, n, k, accumulate);
  }
}
